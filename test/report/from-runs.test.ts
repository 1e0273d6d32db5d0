// Rows of compare from stored runs: one experiment per model and config whatever the labels, and
// only distinct seeds in mean ± std and in the per-user values of the paired tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../src/main/models/types.ts';
import { saveUserMetrics } from '../../src/main/store/user-metrics.ts';
import { rowsFromRuns } from '../../src/main/report/from-runs.ts';
import { buildTable } from '../../src/main/report/table.ts';
import { openDb, type Db } from '../../src/main/store/db.ts';
import { createRun, listRuns, updateRun } from '../../src/main/store/runs.ts';
import { ensureSplit, loadSplit } from '../../src/main/store/splits.ts';
import { evalSet } from '../../src/main/eval/sets.ts';
import { insertDataset, randomPositives } from '../data/fixtures.ts';

function store(): { db: Db; datasetId: number; splitId: number; users: Int32Array } {
  const db = openDb(':memory:');
  const datasetId = insertDataset(db, 'rand', randomPositives(3, 120, 50, 10, 40));
  const splitId = ensureSplit(db, datasetId).id;
  return { db, datasetId, splitId, users: evalSet(loadSplit(db, splitId), 'test', 100).users };
}

/** A finished run whose per-user recall@10 is `value(u)` for test user row u. */
function addRun(s: ReturnType<typeof store>, label: string, config: Config, seed: number, value: (u: number) => number): number {
  const id = createRun(s.db, { datasetId: s.datasetId, splitId: s.splitId, model: 'cmi', label, config, seed });
  const vals = Float32Array.from(s.users, (_, u) => value(u));
  updateRun(s.db, id, { status: 'done', valid: { 'recall@50': 0.1 }, test: { 'recall@10': vals.reduce((a, b) => a + b, 0) / vals.length } });
  saveUserMetrics(s.db, id, 'test', s.users, { 'recall@10': vals });
  return id;
}

test('identical runs are one row; a re-run of a seed is not a second seed', () => {
  const s = store();
  const config = { interests: 4, lr: 0.001 };
  const a = addRun(s, 'CMI', config, 1, (u) => (u % 3 === 0 ? 1 : 0));
  addRun(s, 'CMI (#I 4)', config, 1, (u) => (u % 3 === 0 ? 1 : 0)); // the same experiment from a sweep
  addRun(s, 'CMI', config, 1, () => 0.5); // a re-run with the same seed: not counted
  let rows = rowsFromRuns(s.db, listRuns(s.db), { bestPerLabel: false, selectBy: 'recall@50' });
  assert.deepEqual(rows.map((r) => r.label), ['CMI'], 'one row, under the first run label');
  assert.equal(rows[0].runs.length, 1, 'one distinct seed');
  const t = buildTable(rows, { metrics: ['recall'], ks: [10], significance: 'none' });
  assert.equal(t.rows[0].cells[0].std, null, 'no ± with one seed');
  assert.equal(t.rows[0].runs, 1);

  addRun(s, 'CMI', config, 2, (u) => (u % 2 === 0 ? 1 : 0));
  addRun(s, 'CMI', { ...config, interests: 8 }, 1, () => 0.25); // another configuration: its own row
  rows = rowsFromRuns(s.db, listRuns(s.db), { bestPerLabel: false, selectBy: 'recall@50' });
  assert.deepEqual(rows.map((r) => r.label), ['CMI (#I 4)', 'CMI (#I 8)']);
  assert.equal(rows[0].runs.length, 2, 'seeds 1 and 2');
  // Per-user values for the paired tests: the mean of seeds 1 and 2, the re-run left out.
  const perUser = rows[0].perUser!;
  perUser.users.forEach((uid, j) => {
    const u = Array.from(s.users).indexOf(uid);
    assert.equal(perUser.values['recall@10'][j], ((u % 3 === 0 ? 1 : 0) + (u % 2 === 0 ? 1 : 0)) / 2, `user ${uid}`);
  });
  assert.ok(rows[0].runs.every((m) => m['recall@10'] !== 0.5), `run ${a}'s re-run is not among the seeds`);
});
