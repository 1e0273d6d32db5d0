import { getModel } from '../../models/registry.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { markInterrupted, prepareRun } from '../../train/runner.ts';
import { expandSet, interestSweep, parseGrid, parseList } from '../../train/sets.ts';
import { JSON_OPTION, configFromSettings, parseCommand, printHelp, withDb } from '../options.ts';
import { formatMetrics, runJson, runWithProgress } from '../run-output.ts';

const HELP = `usage: cmi-studio sweep --dataset NAME --model MODEL
         [--ablation] [--interests 1,2,4,8,16 | --interests-sweep] [--grid key=v1,v2 ...]
         [--seeds 1,2,3] [--set key=value ...] [--group NAME] [--db PATH] [--json]
Runs every combination in the worker, one after another; --json prints a JSON array of runs.`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    dataset: { type: 'string' },
    model: { type: 'string' },
    ablation: { type: 'boolean', default: false },
    interests: { type: 'string' },
    'interests-sweep': { type: 'boolean', default: false },
    grid: { type: 'string', multiple: true },
    seeds: { type: 'string' },
    set: { type: 'string', multiple: true },
    group: { type: 'string' },
    ...JSON_OPTION,
  });
  if (values.help) return printHelp(HELP);
  const { dataset: datasetName, model: modelName } = values;
  if (!datasetName || !modelName) throw new Error(`--dataset and --model are required\n${HELP}`);
  const dbPath = resolveDbPath(values.db);
  const ids = withDb(dbPath, (db) => {
    markInterrupted(db);
    const dataset = getDataset(db, datasetName);
    if (!dataset) throw new Error(`no dataset named '${datasetName}'`);
    const def = getModel(modelName);
    const config = configFromSettings(def, values.set);
    const interests = values['interests-sweep'] ? interestSweep : parseList('--interests', values.interests);
    const requests = expandSet({
      datasetId: dataset.id,
      model: def.name,
      config,
      seeds: parseList('--seeds', values.seeds),
      ablation: values.ablation,
      interests,
      grid: parseGrid(def, values.grid ?? []),
      group: values.group ?? `${def.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    });
    const queued = db.transaction(() => requests.map((r) => prepareRun(db, r)))();
    process.stderr.write(`queued ${queued.length} runs (${queued.join(', ')}) in group ${requests[0].group}\n`);
    return queued;
  });
  const results = [];
  for (const id of ids) {
    const r = await runWithProgress(dbPath, id);
    results.push(r);
    process.stderr.write(`run ${r.id} ${r.label} seed ${r.seed}: ${r.status} ${formatMetrics(r.test)}\n`);
    if (r.status === 'cancelled') break;
  }
  if (values.json) process.stdout.write(JSON.stringify(results.map(runJson)) + '\n');
  return results.every((r) => r.status === 'done') && results.length === ids.length ? 0 : 1;
}
