// The compare screen's calls: labels that follow the selection, and per-user distributions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantile } from 'simple-statistics';
import { saveUserMetrics } from '../../src/main/store/user-metrics.ts';
import { evalSet } from '../../src/main/eval/sets.ts';
import { compareDistributions, compareLabels, compareRuns } from '../../src/main/report/compare-service.ts';
import { openDb } from '../../src/main/store/db.ts';
import { createRun, updateRun } from '../../src/main/store/runs.ts';
import { ensureSplit, loadSplit } from '../../src/main/store/splits.ts';
import { insertDataset, lcg, randomPositives } from '../data/fixtures.ts';

test('labels follow the chosen runs; distributions summarise each row per user', () => {
  const db = openDb(':memory:');
  const datasetId = insertDataset(db, 'rand', randomPositives(9, 120, 50, 10, 40));
  const splitId = ensureSplit(db, datasetId).id;
  const users = evalSet(loadSplit(db, splitId), 'test', 100).users;
  const rand = lcg(3);
  const values: Record<string, Float32Array> = {};
  const add = (label: string, model: string, seed: number, v: () => number): number => {
    const id = createRun(db, { datasetId, splitId, model, label, config: { interests: 4 }, seed });
    const vals = Float32Array.from(users, v);
    values[id] = vals;
    updateRun(db, id, { status: 'done', test: { 'recall@50': vals.reduce((a, b) => a + b, 0) / vals.length } });
    saveUserMetrics(db, id, 'test', users, { 'recall@50': vals });
    return id;
  };
  const a = add('CMI', 'cmi', 1, () => (rand() < 0.4 ? 0 : rand()));
  const b = add('CMI (#I 4)', 'cmi', 1, () => rand()); // the same experiment: not a row of its own
  const c = add('MIND', 'mind', 1, () => (rand() < 0.7 ? 0 : rand()));
  assert.deepEqual(compareLabels(db, [a, b]), ['CMI']);
  assert.deepEqual(compareLabels(db, [b, c]), ['CMI (#I 4)', 'MIND'], 'the list follows the selection');

  // MIND trails CMI: with MIND as the proposed model its Improv. is negative, not '/'.
  const t = compareRuns(db, { runIds: [a, c], metrics: ['recall'], ks: [50], significance: 'ttest', focus: 'MIND' });
  assert.ok((t.summary[0].improvement ?? 0) < 0, `MIND's gap shows: ${t.summary[0].improvement}`);

  const d = compareDistributions(db, { runIds: [a, c], metric: 'recall@50' });
  assert.deepEqual(d.map((x) => x.label), ['CMI', 'MIND']);
  for (const [i, id] of [a, c].entries()) {
    const v = Array.from(values[id]).sort((x, y) => x - y);
    assert.equal(d[i].users, v.length);
    assert.equal(d[i].bins.reduce((s, n) => s + n, 0), v.filter((x) => x > 0).length, 'every user above 0 in a bin');
    assert.equal(d[i].zeros, v.filter((x) => x === 0).length, 'users at 0');
    assert.ok(Math.abs(d[i].box![2] - quantile(v, 0.5)) < 1e-12, 'median');
    assert.equal(d[i].box![0], v[0]);
    assert.equal(d[i].box![4], v[v.length - 1]);
    assert.ok(Math.abs(d[i].mean! - v.reduce((s, x) => s + x, 0) / v.length) < 1e-12, 'mean');
  }
  assert.deepEqual(d[0].edges, d[1].edges, 'shared bins, so the histograms compare');
  assert.throws(() => compareDistributions(db, { runIds: [a], metric: 'recall; DROP' }), /metric must be/);
  db.close();
});
