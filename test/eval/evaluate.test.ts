import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { evalSet } from '../../src/main/eval/sets.ts';
import { retrieve } from '../../src/main/eval/retrieve.ts';
import { evaluate } from '../../src/main/eval/evaluate.ts';
import { scoreLists } from '../../src/main/eval/metrics.ts';
import { ensureSplit, loadSplit } from '../../src/main/store/splits.ts';
import { openDb } from '../../src/main/store/db.ts';
import { insertDataset, lcg, splitOf } from '../data/fixtures.ts';
import { fixedModel } from './fake-model.ts';

// Items 1..6 (0 is padding, given a huge score that must never surface), d = 2.
const table = [
  [9, 9],
  [1, 0],
  [0.9, 0],
  [0, 1],
  [0, 0.8],
  [0.5, 0.5],
  [-1, -1],
];
// User A: interest 0 = [1, 0], interest 1 = [0, 0.95]. Merged best scores:
// 1:1.0(i0) 3:0.95(i1) 2:0.9(i0) 4:0.76(i1) 5:0.5(i0; i1 also retrieves it, 0.475) 6:-0.95(i1).
// User B: both interests [0, 1]: 3:1 4:0.8 5:0.5 1:0 2:0 6:-1.
const interestsAB = [
  [
    [1, 0],
    [0, 0.95],
  ],
  [
    [0, 1],
    [0, 1],
  ],
];
const log2 = Math.log2;

test('evalSet: target sets, left-padded histories, users without a target left out', () => {
  const split = splitOf(7, [[2], [6, 1, 3], [4, 5]], [[3, 5, 3], [6], []], [[1], [], [2]]);
  const v = evalSet(split, 'valid', 3);
  assert.deepEqual(Array.from(v.users), [100, 101]);
  assert.deepEqual(Array.from(v.histories), [0, 0, 2, 6, 1, 3]);
  assert.deepEqual([...v.targets[0]].sort(), [3, 5], 'duplicates count once');
  const t = evalSet(split, 'test', 2);
  assert.deepEqual(Array.from(t.users), [100, 102]);
  // Test history = training then validation items, last maxlen of them.
  assert.deepEqual(Array.from(t.histories), [5, 3, 4, 5]);
  const long = evalSet(split, 'test', 6);
  assert.deepEqual(Array.from(long.histories.subarray(0, 6)), [0, 0, 2, 3, 5, 3]);
});

test('retrieval merges interests by best score, drops padding and history, pads short lists', () => {
  const model = fixedModel(interestsAB, table);
  const r = retrieve(model, Int32Array.from([0, 0, 2, 0, 1, 3]), 2, 3, 8);
  assert.deepEqual(Array.from(r.items.subarray(0, 8)), [1, 3, 4, 5, 6, 0, 0, 0]);
  assert.deepEqual(Array.from(r.interest.subarray(0, 5)), [0, 1, 1, 0, 1]);
  assert.deepEqual(Array.from(r.scores.subarray(0, 5)), [1, 0.95, 0.76, 0.5, -0.95].map(Math.fround));
  assert.deepEqual(Array.from(r.scores.subarray(5, 8)), [-Infinity, -Infinity, -Infinity]);
  assert.deepEqual(Array.from(r.interest.subarray(5, 8)), [-1, -1, -1]);
  // B: history {1, 3} is excluded; 4:0.8 5:0.5 2:0 6:-1.
  const rowB = Array.from(r.items.subarray(8, 16));
  assert.deepEqual(rowB, [4, 5, 2, 6, 0, 0, 0, 0]);
  assert.ok(!rowB.includes(1) && !rowB.includes(3), 'history items are excluded');
});

