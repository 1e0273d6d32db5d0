// The measured tables of docs/results.md (issue "every competitor ... under one protocol",
// point 7): every model with its default settings, the CMI ablations and the sweep over the
// number of interests, on the bundled KuaiRand slice, early stopping deciding when each stops.
// Hours of CPU: runs go one after another and are resumable, so the script can be stopped at any
// time and started again; finished runs are kept, the one in flight resumes from its last
// checkpoint, and a run already in the database with the same model, config and seed (the
// accuracy script's CMI run, say) is reused rather than trained twice. Two instances with
// different --parts can share one database, one per core. Usage:
//   node --import tsx scripts/results-kuairand.ts [--db PATH] [--seed S] [--parts models,ablation,interests] [--report] [--doc FILE]
// --report prints the tables of whatever has finished without training anything; --doc FILE
// also puts each part's tables between its markers in FILE (<!-- RESULTS_MODELS --> ...
// <!-- /RESULTS_MODELS -->, likewise ABLATION and INTERESTS), as docs/results.md has them.
// The tables have the columns of the CMI paper's Table 1 (Recall and HitRate at 10, 20, 50);
// NDCG and other K are a `cmi-studio compare --db .bench/results.sqlite` away.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureDemoDataset } from '../src/main/cli/demo-setup.ts';
import { runWithProgress } from '../src/main/cli/run-output.ts';
import { buildTable } from '../src/main/report/table.ts';
import { formatComparison } from '../src/main/report/format.ts';
import { replaceSections } from '../src/main/report/doc-sections.ts';
import { rowsFromRuns } from '../src/main/report/from-runs.ts';
import { models as registry } from '../src/main/models/registry.ts';
import { openDb } from '../src/main/store/db.ts';
import { listRuns, requireRun } from '../src/main/store/runs.ts';
import { findSameRun, markInterrupted, prepareRun, type RunRequest } from '../src/main/train/runner.ts';
import { expandSet, interestSweep } from '../src/main/train/sets.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: '.bench/results.sqlite' },
    seed: { type: 'string', default: '42' },
    parts: { type: 'string', default: 'models,ablation,interests' },
    report: { type: 'boolean', default: false },
    doc: { type: 'string' },
  },
});
mkdirSync('.bench', { recursive: true });
const dbPath = values.db;
const seed = Number(values.seed);
const parts = new Set(values.parts.split(','));

const db = openDb(dbPath);
markInterrupted(db);
const dataset = await ensureDemoDataset(db);

/** Cheapest per step first (docs/benchmarks.md, per-model step times), so a partial run already
 *  answers most of the main question; Re4 and DSSRec take 5-10 s a step here. */
const MODEL_ORDER = ['pop', 'gru4rec', 'mind', 'comirec-sa', 'comirec-dr', 'octopus', 'cmi', 'opal', 're4', 'dssrec'];
const PAPER_ORDER = ['pop', 'gru4rec', 'mind', 'comirec-dr', 'comirec-sa', 'octopus', 'dssrec', 're4', 'opal', 'cmi'];
const models = [...MODEL_ORDER, ...registry.map((m) => m.name).filter((n) => !MODEL_ORDER.includes(n))];

const plan: { part: string; req: RunRequest }[] = [];
const base = { datasetId: dataset.id, seed };
if (parts.has('models')) for (const model of models) plan.push({ part: 'models', req: { ...base, model, group: 'results:models' } });
if (parts.has('ablation')) {
  for (const req of expandSet({ datasetId: dataset.id, model: 'cmi', ablation: true, seeds: [seed], group: 'results:ablation' })) plan.push({ part: 'ablation', req });
}
if (parts.has('interests')) {
  for (const req of expandSet({ datasetId: dataset.id, model: 'cmi', interests: interestSweep, seeds: [seed], group: 'results:interests' })) plan.push({ part: 'interests', req });
}

const entries = plan.map(({ part, req }) => ({ part, id: findSameRun(db, { ...req, group: undefined })?.id ?? (values.report ? null : prepareRun(db, req)) }));
db.close();

