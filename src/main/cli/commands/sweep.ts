import { getModel } from '../../models/registry.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { defaultSetGroup } from '../../../shared/defaults.ts';
import { markInterrupted } from '../../train/runner.ts';
import { interestSweep, parseGrid, parseList, prepareSet } from '../../train/sets.ts';
import { JSON_OPTION, configFromSettings, parseCommand, printHelp, waitingNote, withDb } from '../options.ts';
import { parseConcurrency } from '../../train/queue.ts';
import { formatMetrics, runJson } from '../run-output.ts';
import { runSet } from '../run-set.ts';

const HELP = `usage: cmi-studio sweep --dataset NAME --model MODEL
         [--ablation] [--interests 1,2,4,8,16 | --interests-sweep] [--grid key=v1,v2 ...]
         [--seeds 1,2,3] [--set key=value ...] [--group NAME] [--parallel 1|2] [--db PATH] [--json]
Runs every combination in worker processes, --parallel at once (default 2, or
CMI_STUDIO_CONCURRENCY); --json prints a JSON array of runs. Ctrl-C cancels the set at a
checkpoint; \`runs --resume-set GROUP\` continues it, \`runs --cancel-set GROUP\` stops it from
another terminal.`;

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
    parallel: { type: 'string' },
    ...JSON_OPTION,
  });
  if (values.help) return printHelp(HELP);
  const { dataset: datasetName, model: modelName } = values;
  if (!datasetName || !modelName) throw new Error(`--dataset and --model are required\n${HELP}`);
  const dbPath = resolveDbPath(values.db);
  const concurrency = parseConcurrency(values.parallel ?? process.env.CMI_STUDIO_CONCURRENCY, '--parallel');
  const ids = await withDb(dbPath, async (db) => {
    markInterrupted(db);
    const dataset = getDataset(db, datasetName);
    if (!dataset) throw new Error(`no dataset named '${datasetName}'`);
    const def = getModel(modelName);
    const interests = values['interests-sweep'] ? interestSweep : parseList('--interests', values.interests);
    const group = values.group ?? defaultSetGroup(def.name);
    const queued = await prepareSet(
      db,
      {
        datasetId: dataset.id,
        model: def.name,
        config: configFromSettings(def, values.set),
        seeds: parseList('--seeds', values.seeds) ?? [],
        ablation: values.ablation,
        ...(interests ? { interests } : {}),
        grid: parseGrid(def, values.grid ?? []),
        group,
      },
      { onWait: waitingNote() },
    );
    process.stderr.write(`queued ${queued.length} runs (${queued.join(', ')}) in group ${group}\n`);
    return queued;
  });
  const results = await runSet(dbPath, ids, {
    concurrency,
    onSettled: (r) => process.stderr.write(`run ${r.id} ${r.label} seed ${r.seed}: ${r.status} ${formatMetrics(r.test)}\n`),
  });
  if (values.json) process.stdout.write(JSON.stringify(results.map(runJson)) + '\n');
  return results.every((r) => r.status === 'done') ? 0 : 1;
}
