import { isOneOf } from '../../../shared/one-of.ts';
import { SPLIT_KINDS, type Metrics, type RunSummary, type TrainEvent } from '../../../shared/types.ts';
import { getModel, modelInfos } from '../../models/registry.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { requireRun } from '../../store/runs.ts';
import { launchRun, markInterrupted, prepareRun } from '../../train/runner.ts';
import { JSON_OPTION, configFromSettings, parseCommand, printHelp, withDb } from '../options.ts';

export const summary = 'train a model on a dataset (or --resume a run) and evaluate it on the test day';

const HELP = `usage: cmi-studio train --dataset NAME --model MODEL [--interests N] [--set key=value ...]
                        [--seed S] [--max-steps N] [--split day|time-quantile|leave-last-out]
                        [--db PATH] [--json]
       cmi-studio train --resume RUN [--db PATH] [--json]
Progress goes to stderr; --json prints one JSON object on stdout when the run ends.`;

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

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    dataset: { type: 'string' },
    model: { type: 'string' },
    interests: { type: 'string' },
    set: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'max-steps': { type: 'string' },
    split: { type: 'string' },
    resume: { type: 'string' },
    ...JSON_OPTION,
  });
  if (values.help) {
    const info = modelInfos().find((m) => m.name === (values.model ?? 'cmi'));
    const keys = info ? info.fields.map((f) => `  ${f.key.padEnd(16)} ${String(f.default).padEnd(10)} ${f.label}`).join('\n') : '';
    return printHelp(`${HELP}\n\nmodels: ${modelInfos().map((m) => m.name).join(', ')}\n\nconfig keys of ${info?.name} (--set key=value), with defaults:\n${keys}`);
  }
  const dbPath = resolveDbPath(values.db);
  const runId = withDb(dbPath, (db) => {
    markInterrupted(db);
    if (values.resume !== undefined) {
      const id = Number(values.resume);
      if (!Number.isInteger(id)) throw new Error(`--resume expects a run id, got '${values.resume}'`);
      requireRun(db, id);
      return id;
    }
    if (!values.dataset || !values.model) throw new Error(`--dataset and --model are required\n${HELP}`);
    const dataset = getDataset(db, values.dataset);
    if (!dataset) throw new Error(`no dataset named '${values.dataset}' (see \`cmi-studio datasets\`)`);
    const def = getModel(values.model);
    const config = configFromSettings(def, values.set);
    if (values.interests !== undefined) config.interests = Number(values.interests);
    if (values['max-steps'] !== undefined) config.maxSteps = Number(values['max-steps']);
    const seed = values.seed !== undefined ? Number(values.seed) : 42;
    if (!Number.isInteger(seed)) throw new Error(`--seed expects an integer, got '${values.seed}'`);
    const kind = values.split;
    if (kind !== undefined && !isOneOf(SPLIT_KINDS, kind)) throw new Error(`--split must be ${SPLIT_KINDS.join(', ')}`);
    return prepareRun(db, { datasetId: dataset.id, model: def.name, config, seed, split: kind ? { kind } : undefined });
  });
  const result = await runWithProgress(dbPath, runId);
  if (values.json) process.stdout.write(JSON.stringify(runJson(result)) + '\n');
  return result.status === 'done' ? 0 : 1;
}
