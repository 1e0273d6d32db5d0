// Imports started by a host, each under the job id its caller chose: progress is tagged with it
// and cancelJob aborts it (the store is left as it was).
import type { ImportProgress, ImportRequest, ImportResult } from '../../shared/types.ts';
import type { Db } from '../store/db.ts';
import { importDataset } from './index.ts';

export class ImportJobs {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly db: Db,
    private readonly onProgress: (jobId: string, progress: ImportProgress) => void,
  ) {}

  async run(req: ImportRequest, jobId: string): Promise<ImportResult> {
    if (this.running.has(jobId)) throw new Error(`job ${jobId} is already running`);
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      return await importDataset(this.db, req, { signal: controller.signal, onProgress: (p) => this.onProgress(jobId, p) });
    } finally {
      this.running.delete(jobId);
    }
  }

  /** A no-op when the job already ended. */
  cancel(jobId: string): void {
    this.running.get(jobId)?.abort();
  }

  cancelAll(): void {
    for (const job of this.running.values()) job.abort();
  }
}
