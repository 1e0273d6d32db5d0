import type { RunStatus } from '../../../shared/types.ts';
import { openDb, resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { deleteRun, listRuns, requireRun } from '../../store/runs.ts';
import { markInterrupted } from '../../train/runner.ts';
import { isResumable, parseConcurrency, TrainingQueue } from '../../train/queue.ts';
import { JSON_OPTION, parseCommand, printHelp, stringOptions, withDb } from '../options.ts';
import { formatMetrics, runJson } from '../run-output.ts';
import { runSet } from '../run-set.ts';

const HELP = `usage: cmi-studio runs [--dataset NAME] [--model M] [--status S] [--group G] [--db PATH] [--json]
       cmi-studio runs --delete RUN [--db PATH]
       cmi-studio runs --cancel-set GROUP | --resume-set GROUP [--parallel 1|2] | --delete-set GROUP
A set is the runs of one group (a sweep, ablation, grid or seeds). --cancel-set stops its queued
and running runs wherever they train (running ones checkpoint); --resume-set trains its
unfinished runs here, --parallel at once (default 2); --delete-set deletes all of them.
--json lists each run with "stopped": early | max-steps | cancelled | failed (null while unfinished).`;

/** A queue with no runner of its own here: it acts on the store and on other processes' workers. */
function setQueue(dbPath: string, db: ReturnType<typeof openDb>): TrainingQueue {
  return new TrainingQueue({ dbPath, db, loadLauncher: () => Promise.reject(new Error('not launching')), emit: () => {}, concurrency: 1 });
}

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    ...stringOptions('dataset', 'model', 'status', 'group', 'delete', 'cancel-set', 'resume-set', 'delete-set', 'parallel'),
    ...JSON_OPTION,
  });
  if (values.help) return printHelp(HELP);
  const dbPath = resolveDbPath(values.db);
  if (values['resume-set'] !== undefined) {
    const group = values['resume-set'];
    const concurrency = parseConcurrency(values.parallel ?? process.env.CMI_STUDIO_CONCURRENCY, '--parallel');
    const ids = withDb(dbPath, (db) => {
      markInterrupted(db);
      // Which runs: the same rule as the API's resumeSet, without starting them in this queue.
      const runs = listRuns(db, { group });
      if (!runs.length) throw new Error(`no runs in set '${group}'`);
      return runs.filter(isResumable).map((r) => r.id);
    });
    if (!ids.length) {
      process.stderr.write(`set '${group}' has nothing to resume\n`);
      return 0;
    }
    process.stderr.write(`resuming ${ids.length} runs (${ids.join(', ')}) of set '${group}'\n`);
    const results = await runSet(dbPath, ids, {
      concurrency,
      onSettled: (r) => process.stderr.write(`run ${r.id} ${r.label} seed ${r.seed}: ${r.status} ${formatMetrics(r.test)}\n`),
    });
    if (values.json) process.stdout.write(JSON.stringify(results.map(runJson)) + '\n');
    return results.every((r) => r.status === 'done') ? 0 : 1;
  }
  return withDb(dbPath, (db) => {
    markInterrupted(db);
    if (values.delete !== undefined) {
      const id = Number(values.delete);
      requireRun(db, id);
      deleteRun(db, id);
      process.stderr.write(`deleted run ${id}\n`);
      return 0;
    }
    if (values['cancel-set'] !== undefined) {
      const ids = setQueue(dbPath, db).cancelSet(values['cancel-set']);
      process.stderr.write(ids.length ? `cancelled ${ids.length} runs (${ids.join(', ')}); running ones stop at a checkpoint\n` : 'nothing to cancel\n');
      if (values.json) process.stdout.write(JSON.stringify(ids) + '\n');
      return 0;
    }
    if (values['delete-set'] !== undefined) {
      const ids = setQueue(dbPath, db).deleteSet(values['delete-set']);
      process.stderr.write(`deleted ${ids.length} runs (${ids.join(', ')})\n`);
      if (values.json) process.stdout.write(JSON.stringify(ids) + '\n');
      return 0;
    }
    let datasetId: number | undefined;
    if (values.dataset !== undefined) {
      const d = getDataset(db, values.dataset);
      if (!d) throw new Error(`no dataset named '${values.dataset}'`);
      datasetId = d.id;
    }
    const runs = listRuns(db, { datasetId, model: values.model, status: values.status as RunStatus | undefined, group: values.group });
    if (values.json) {
      process.stdout.write(JSON.stringify(runs.map(runJson)) + '\n');
      return 0;
    }
    if (!runs.length) {
      process.stdout.write('no runs\n');
      return 0;
    }
    for (const r of runs) {
      const status = r.stopped && r.status === 'done' ? `done (${r.stopped})` : r.status;
      process.stdout.write(
        `${String(r.id).padStart(4)}  ${r.datasetName}  ${r.label} (#I ${r.interests}, seed ${r.seed})  ${status}  ` +
          `${r.steps} steps  ${r.seconds.toFixed(0)} s  ${r.backend ?? ''}  test: ${formatMetrics(r.test)}\n`,
      );
    }
    return 0;
  });
}
