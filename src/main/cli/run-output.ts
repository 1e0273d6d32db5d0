// How the CLI shows training runs: metric summaries, the JSON record of a run, progress lines
// on stderr, and running one run in the foreground (train, sweep, demo and the scripts).
import type { Metrics, RunSummary, TrainEvent } from '../../shared/types.ts';
import { launchRun } from '../train/runner.ts';

export function formatMetrics(m: Metrics | null, keys = ['recall@20', 'recall@50', 'hitrate@50', 'ndcg@50']): string {
  if (!m) return '-';
  return keys.filter((k) => k in m).map((k) => `${k} ${m[k].toFixed(4)}`).join('  ');
}

export function runJson(run: RunSummary): Record<string, unknown> {
  return {
    run: run.id,
    dataset: run.datasetName,
    model: run.model,
    label: run.label,
    interests: run.interests,
    seed: run.seed,
    status: run.status,
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

/** Writes training progress to stderr: one line per event, rewritten in place on a TTY. */
export function progressPrinter(): (e: TrainEvent) => void {
  const tty = process.stderr.isTTY;
  return (e) => {
    let line: string | undefined;
    if (e.type === 'started') line = `run ${e.runId}: backend ${e.backend} (${e.device})${e.resumedFrom !== null ? `, resumed from step ${e.resumedFrom}` : ''}`;
    if (e.type === 'progress') {
      const losses = Object.entries(e.losses).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
      const eta = e.etaSeconds !== null ? ` eta<=${Math.round(e.etaSeconds)}s` : '';
      const text = `step ${e.step}${e.stage ? ` [${e.stage}]` : ''} ${losses} ${e.stepsPerSecond.toFixed(2)} steps/s${eta}`;
      if (tty) process.stderr.write(`\r\x1b[K${text}`);
      else line = text;
    }
    if (e.type === 'validation') line = `${tty ? '\r\x1b[K' : ''}valid @${e.step}: ${formatMetrics(e.metrics)}${e.best ? '  (best)' : ''}`;
    if (e.type === 'finished') line = `${tty ? '\r\x1b[K' : ''}run ${e.runId} ${e.status}${e.test ? `: test ${formatMetrics(e.test)}` : ''}${e.error ? `: ${e.error}` : ''}`;
    if (line !== undefined) process.stderr.write(line + '\n');
  };
}

/** Launches a run, forwards Ctrl-C as a cancel, and waits for it. */
export async function runWithProgress(dbPath: string, runId: number, quiet = false): Promise<RunSummary> {
  const handle = launchRun(dbPath, runId, quiet ? () => {} : progressPrinter());
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
