import { isOneOf } from '../../../shared/one-of.ts';
import { requireModelAction } from '../../../shared/run-actions.ts';
import { SPLIT_KINDS } from '../../../shared/types.ts';
import { getModel, modelInfos } from '../../models/registry.ts';
import { DEFAULT_SEED } from '../../../shared/defaults.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { requireRun } from '../../store/runs.ts';
import { markInterrupted, prepareRuns, type RunRequest } from '../../train/runner.ts';
import { JSON_OPTION, configFromSettings, parseCommand, printHelp, waitingNote, withDb } from '../options.ts';
import { runJson, runWithProgress } from '../run-output.ts';

const HELP = `usage: cmi-studio train --dataset NAME --model MODEL [--interests N] [--set key=value ...]
                        [--seed S] [--max-steps N] [--split day|time-quantile|leave-last-out]
                        [--db PATH] [--json]
       cmi-studio train --resume RUN [--db PATH] [--json]
Progress goes to stderr; --json prints one JSON object on stdout when the run ends.`;

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
  const request = withDb(dbPath, (db): number | RunRequest => {
    markInterrupted(db);
    if (values.resume !== undefined) {
      const id = Number(values.resume);
      if (!Number.isInteger(id)) throw new Error(`--resume expects a run id, got '${values.resume}'`);
      requireModelAction(requireRun(db, id), 'resume');
      return id;
    }
    if (!values.dataset || !values.model) throw new Error(`--dataset and --model are required\n${HELP}`);
    const dataset = getDataset(db, values.dataset);
    if (!dataset) throw new Error(`no dataset named '${values.dataset}' (see \`cmi-studio datasets\`)`);
    const def = getModel(values.model);
    const config = configFromSettings(def, values.set);
    if (values.interests !== undefined) config.interests = Number(values.interests);
    if (values['max-steps'] !== undefined) config.maxSteps = Number(values['max-steps']);
    const seed = values.seed !== undefined ? Number(values.seed) : DEFAULT_SEED;
    if (!Number.isInteger(seed)) throw new Error(`--seed expects an integer, got '${values.seed}'`);
    const kind = values.split;
    if (kind !== undefined && !isOneOf(SPLIT_KINDS, kind)) throw new Error(`--split must be ${SPLIT_KINDS.join(', ')}`);
    return { datasetId: dataset.id, model: def.name, config, seed, split: kind ? { kind } : undefined };
  });
  const runId = typeof request === 'number' ? request : (await withDb(dbPath, (db) => prepareRuns(db, [request], { onWait: waitingNote() })))[0];
  const result = await runWithProgress(dbPath, runId);
  if (values.json) process.stdout.write(JSON.stringify(runJson(result)) + '\n');
  return result.status === 'done' ? 0 : 1;
}
