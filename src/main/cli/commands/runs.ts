import type { RunStatus } from '../../../shared/types.ts';
import { resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { deleteRun, listRuns, requireRun } from '../../store/runs.ts';
import { markInterrupted } from '../../train/runner.ts';
import { JSON_OPTION, parseCommand, printHelp, withDb } from '../options.ts';
import { formatMetrics, runJson } from '../run-output.ts';

const HELP = `usage: cmi-studio runs [--dataset NAME] [--model M] [--status S] [--db PATH] [--json]
       cmi-studio runs --delete RUN [--db PATH]`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    dataset: { type: 'string' },
    model: { type: 'string' },
    status: { type: 'string' },
    delete: { type: 'string' },
    ...JSON_OPTION,
  });
  if (values.help) return printHelp(HELP);
  return withDb(resolveDbPath(values.db), (db) => {
    markInterrupted(db);
    if (values.delete !== undefined) {
      const id = Number(values.delete);
      requireRun(db, id);
      deleteRun(db, id);
      process.stderr.write(`deleted run ${id}\n`);
      return 0;
    }
    let datasetId: number | undefined;
    if (values.dataset !== undefined) {
      const d = getDataset(db, values.dataset);
      if (!d) throw new Error(`no dataset named '${values.dataset}'`);
      datasetId = d.id;
    }
    const runs = listRuns(db, { datasetId, model: values.model, status: values.status as RunStatus | undefined });
    if (values.json) {
      process.stdout.write(JSON.stringify(runs.map(runJson)) + '\n');
      return 0;
    }
    if (!runs.length) {
      process.stdout.write('no runs\n');
      return 0;
    }
    for (const r of runs) {
      process.stdout.write(
        `${String(r.id).padStart(4)}  ${r.datasetName}  ${r.label} (#I ${r.interests}, seed ${r.seed})  ${r.status}  ` +
          `${r.steps} steps  ${r.seconds.toFixed(0)} s  ${r.backend ?? ''}  test: ${formatMetrics(r.test)}\n`,
      );
    }
    return 0;
  });
}