test('metrics on hand-made lists follow the formulas (set targets, K beyond the catalogue)', () => {
  const model = fixedModel(interestsAB, table);
  const split = splitOf(7, [[2], [1, 3], [4]], [[3, 5, 3], [6], []]);
  const set = evalSet(split, 'valid', 3);
  const ks = [1, 2, 5, 10];
  const { metrics, perUser, users } = evaluate(model, set, ks);
  assert.deepEqual(Array.from(users), [100, 101]);
  // A: list 1,3,4,5,6 with targets {3,5}: hits at ranks 2 and 4.
  const idcg2 = 1 + 1 / log2(3);
  const expectA = {
    1: { recall: 0, hitrate: 0, ndcg: 0 },
    2: { recall: 0.5, hitrate: 1, ndcg: 1 / log2(3) / idcg2 },
    5: { recall: 1, hitrate: 1, ndcg: (1 / log2(3) + 1 / log2(5)) / idcg2 },
    10: { recall: 1, hitrate: 1, ndcg: (1 / log2(3) + 1 / log2(5)) / idcg2 },
  } as const;
  // B's scores: 4:0.8 5:0.5 2:0 6:-1 -> 6 at rank 4.
  const expectB = {
    1: { recall: 0, hitrate: 0, ndcg: 0 },
    2: { recall: 0, hitrate: 0, ndcg: 0 },
    5: { recall: 1, hitrate: 1, ndcg: 1 / log2(5) },
    10: { recall: 1, hitrate: 1, ndcg: 1 / log2(5) },
  } as const;
  for (const k of ks) {
    for (const kind of ['recall', 'hitrate', 'ndcg'] as const) {
      const name = `${kind}@${k}`;
      const a = expectA[k as 1][kind];
      const b = expectB[k as 1][kind];
      assert.ok(Math.abs(perUser[name][0] - a) < 1e-6, `${name} A`);
      assert.ok(Math.abs(perUser[name][1] - b) < 1e-6, `${name} B`);
      assert.ok(Math.abs(metrics[name] - (a + b) / 2) < 1e-6, `${name} mean`);
    }
  }
});

test('an item retrieved by two interests counts once; repeated targets count once', () => {
  // Both interests identical: every item is retrieved twice before merging.
  const model = fixedModel([[[1, 0], [1, 0]]], table);
  const split = splitOf(7, [[6]], [[1, 1, 2]]);
  const { perUser } = evaluate(model, evalSet(split, 'valid', 2), [2]);
  assert.equal(perUser['recall@2'][0], 1, 'top 2 = items 1 and 2, the whole target set');
  assert.ok(Math.abs(perUser['ndcg@2'][0] - 1) < 1e-6);
});

test('scoreLists rejects users without targets', () => {
  assert.throws(() => scoreLists(Int32Array.from([1, 2]), 2, [new Set()], [1]), /no target/);
  assert.throws(() => scoreLists(new Int32Array(0), 2, [], [1]), /no evaluated user/);
});

test('users whose targets are all out of vocabulary are not evaluated', () => {
  const db = openDb(':memory:');
  const day = (user: number, item: number, d: number) => ({ user, item, day: d });
  const id = insertDataset(db, 'oov', [
    day(1, 1, 1), day(1, 2, 2), day(1, 3, 3), // test target 3 in vocabulary
    day(2, 2, 1), day(2, 1, 2), day(2, 50, 3), day(2, 51, 4), // validation and test items never trained on
    day(1, 4, 4), day(1, 2, 5),
  ]);
  const split = loadSplit(db, ensureSplit(db, id, { minTrainDays: 2 }).id);
  assert.deepEqual(Array.from(split.users), [1, 2]);
  const valid = evalSet(split, 'valid', 5);
  const test_ = evalSet(split, 'test', 5);
  assert.deepEqual(Array.from(valid.users), []);
  assert.deepEqual(Array.from(test_.users), [1]);
});

test('batched exact retrieval matches a brute-force ranking', () => {
  const r = lcg(17);
  const n = 300; // more than one batch of users
  const numItems = 60;
  const [m, d, maxlen, k] = [3, 4, 5, 20];
  const items = Array.from({ length: numItems }, () => Array.from({ length: d }, () => r() - 0.5));
  const users = Array.from({ length: n }, () => Array.from({ length: m }, () => Array.from({ length: d }, () => r() - 0.5)));
  const hist = Int32Array.from({ length: n * maxlen }, () => (r() < 0.3 ? 0 : 1 + Math.floor(r() * (numItems - 1))));
  const before = tf.memory().numTensors;
  const got = retrieve(fixedModel(users, items), hist, n, maxlen, k);
  assert.equal(tf.memory().numTensors, before, 'retrieval frees every tensor it made');
  for (let u = 0; u < n; u++) {
    const h = new Set(hist.subarray(u * maxlen, (u + 1) * maxlen));
    const ranked = Array.from({ length: numItems - 1 }, (_, i) => i + 1)
      .filter((i) => !h.has(i))
      .map((i) => {
        const s = users[u].map((v) => Math.fround(v.reduce((acc, x, j) => acc + x * items[i][j], 0)));
        return { i, s: Math.max(...s), which: s.indexOf(Math.max(...s)) };
      })
      .sort((a, b) => b.s - a.s);
    assert.deepEqual(Array.from(got.items.subarray(u * k, (u + 1) * k)), ranked.slice(0, k).map((x) => x.i), `user ${u}`);
    assert.deepEqual(Array.from(got.interest.subarray(u * k, (u + 1) * k)), ranked.slice(0, k).map((x) => x.which));
  }
});
