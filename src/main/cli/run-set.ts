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
  /** The runs about to train, once queued. */
  onQueued?: (ids: number[]) => void;
}

/** Trains the runs (given, or chosen by the queue, e.g. `q => q.resumeSet(group)`) and returns
 *  them as stored at the end, in the order queued. */
export async function runSet(dbPath: string, runs: number[] | ((queue: TrainingQueue) => number[]), opts: RunSetOptions): Promise<RunSummary[]> {
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
    let ids: number[];
    if (typeof runs === 'function') ids = runs(queue);
    else queue.enqueue((ids = runs));
    opts.onQueued?.(ids);
    await queue.idle();
    return ids.map((id) => requireRun(db, id));
  } finally {
    process.off('SIGINT', onSigint);
    db.close();
  }
}
