// The fused native retrieval (native/blas/retrieve.c) against the TF.js ops it replaces
// (retrieve-tfjs.ts): the same items, bit-identical scores and the same interests, ties and
// all, on random data with planted ties and on a CMI model over the bundled KuaiRand slice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { fusedRetrieval, retrieve, type Retrieved } from '../../src/main/eval/retrieve.ts';
import { retrieveTfjs } from '../../src/main/eval/retrieve-tfjs.ts';
import { evalSet } from '../../src/main/eval/sets.ts';
import { openDb } from '../../src/main/store/db.ts';
import { importDataset } from '../../src/main/import/index.ts';
import { ensureSplit, loadSplit } from '../../src/main/store/splits.ts';
import { cmi } from '../../src/main/models/cmi.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import type { SeqRecModel } from '../../src/main/models/types.ts';
import { lcg } from '../data/fixtures.ts';
import { fixedFlatModel } from './fake-model.ts';

await initBackend('wasm');
const skip = fusedRetrieval() ? false : 'native/blas not built with retrieveTopK';

function assertSame(got: Retrieved, want: Retrieved, what: string): void {
  assert.deepEqual(Array.from(got.items), Array.from(want.items), `${what}: items`);
  // Bit patterns: -0 and 0 differ, every NaN payload too.
  assert.deepEqual(Array.from(new Uint32Array(got.scores.buffer)), Array.from(new Uint32Array(want.scores.buffer)), `${what}: scores`);
  assert.deepEqual(Array.from(got.interest), Array.from(want.interest), `${what}: interest`);
}

interface Case {
  n: number;
  m: number;
  d: number;
  numItems: number;
  maxlen: number;
  k: number;
  /** Values on a coarse grid: many exactly equal scores. */
  ties: boolean;
  /** Rows of items scoring -Infinity (or +Infinity) under every interest. */
  infinite?: boolean;
  seed: number;
}

function data(c: Case): { u: Float32Array; table: Float32Array; hist: Int32Array } {
  const r = lcg(c.seed);
  const value = () => (c.ties ? Math.round(r() * 4 - 2) / 2 : r() - 0.5);
  const u = Float32Array.from({ length: c.n * c.m * c.d }, value);
  const table = Float32Array.from({ length: c.numItems * c.d }, value);
  for (let user = 0; user < c.n; user++) {
    // Every third user repeats an interest: the same items scored best twice.
    if (user % 3 === 0 && c.m > 1) u.copyWithin((user * c.m + 1) * c.d, user * c.m * c.d, (user * c.m + 1) * c.d);
    // The first component is positive for every interest ...
    if (c.infinite) for (let i = 0; i < c.m; i++) u[(user * c.m + i) * c.d] = 0.25 + r();
  }
  if (c.infinite) {
    // ... so these rows score -Infinity, or +Infinity, under all of them.
    for (let item = 1; item < c.numItems; item++) {
      if (item % 4 === 0 || item % 7 === 0) {
        table.fill(0, item * c.d, (item + 1) * c.d);
        table[item * c.d] = item % 4 === 0 ? -Infinity : Infinity;
      }
    }
  }
  // Padding scores highest and must never surface.
  table.fill(9, 0, c.d);
  if (!c.ties && !c.infinite) for (let i = 0; i < c.d; i++) table[i] = 9 * Math.sign(u[i]);
  // Histories: left padding, repeats, ids of scored items.
  const hist = Int32Array.from({ length: c.n * c.maxlen }, () => (r() < 0.3 ? 0 : 1 + Math.floor(r() * (c.numItems - 1))));
  return { u, table, hist };
}

function compare(c: Case): void {
  const { u, table, hist } = data(c);
  const before = tf.memory().numTensors;
  const want = retrieveTfjs(fixedFlatModel(u, c.n, c.m, c.d, table, c.numItems), hist, c.n, c.maxlen, c.k);
  const got = retrieve(fixedFlatModel(u, c.n, c.m, c.d, table, c.numItems), hist, c.n, c.maxlen, c.k);
  assert.equal(tf.memory().numTensors, before, 'retrieval frees every tensor it made');
  assertSame(got, want, JSON.stringify(c));
}

test('fused retrieval: the same lists as the TF.js ops on random scores', { skip }, () => {
  // Several item tiles (512 items) and user blocks (512 / m users), history exclusions.
  compare({ n: 150, m: 4, d: 16, numItems: 1300, maxlen: 10, k: 50, ties: false, seed: 1 });
  compare({ n: 1100, m: 2, d: 8, numItems: 700, maxlen: 6, k: 20, ties: false, seed: 2 });
  compare({ n: 40, m: 8, d: 64, numItems: 2000, maxlen: 50, k: 200, ties: false, seed: 3 });
  // The default model's shape: 2 user blocks of 64 against TF.js batches of 139 users.
  compare({ n: 100, m: 8, d: 64, numItems: 30_000, maxlen: 100, k: 200, ties: false, seed: 10 });
  // One user (the inspector's call): one small product.
  compare({ n: 1, m: 8, d: 64, numItems: 5000, maxlen: 100, k: 200, ties: false, seed: 12 });
});

test('fused retrieval: planted ties and duplicate interests keep tf.topk order', { skip }, () => {
  compare({ n: 120, m: 4, d: 4, numItems: 1500, maxlen: 8, k: 100, ties: true, seed: 4 });
  compare({ n: 60, m: 3, d: 2, numItems: 900, maxlen: 5, k: 300, ties: true, seed: 5 });
});

