import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatasetSummary } from '../../../shared/types.ts';
import { formatComparison } from '../../report/format.ts';
import { rowsFromRuns } from '../../report/from-runs.ts';
import { buildTable } from '../../report/table.ts';
import { openDb, resolveDbPath } from '../../store/db.ts';
import { listRuns } from '../../store/runs.ts';
import { findSameRun, markInterrupted, prepareRuns } from '../../train/runner.ts';
import { parseConcurrency } from '../../train/queue.ts';
import { DEMO_GROUP, DEMO_MODELS, DEMO_NAME, demoConfig, demoModels, ensureDemoDataset } from '../demo-setup.ts';
import { progressView } from '../progress.ts';
import { runSet } from '../run-set.ts';
import { datasetsTable } from '../datasets-table.ts';
import { JSON_OPTION, parseCommand, printHelp, stringOptions } from '../options.ts';

const HELP = `usage: cmi-studio demo [--models cmi,mind,...] [--max-steps N] [--out DIR] [--parallel 1|2] [--import-only] [--db PATH] [--json]
Imports the bundled sample as dataset ${'`'}kuairand-demo${'`'}, trains
${DEMO_MODELS.join(', ')}
(or the --models listed) with a small budget until each stops early
(--max-steps: a safety cap, default ${demoConfig.maxSteps}), --parallel runs at once (default 2; finished
runs of an earlier demo are reused), prints the comparison table and writes it as Markdown and
LaTeX to DIR (default ./demo-output).`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommand(argv, {
    ...stringOptions('models', 'parallel'),
    'max-steps': { type: 'string', default: String(demoConfig.maxSteps) },
    out: { type: 'string', default: 'demo-output' },
    'import-only': { type: 'boolean', default: false },
    ...JSON_OPTION,
  });
  if (values.help) return printHelp(HELP);
  const dbPath = resolveDbPath(values.db);
  const concurrency = parseConcurrency(values.parallel ?? process.env.CMI_STUDIO_CONCURRENCY, '--parallel');
  const db = openDb(dbPath);
  const view = progressView();
  let dataset: DatasetSummary;
  const queued: number[] = [];
  try {
    dataset = await ensureDemoDataset(db, (p) => view.update(p));
    view.done();
    if (values['import-only']) {
      process.stdout.write(values.json ? JSON.stringify(dataset) + '\n' : datasetsTable([dataset]) + '\n');
      return 0;
    }
    process.stderr.write(datasetsTable([dataset]) + '\n');
    markInterrupted(db);
    const maxSteps = Number(values['max-steps']);
    if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new Error(`--max-steps expects a positive integer`);
    const names = demoModels(values.models);
    // Finished runs of an earlier demo are reused and unfinished ones resumed; the rest are
    // prepared as the other launchers do (waiting for the store's write lock), in the list's order.
    const requests = names.map((name) => ({ datasetId: dataset.id, model: name, config: { ...demoConfig, maxSteps }, group: DEMO_GROUP }));
    const same = requests.map((req) => findSameRun(db, req));
    const fresh = await prepareRuns(db, requests.filter((_, i) => same[i] === undefined));
    for (const s of same) {
      if (s?.status === 'done') continue;
      queued.push(s ? s.id : fresh.shift()!);
    }
  } finally {
    db.close();
  }
  const runs = await runSet(dbPath, queued, {
    concurrency,
    quiet: true,
    onSettled: (r, queue) => {
      const why = r.stopped === 'max-steps' ? 'HIT THE STEP CAP (not converged)' : (r.stopped ?? '');
      process.stderr.write(`${r.label.padEnd(12)} ${r.status}  ${r.steps} steps (best ${r.bestStep ?? '-'})  ${why}  ${r.seconds.toFixed(0)} s  ${r.backend ?? ''}\n`);
      if (r.status !== 'done') queue.stop(); // the table needs every model; stop at the first that did not finish
    },
  });
  const bad = runs.find((r) => r.status !== 'done' && r.status !== 'cancelled') ?? runs.find((r) => r.status !== 'done');
  if (bad) throw new Error(`demo run ${bad.id} (${bad.label}) ended ${bad.status}${bad.error ? `: ${bad.error}` : ''}`);
  const db2 = openDb(dbPath);
  try {
    const rows = rowsFromRuns(db2, listRuns(db2, { datasetId: dataset.id, group: DEMO_GROUP }), { bestPerLabel: true, selectBy: 'recall@50' });
    const table = buildTable(rows, { metrics: ['recall', 'hitrate', 'ndcg'], ks: [10, 20, 50], significance: 'ttest', title: `${DEMO_NAME}: test day (demo budget, early stopping)` });
    const outDir = resolve(values.out);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'comparison.md'), formatComparison(table, 'md'));
    writeFileSync(join(outDir, 'comparison.tex'), formatComparison(table, 'latex'));
    writeFileSync(join(outDir, 'comparison.json'), formatComparison(table, 'json'));
    process.stdout.write(values.json ? formatComparison(table, 'json') + '\n' : formatComparison(table, 'md') + '\n');
    process.stderr.write(`wrote ${join(outDir, 'comparison.md')}, comparison.tex and comparison.json\n`);
    return 0;
  } finally {
    db2.close();
  }
}
