// Training as the hosts see it: launch a set, cancel, resume or re-run a run, and act on whole
// sets, all through the one training queue (queue.ts). The runner and the set launcher pull in
// the models and TF.js, so they are loaded when first needed, not at launch.
import type { TrainingQueueState, TrainRequest } from '../../shared/api.ts';
import type { RunSummary, TrainEvent } from '../../shared/types.ts';
import type { Db } from '../store/db.ts';
import { requireModelAction } from '../../shared/run-actions.ts';
import { requireRun } from '../store/runs.ts';
import { getSplitSummary } from '../store/splits.ts';
import { parseConcurrency, TrainingQueue } from './queue.ts';

export interface TrainingServiceOptions {
  dbPath: string;
  db: Db;
  emit: (event: TrainEvent) => void;
  /** A bundled training-worker entry (the Electron build); the TypeScript one through tsx otherwise. */
  workerEntry?: string;
  /** Runs trained at once, 1 or 2; CMI_STUDIO_CONCURRENCY, else 2. */
  concurrency?: number;
}

export class TrainingService {
  private readonly queue: TrainingQueue;

  constructor(private readonly opts: TrainingServiceOptions) {
    this.queue = new TrainingQueue({
      dbPath: opts.dbPath,
      db: opts.db,
      loadLauncher: async () => (await this.runner()).launchRun,
      emit: opts.emit,
      concurrency: parseConcurrency(opts.concurrency ?? process.env.CMI_STUDIO_CONCURRENCY, 'the training concurrency'),
    });
  }

  private async runner(): Promise<typeof import('./runner.ts')> {
    const runner = await import('./runner.ts');
    if (this.opts.workerEntry) runner.setWorkerEntry(this.opts.workerEntry);
    return runner;
  }

  /** Prepares the set's runs (a bad setting fails the request before anything trains) and queues them. */
  async start(req: TrainRequest): Promise<RunSummary[]> {
    const { prepareSet } = await import('./sets.ts');
    const ids = await prepareSet(this.opts.db, req);
    this.queue.enqueue(ids);
    return ids.map((id) => requireRun(this.opts.db, id));
  }

  cancel(runId: number): void {
    this.queue.cancel(requireRun(this.opts.db, runId).id);
  }

  resume(runId: number): void {
    const run = requireRun(this.opts.db, runId);
    requireModelAction(run, 'resume');
    if (this.queue.has(run.id)) throw new Error(`run ${run.id} is already ${run.status}`);
    if (run.status === 'done') throw new Error(`run ${run.id} is done; re-run it instead`);
    this.queue.enqueue([run.id]);
  }

  /** A new run with the same model, config, seed, split and group. */
  async rerun(runId: number): Promise<RunSummary> {
    const { db } = this.opts;
    const run = requireRun(db, runId);
    requireModelAction(run, 'rerun');
    const { prepareRuns } = await this.runner();
    const [id] = await prepareRuns(db, [
      {
        datasetId: run.datasetId,
        model: run.model,
        config: run.config,
        seed: run.seed,
        split: getSplitSummary(db, run.splitId).params,
        ...(run.group !== null ? { group: run.group } : {}),
        label: run.label,
      },
    ]);
    this.queue.enqueue([id]);
    return requireRun(db, id);
  }

  state(): TrainingQueueState {
    return this.queue.state();
  }

  cancelSet(group: string): number[] {
    return this.queue.cancelSet(group);
  }

  resumeSet(group: string): number[] {
    return this.queue.resumeSet(group);
  }

  deleteSet(group: string): number[] {
    return this.queue.deleteSet(group);
  }

  /** The host is closing: queued runs are cancelled, running ones checkpoint. */
  stop(): void {
    this.queue.stop();
  }
}
