import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../../src/main/store/db.ts';
import { ensureSplit } from '../../src/main/store/splits.ts';
import { loadUserMetrics, saveUserMetrics, userMetricNames } from '../../src/main/store/user-metrics.ts';
import { insertDataset, insertRun, randomPositives } from '../data/fixtures.ts';

test('per-user metrics round-trip through run_user_metrics and are replaced on re-save', () => {
  const db = openDb(':memory:');
  const id = insertDataset(db, 'd', randomPositives(1, 30, 50, 8, 20));
  const runId = insertRun(db, id, ensureSplit(db, id).id);
  const users = Int32Array.from([4, 9, 17]);
  const perUser = { 'recall@50': Float32Array.from([0.5, 0, 1]), 'hitrate@50': Float32Array.from([1, 0, 1]) };
  saveUserMetrics(db, runId, 'test', users, perUser);
  const got = loadUserMetrics(db, runId, 'test', 'recall@50');
  assert.deepEqual(got, { users, values: perUser['recall@50'] });
  assert.equal(loadUserMetrics(db, runId, 'valid', 'recall@50'), undefined);
  assert.deepEqual(userMetricNames(db, runId, 'test'), ['hitrate@50', 'recall@50']);
  saveUserMetrics(db, runId, 'test', users, { 'recall@50': Float32Array.from([0.25, 0.25, 0.25]) });
  assert.deepEqual(Array.from(loadUserMetrics(db, runId, 'test', 'recall@50')!.values), [0.25, 0.25, 0.25]);
  assert.throws(() => saveUserMetrics(db, runId, 'valid', users, { 'ndcg@10': new Float32Array(2) }), /2 values for 3 users/);
  assert.equal(loadUserMetrics(db, runId, 'valid', 'ndcg@10'), undefined, 'a failed save stores nothing');
});
