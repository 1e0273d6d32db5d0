// Runs a list of queued runs through the shared training queue (train/queue.ts) in the
// foreground: progress on stderr, Ctrl-C cancels them all at a checkpoint. Sweeps, the demo
// and `runs --resume-set` use it, so they train two runs at once as the UI does.
import type { RunSummary, TrainEvent } from '../../shared/types.ts';
import { openDb } from '../store/db.ts';
import { requireRun } from '../store/runs.ts';
import { launchRun } from '../train/runner.ts';
import { TrainingQueue } from '../train/queue.ts';
import { trainProgress } from './progress.ts';

export interface RunSetOptions {
  concurrency: number;
  /** No per-step progress (the demo prints one line per finished run instead). */
  quiet?: boolean;
  onSettled?: (run: RunSummary, queue: TrainingQueue) => void;
}

/** Trains the runs and returns them as stored at the end, in the order given. */
export async function runSet(dbPath: string, ids: number[], opts: RunSetOptions): Promise<RunSummary[]> {
  const db = openDb(dbPath);
  const print: (e: TrainEvent) => void = opts.quiet ? () => {} : trainProgress();
  const queue: TrainingQueue = new TrainingQueue({
    dbPath,
    db,
    loadLauncher: async () => launchRun,
    emit: print,
    concurrency: opts.concurrency,
    onSettled: (run) => opts.onSettled?.(run, queue),
  });
  const onSigint = () => {
    process.stderr.write('\ncancelling the set (checkpointing; resume with `runs --resume-set GROUP`)...\n');
    queue.stop();
  };
  process.on('SIGINT', onSigint);
  try {
    queue.enqueue(ids);
    await queue.idle();
    return ids.map((id) => requireRun(db, id));
  } finally {
    process.off('SIGINT', onSigint);
    db.close();
  }
}
