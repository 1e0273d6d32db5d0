// How the CLI shows training runs: the JSON record of a run, and running one run in the
// foreground with its progress on stderr (train, and the scripts). Progress lines themselves
// are cli/progress.ts's.
import type { RunSummary } from '../../shared/types.ts';
import { launchRun } from '../train/runner.ts';
import { trainProgress } from './progress.ts';

export { formatMetrics } from './progress.ts';

export function runJson(run: RunSummary): Record<string, unknown> {
  return {
    run: run.id,
    dataset: run.datasetName,
    model: run.model,
    label: run.label,
    interests: run.interests,
    seed: run.seed,
    group: run.group,
    tags: run.tags,
    note: run.note,
    status: run.status,
    stopped: run.stopped,
    backend: run.backend,
    device: run.device,
    steps: run.steps,
    bestStep: run.bestStep,
    seconds: run.seconds,
    valid: run.valid,
    test: run.test,
    ...(run.error ? { error: run.error } : {}),
  };
}

/** Launches a run, forwards Ctrl-C as a cancel, and waits for it. */
export async function runWithProgress(dbPath: string, runId: number, quiet = false): Promise<RunSummary> {
  const handle = launchRun(dbPath, runId, quiet ? () => {} : trainProgress());
  const onSigint = () => {
    process.stderr.write('\ncancelling (checkpointing; resume with --resume)...\n');
    handle.cancel();
  };
  process.on('SIGINT', onSigint);
  try {
    return await handle.done;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