if (!values.report) {
  for (const { id } of entries) {
    if (id === null) continue;
    const c = openDb(dbPath);
    markInterrupted(c);
    const run = requireRun(c, id);
    c.close();
    // Done, or being trained by another instance of this script (parts can run side by side).
    if (run.status === 'done' || run.status === 'running') continue;
    process.stderr.write(`\n== ${run.label} (${run.model}, run ${run.id})\n`);
    const out = await runWithProgress(dbPath, id);
    if (out.status === 'cancelled') break;
  }
}

// Tables of what has finished.
const rdb = openDb(dbPath);
const sections: { part: string; title: string; body: string }[] = [];
const titles: Record<string, string> = {
  models: 'Every model with its default settings',
  ablation: 'CMI ablations',
  interests: 'CMI, number of interests',
};
for (const part of ['models', 'ablation', 'interests']) {
  // Planned runs, then finished runs of the part's group that no longer match a default (a
  // model whose defaults changed since): kept in the tables, under their own label.
  const planned = entries.filter((e) => e.part === part && e.id !== null).map((e) => e.id!);
  const superseded = listRuns(rdb, { datasetId: dataset.id, group: `results:${part}`, status: 'done' }).map((r) => r.id);
  const ids = [...new Set([...planned, ...superseded])];
  const runs = ids.map((id) => requireRun(rdb, id));
  const done = runs.filter((r) => r.status === 'done');
  if (!runs.length) continue;
  // The interests sweep labels every run 'CMI (#I m)'; the other parts name runs by label.
  // Rows in the papers' order (floors, baselines, then the seed papers' models) rather than the
  // order the runs trained in.
  const modelOf = new Map(done.map((r) => [r.label, r.model]));
  const rank = (row: { label: string; interests: number }) => (PAPER_ORDER.indexOf(modelOf.get(row.label) ?? '') + 1 || PAPER_ORDER.length + 1) * 1000 + row.interests;
  const rows = rowsFromRuns(rdb, done, { bestPerLabel: false, selectBy: 'recall@50' }).sort((a, b) => rank(a) - rank(b));
  const table = rows.length === 0 ? null : buildTable(rows, { metrics: ['recall', 'hitrate'], ks: [10, 20, 50], significance: 'ttest', title: `${titles[part]} (${dataset.name}, test day)` });
  const detail = [
    '| run | model | #I | steps (best) | valid R@50 at best | wall time | backend |',
    '|---|---|---|---|---|---|---|',
    ...runs.map((r) => {
      // An unfinished run shows where it stands, so a table stopped by time says so rather than
      // silently omitting the model.
      const steps = r.status === 'done' ? `${r.steps} (${r.bestStep ?? '-'})` : r.steps ? `${r.status} at ${r.steps} (${r.bestStep ?? '-'})` : r.status;
      const valid = r.valid?.['recall@50'];
      return `| ${r.id} ${r.label} | ${r.model} | ${r.interests} | ${steps} | ${valid === undefined ? '-' : valid.toFixed(4)} | ${(r.seconds / 60).toFixed(1)} min | ${r.backend ?? '-'} |`;
    }),
  ];
  sections.push({ part, title: titles[part], body: `${table ? `${formatComparison(table, 'md').trim()}\n\n` : ''}${detail.join('\n')}` });
}
rdb.close();
const text = sections.map((s) => `### ${s.title}\n\n${s.body}\n`).join('\n');
writeFileSync('.bench/results-tables.md', text);
process.stdout.write(text + '\nwritten to .bench/results-tables.md\n');
if (values.doc) {
  const doc = replaceSections(readFileSync(values.doc, 'utf8'), sections.map(({ part, body }) => ({ name: `RESULTS_${part.toUpperCase()}`, body })), values.doc);
  writeFileSync(values.doc, doc);
  process.stdout.write(`tables written into ${values.doc}\n`);
}