test('fused retrieval: one interest, k beyond the catalogue, fewer than k qualifying', { skip }, () => {
  compare({ n: 70, m: 1, d: 8, numItems: 600, maxlen: 7, k: 30, ties: true, seed: 6 });
  compare({ n: 30, m: 2, d: 4, numItems: 40, maxlen: 5, k: 64, ties: false, seed: 7 });
  compare({ n: 50, m: 3, d: 4, numItems: 800, maxlen: 6, k: 700, ties: false, infinite: true, seed: 8 });
  compare({ n: 20, m: 1, d: 3, numItems: 1, maxlen: 2, k: 5, ties: false, seed: 9 });
});

for (const [name, run] of [['fused', retrieve], ['TF.js', retrieveTfjs]] as const) test(`${name} retrieval: NaN never qualifies, and leaves the ranking of the rest exact`, { skip: name === 'fused' && skip }, () => {
  // The reference is a brute-force ranking (tf.topk alone orders rows holding NaN
  // arbitrarily). Grid values: every product is exact, whatever the summation order.
  const [n, m, d, numItems, maxlen, k] = [12, 3, 4, 700, 4, 120];
  const r = lcg(11);
  const value = () => Math.round(r() * 8 - 4) / 4;
  const u = Float32Array.from({ length: n * m * d }, value);
  const table = Float32Array.from({ length: numItems * d }, value);
  for (let item = 5; item < numItems; item += 9) table[item * d + 1] = NaN; // NaN for every interest
  for (let i = 0; i < d; i++) table[9 * d + i] = 0;
  table[9 * d] = Infinity; // NaN for interests whose first component is 0, +Infinity or -Infinity otherwise
  u.fill(NaN, (7 * m + 1) * d, (7 * m + 2) * d); // user 7: one interest NaN everywhere, no item qualifies
  const hist = Int32Array.from({ length: n * maxlen }, () => Math.floor(r() * numItems));
  const got = run(fixedFlatModel(u, n, m, d, table, numItems), hist, n, maxlen, k);
  for (let user = 0; user < n; user++) {
    const h = new Set(hist.subarray(user * maxlen, (user + 1) * maxlen));
    const ranked: { item: number; score: number; which: number }[] = [];
    for (let item = 1; item < numItems; item++) {
      if (h.has(item)) continue;
      const s = Array.from({ length: m }, (_, i) => {
        let acc = 0;
        for (let j = 0; j < d; j++) acc += u[(user * m + i) * d + j] * table[item * d + j];
        return Math.fround(acc);
      });
      if (s.some(Number.isNaN)) continue;
      const best = Math.max(...s);
      if (best > -Infinity) ranked.push({ item, score: best, which: s.indexOf(best) });
    }
    ranked.sort((a, b) => b.score - a.score || a.item - b.item);
    const top = ranked.slice(0, k);
    const pad = k - top.length;
    const at = user * k;
    assert.deepEqual(Array.from(got.items.subarray(at, at + k)), [...top.map((x) => x.item), ...Array<number>(pad).fill(0)], `user ${user}: items`);
    assert.deepEqual(Array.from(got.scores.subarray(at, at + k)), [...top.map((x) => x.score), ...Array<number>(pad).fill(-Infinity)], `user ${user}: scores`);
    assert.deepEqual(Array.from(got.interest.subarray(at, at + k)), [...top.map((x) => x.which), ...Array<number>(pad).fill(-1)], `user ${user}: interest`);
  }
  assert.equal(got.items[7 * k], 0, 'a user with a NaN interest retrieves nothing');
});

test('fused retrieval: a CMI model over the bundled KuaiRand slice gets the TF.js lists', { skip }, async () => {
  const db = openDb(':memory:');
  const { datasetId } = await importDataset(db, { files: ['resources/sample/kuairand_likes_hates.tsv'], preset: 'kuairand', name: 'kuairand' });
  const split = loadSplit(db, ensureSplit(db, datasetId!).id);
  const config = resolveConfig(cmi, {});
  const model = cmi.create({ numItems: split.numItems, config, seed: 7, itemCounts: new Int32Array(split.numItems) });
  for (const phase of ['valid', 'test'] as const) {
    const set = evalSet(split, phase, Number(config.maxlen));
    const n = set.users.length;
    assert.ok(n > 100, `${phase}: ${n} users`);
    assertSame(retrieve(model, set.histories, n, set.maxlen, 200), retrieveTfjs(model, set.histories, n, set.maxlen, 200), phase);
  }
  model.dispose();
});

test('fused retrieval: a forward pass that fails mid-way leaves no work running', { skip }, () => {
  const c: Case = { n: 2100, m: 2, d: 8, numItems: 3000, maxlen: 5, k: 50, ties: false, seed: 13 };
  const { u, table, hist } = data(c);
  const model = fixedFlatModel(u, c.n, c.m, c.d, table, c.numItems);
  let calls = 0;
  const failing: SeqRecModel = {
    ...model,
    interests(h) {
      // The first batch is being scored on the native threads when the second fails.
      if (++calls === 2) throw new Error('forward pass failed');
      return model.interests(h);
    },
  };
  const before = tf.memory().numTensors;
  assert.throws(() => retrieve(failing, hist, c.n, c.maxlen, c.k), /forward pass failed/);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  compare(c);
});
