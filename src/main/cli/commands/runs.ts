import { isRunSort, RUN_SORT_HELP } from '../../../shared/run-order.ts';
import type { RunStatus } from '../../../shared/types.ts';
import { diffRuns, runConfig } from '../../report/run-diff.ts';
import { setRunNote, setRunTags } from '../../store/run-notes.ts';
import { openDb, resolveDbPath } from '../../store/db.ts';
import { getDataset } from '../../store/datasets.ts';
import { deleteRun, listRuns, requireRun } from '../../store/runs.ts';
import { markInterrupted } from '../../train/runner.ts';
import { parseConcurrency, TrainingQueue } from '../../train/queue.ts';
import { JSON_OPTION, parseCommand, printHelp, stringOptions, withDb } from '../options.ts';
import { formatMetrics, runJson } from '../run-output.ts';
import { runSet } from '../run-set.ts';

const HELP = `usage: cmi-studio runs [--dataset NAME] [--model M] [--status S] [--group G] [--tag T] [--search TEXT]
                      [--sort KEY [--desc]] [--db PATH] [--json]
       cmi-studio runs tag RUN TAG... | untag RUN TAG... | note RUN TEXT   (note RUN "" clears it)
       cmi-studio runs config RUN          the run's split and complete config as JSON
       cmi-studio runs diff RUN_A RUN_B    the parameters the two runs differ in [--json]
       cmi-studio runs --delete RUN [--db PATH]
       cmi-studio runs --cancel-set GROUP | --resume-set GROUP [--parallel 1|2] | --delete-set GROUP
A set is the runs of one group (a sweep, ablation, grid or seeds). --cancel-set stops its queued
and running runs wherever they train (running ones checkpoint); --resume-set trains its
unfinished runs here, --parallel at once (default 2); --delete-set deletes all of them.
--search finds text in the model, label, set, tags and note; --sort is one of
${RUN_SORT_HELP}.
--json lists each run with "stopped": early | max-steps | cancelled | failed (null while unfinished).`;

const ACTIONS = ['tag', 'untag', 'note', 'config', 'diff'] as const;

function runId(text: string | undefined): number {
  const id = Number(text);
  if (text === undefined || !Number.isInteger(id) || id < 1) throw new Error(`expected a run id, got '${text ?? ''}'\n${HELP}`);
  return id;
}

/** `runs tag|untag|note|config|diff ...`: positional arguments, then --db and --json. */
function action(name: (typeof ACTIONS)[number], argv: string[]): number {
  const cut = argv.findIndex((a) => a.startsWith('--'));
  const positional = cut < 0 ? argv : argv.slice(0, cut);
  const values = parseCommand(cut < 0 ? [] : argv.slice(cut), { ...JSON_OPTION });
  if (values.help) return printHelp(HELP);
  const [first, ...rest] = positional;
  return withDb(resolveDbPath(values.db), (db) => {
    const run = requireRun(db, runId(first));
    if (name === 'tag' || name === 'untag') {
      if (!rest.length) throw new Error(`runs ${name} RUN TAG...: give at least one tag`);
      const tags = name === 'tag' ? [...run.tags, ...rest] : run.tags.filter((t) => !rest.includes(t));
      setRunTags(db, run.id, tags);
      process.stderr.write(`run ${run.id} tags: ${requireRun(db, run.id).tags.join(', ') || '(none)'}\n`);
    } else if (name === 'note') {
      if (rest.length !== 1) throw new Error('runs note RUN TEXT: give the note as one argument (quote it); "" clears it');
      setRunNote(db, run.id, rest[0]);
      process.stderr.write(rest[0].trim() ? `run ${run.id}: note set\n` : `run ${run.id}: note cleared\n`);
    } else if (name === 'config') {
      process.stdout.write(JSON.stringify(runConfig(db, run.id), null, 2) + '\n');
    } else {
      const diff = diffRuns(db, run.id, runId(rest[0]));
      if (values.json) process.stdout.write(JSON.stringify(diff) + '\n');
      else if (!diff.differences.length) process.stdout.write(`runs ${diff.a} and ${diff.b} have identical parameters\n`);
      else {
        process.stdout.write(`${'parameter'.padEnd(24)} ${`run ${diff.a}`.padEnd(16)} run ${diff.b}\n`);
        for (const d of diff.differences) process.stdout.write(`${`${d.section === 'config' ? '' : `${d.section}.`}${d.key}`.padEnd(24)} ${String(d.a ?? '–').padEnd(16)} ${String(d.b ?? '–')}\n`);
        process.stdout.write(`(${diff.sameConfigKeys} config keys the same)\n`);
      }
    }
    return 0;
  });
}

/** A queue with no runner of its own here: it acts on the store and on other processes' workers. */
function setQueue(dbPath: string, db: ReturnType<typeof openDb>): TrainingQueue {
  return new TrainingQueue({ dbPath, db, loadLauncher: () => Promise.reject(new Error('not launching')), emit: () => {}, concurrency: 1 });
}

export async function run(argv: string[]): Promise<number> {
  const name = ACTIONS.find((a) => a === argv[0]);
  if (name) return action(name, argv.slice(1));
  const values = parseCommand(argv, {
    ...stringOptions('dataset', 'model', 'status', 'group', 'tag', 'search', 'sort', 'delete', 'cancel-set', 'resume-set', 'delete-set', 'parallel'),
    desc: { type: 'boolean', default: false },
    ...JSON_OPTION,
  });
  if (values.help) return printHelp(HELP);
  const dbPath = resolveDbPath(values.db);
  if (values['resume-set'] !== undefined) {
    const group = values['resume-set'];
    const concurrency = parseConcurrency(values.parallel ?? process.env.CMI_STUDIO_CONCURRENCY, '--parallel');
    withDb(dbPath, (db) => markInterrupted(db));
    // The queue picks the runs by the same rule as the API's resumeSet.
    const results = await runSet(dbPath, (queue) => queue.resumeSet(group), {
      concurrency,
      onQueued: (ids) => process.stderr.write(ids.length ? `resuming ${ids.length} runs (${ids.join(', ')}) of set '${group}'\n` : `set '${group}' has nothing to resume\n`),
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
    if (values.sort !== undefined && !isRunSort(values.sort)) throw new Error(`--sort must be ${RUN_SORT_HELP}, got '${values.sort}'`);
    const runs = listRuns(db, {
      datasetId,
      model: values.model,
      status: values.status as RunStatus | undefined,
      group: values.group,
      tag: values.tag,
      search: values.search,
      sort: values.sort,
      desc: values.desc,
    });
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
          `${r.steps} steps  ${r.seconds.toFixed(0)} s  ${r.backend ?? ''}  test: ${formatMetrics(r.test)}` +
          `${r.group !== null ? `  set: ${r.group}` : ''}${r.tags.length ? `  tags: ${r.tags.join(', ')}` : ''}${r.note ? `  note: ${r.note.split('\n')[0]}` : ''}\n`,
      );
    }
    return 0;
  });
}
