// Entry of the training worker process: `worker.ts DB_PATH RUN_ID`. Training never runs on
// the main thread; the parent (runner.ts) receives TrainEvents over the IPC channel and may
// send { type: 'cancel' }; SIGTERM asks the same from another process (`runs --cancel-set`).
// Killing this process is safe: the run resumes from its last checkpoint.
// A parent that dies (a SIGKILLed CLI, a crashed host) closes the channel: the worker then
// checkpoints and leaves at once, and the run reads as interrupted, ready to resume.
import type { TrainEvent } from '../../shared/types.ts';
import { writeWhenFree } from '../store/busy.ts';
import { openDb } from '../store/db.ts';
import { updateRun } from '../store/runs.ts';
import { describeTrainingError } from './errors.ts';
import { trainRun } from './loop.ts';

const [dbPath, runArg] = process.argv.slice(2);
const runId = Number(runArg);
let cancelRequested = false;
let orphaned = false;

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'cancel') cancelRequested = true;
});
process.on('disconnect', () => {
  orphaned = true;
});
// The IPC channel's own errors (a write into a pipe whose reader just died) mean the same.
process.on('error', () => {
  orphaned = true;
});
process.on('SIGTERM', () => (cancelRequested = true));

function emit(e: TrainEvent): void {
  if (!process.send) process.stdout.write(JSON.stringify(e) + '\n');
  // With a callback, a send into a channel that just broke reports here instead of as an
  // uncaught 'error' that would kill the worker before it checkpoints.
  else if (process.connected) process.send(e, undefined, {}, (err) => void (err && (orphaned = true)));
}

async function main(): Promise<number> {
  if (!dbPath || !Number.isInteger(runId)) {
    process.stderr.write('usage: worker.ts DB_PATH RUN_ID\n');
    return 2;
  }
  const db = openDb(dbPath);
  try {
    const status = await trainRun(db, runId, { onEvent: emit, shouldStop: () => cancelRequested || orphaned });
    if (status === 'cancelled' && orphaned && !cancelRequested) {
      await writeWhenFree(db, () => updateRun(db, runId, { status: 'interrupted', pid: null, error: 'the process that started the run exited' }));
    }
    return 0;
  } catch (err) {
    const message = describeTrainingError(err);
    const stack = err instanceof Error && err.stack ? `\n${err.stack}` : '';
    await writeWhenFree(db, () => updateRun(db, runId, { status: 'failed', stopped: 'failed', error: message + stack, pid: null }));
    emit({ type: 'finished', runId, status: 'failed', test: null, error: message });
    return 1;
  } finally {
    db.close();
  }
}

process.exitCode = await main();
// Let the last IPC message flush, then leave even if a backend keeps handles open.
if (process.connected) process.disconnect();
else if (orphaned) process.exit();
