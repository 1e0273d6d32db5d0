// The day split and the evaluation on the real bundled KuaiRand slice, checked against an
// independent reading of the TSV file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { openDb } from '../../src/main/store/db.ts';
import { importDataset } from '../../src/main/import/index.ts';
import { ensureSplit, loadSplit } from '../../src/main/store/splits.ts';
import { evalSet } from '../../src/main/eval/sets.ts';
import { evaluate } from '../../src/main/eval/evaluate.ts';
import type { SeqRecModel } from '../../src/main/models/types.ts';

const SAMPLE = 'resources/sample/kuairand_likes_hates.tsv';

interface Row {
  user: string;
  item: string;
  date: string;
  time: number;
  order: number;
}

function readSample(): Row[] {
  const [header, ...lines] = readFileSync(SAMPLE, 'utf8').trim().split('\n');
  const col = Object.fromEntries(header.split('\t').map((c, i) => [c, i]));
  return lines
    .map((l) => l.split('\t'))
    .filter((f) => f[col.label] === '1')
    .map((f, order) => ({ user: f[col.user_id], item: f[col.video_id], date: f[col.date], time: Number(f[col.time_ms]), order }));
}

/** Scores every item by its training count: a popularity model with one interest, d = 1. */
function popularity(counts: Int32Array): SeqRecModel {
  return {
    numInterests: 1,
    variables: {},
    needs: {},
    loss() {
      throw new Error('not trainable');
    },
    interests: (h) => tf.ones([h.shape[0], 1, 1]) as tf.Tensor3D,
    itemTable: () => tf.tensor2d(Float32Array.from(counts), [counts.length, 1]),
    dispose() {},
  };
}

test('KuaiRand slice: day split and evaluation agree with the file', async () => {
  const db = openDb(':memory:');
  const { datasetId } = await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'kuairand' });
  const split = loadSplit(db, ensureSplit(db, datasetId!).id);

  const rows = readSample();
  const dates = [...new Set(rows.map((r) => r.date))].sort();
  assert.equal(dates.length, 14);
  const [validDate, testDate] = dates.slice(-2);
  const byUser = new Map<string, Row[]>();
  for (const r of rows) byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
  for (const list of byUser.values()) list.sort((a, b) => a.time - b.time || a.order - b.order);
  const isTrain = (r: Row) => r.date < validDate;
  const kept = [...byUser.keys()].filter((u) => new Set(byUser.get(u)!.filter(isTrain).map((r) => r.date)).size >= 4);
  const vocab = new Set(kept.flatMap((u) => byUser.get(u)!.filter(isTrain).map((r) => r.item)));

  const rawUser = new Map((db.prepare('SELECT uid, raw FROM users WHERE dataset_id = ?').all(datasetId) as { uid: number; raw: string }[]).map((r) => [r.uid, r.raw]));
  const rawItem = new Map((db.prepare('SELECT iid, raw FROM items WHERE dataset_id = ?').all(datasetId) as { iid: number; raw: string }[]).map((r) => [r.iid, r.raw]));
  const users = Array.from(split.users, (u) => rawUser.get(u)!);
  assert.deepEqual([...users].sort(), [...kept].sort());
  assert.deepEqual(new Set(Array.from(split.vocab.subarray(1), (i) => rawItem.get(i)!)), vocab);
  const raw = (seq: Int32Array) => Array.from(seq, (s) => rawItem.get(split.vocab[s])!);
  users.forEach((u, k) => {
    const seq = byUser.get(u)!;
    assert.deepEqual(raw(split.train[k]), seq.filter(isTrain).map((r) => r.item));
    assert.deepEqual(raw(split.valid[k]), seq.filter((r) => r.date === validDate && vocab.has(r.item)).map((r) => r.item));
    assert.deepEqual(raw(split.test[k]), seq.filter((r) => r.date === testDate && vocab.has(r.item)).map((r) => r.item));
  });

  // Evaluation end to end with a popularity scorer: metrics are proportions, grow with K, and
  // the per-user recall matches a direct count against the target sets.
  const set = evalSet(split, 'test', 100);
  assert.equal(set.users.length, split.test.filter((t) => t.length > 0).length);
  const { metrics, perUser } = evaluate(popularity(split.itemCounts), set);
  const ks = [10, 20, 50, 100, 200];
  for (const kind of ['recall', 'hitrate', 'ndcg']) {
    ks.forEach((k, i) => {
      const v = metrics[`${kind}@${k}`];
      assert.ok(v >= 0 && v <= 1, `${kind}@${k}=${v}`);
      if (i > 0 && kind !== 'ndcg') assert.ok(v >= metrics[`${kind}@${ks[i - 1]}`]);
    });
  }
  assert.ok(metrics['hitrate@200'] > 0, 'popular items do hit');
  const mean = perUser['recall@50'].reduce((a, b) => a + b, 0) / set.users.length;
  assert.ok(Math.abs(mean - metrics['recall@50']) < 1e-6);
});
