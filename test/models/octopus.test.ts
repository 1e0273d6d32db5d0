import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { octopus } from '../../src/main/models/octopus.ts';
import { resolveConfig } from '../../src/main/train/config.ts';
import { createOptimizer } from '../../src/main/train/optimizer.ts';
import { trainStep } from '../../src/main/train/step.ts';
import type { Config, SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';

before(async () => {
  await initBackend('wasm');
});

// ---------------------------------------------------------------------------------------------
// Plain-JS reference maths and a small synthetic dataset with structure.

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);
const softmax = (xs: number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((x) => x / s);
};
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};
/** x @ W for a row vector x and W [in][out]. */
const vecMat = (x: number[], w: number[][]): number[] => w[0].map((_, k) => x.reduce((s, xi, i) => s + xi * w[i][k], 0));

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const CLUSTER = 10;
const NUM_ITEMS = 3 * CLUSTER + 1;
const MAXLEN = 12;
/** 40 users, each liking one or two of three item clusters (items 1-10, 11-20, 21-30). */
const USERS = ((): number[][] => {
  const r = lcg(7);
  return Array.from({ length: 40 }, (_, u) => (r() < 0.5 ? [u % 3] : [u % 3, (u + 1) % 3]));
})();

/** Rows of random users: 3-10 history items from their clusters, a positive from them, one
 *  random negative per row outside the history. */
function syntheticBatch(r: () => number, size: number): TrainBatch {
  const pick = (clusters: number[]): number => clusters[Math.floor(r() * clusters.length)] * CLUSTER + 1 + Math.floor(r() * CLUSTER);
  const history: number[][] = [];
  const pos: number[] = [];
  const neg: number[] = [];
  for (let b = 0; b < size; b++) {
    const clusters = USERS[Math.floor(r() * USERS.length)];
    const n = 3 + Math.floor(r() * 8);
    const items = Array.from({ length: n }, () => pick(clusters));
    history.push([...Array(MAXLEN - n).fill(0), ...items]);
    pos.push(pick(clusters));
    let k: number;
    do k = 1 + Math.floor(r() * (NUM_ITEMS - 1));
    while (items.includes(k));
    neg.push(k);
  }
  return batchOf(history, pos, neg);
}

const ids2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows, undefined, 'int32');
const ids1 = (xs: number[]): tf.Tensor1D => tf.tensor1d(xs, 'int32');
const batchOf = (history: number[][], pos: number[], neg: number[]): TrainBatch => ({
  size: pos.length, history: ids2(history), pos: ids1(pos), neg: ids1(neg), future: ids2(pos.map((p) => [p])),
});
const disposeBatch = (b: TrainBatch): void => tf.dispose([b.history, b.pos, b.neg, b.future]);

function create(overrides: Config, numItems = NUM_ITEMS): SeqRecModel {
  const config = resolveConfig(octopus, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return octopus.create({ numItems, config, seed: 1, itemCounts: new Int32Array(numItems) });
}

const rows3 = (t: tf.Tensor3D): number[][][] => {
  const a = t.arraySync();
  t.dispose();
  return a;
};

// ---------------------------------------------------------------------------------------------
// A tiny model with every weight known: d = 3, m = 3 channels along the axes, hidden 12.

const ITEMS = [[0, 0, 0], [1, 0.2, 0], [0.1, -2, 0.3], [-0.9, 0.5, 0.1], [0.2, 0.3, 0.4], [0, 0.4, -1], [0.5, 0.5, 0.1]];
const r0 = lcg(17);
const W1 = [0, 1, 2].map(() => Array.from({ length: 12 }, () => r0() - 0.5));
const B1 = Array.from({ length: 12 }, () => 0.2 * (r0() - 0.5));
const W2 = Array.from({ length: 12 }, () => [0, 1, 2].map(() => 3 * (r0() - 0.5)));

/** m channels (bases: the first m axes), heads: the first m columns of W2. */
function tinyModel(overrides: Config = {}, m = 3): SeqRecModel {
  const model = create({ dim: 3, interests: m, maxlen: 4, ...overrides }, ITEMS.length);
  const v = model.variables;
  v.item.assign(tf.tensor2d(ITEMS));
  v.bases.assign(tf.eye(m, 3));
  v['attention.w1'].assign(tf.tensor2d(W1));
  v['attention.b1'].assign(tf.tensor1d(B1));
  v['attention.w2'].assign(tf.tensor2d(W2.map((r) => r.slice(0, m))));
  return model;
}

/** Channel of an item with axis bases: argmax_k |θ_k| (first on ties). */
const channelOf = (id: number): number => {
  const a = ITEMS[id].map(Math.abs);
  return a.indexOf(Math.max(...a));
};

/** Hand Octopus interests of one row: softmax of head k's scores over channel k's items,
 *  weighted sums; inactive channels copy the channel with the most items (lowest on ties). */
function handInterests(row: number[]): { u: number[][]; channels: number[] } {
  const channels = row.map((id) => (id > 0 ? channelOf(id) : -1));
  const hidden = (id: number): number[] => vecMat(ITEMS[id], W1).map((x, i) => Math.tanh(x + B1[i]));
  const pooled = [0, 1, 2].map((k) => {
    const members = row.filter((_, t) => channels[t] === k);
    if (members.length === 0) return [0, 0, 0];
    const a = softmax(members.map((id) => dot(hidden(id), W2.map((r) => r[k]))));
    return [0, 1, 2].map((c) => members.reduce((s, id, n) => s + a[n] * ITEMS[id][c], 0));
  });
  const counts = [0, 1, 2].map((k) => channels.filter((c) => c === k).length);
  const largest = counts.indexOf(Math.max(...counts));
  return { u: pooled.map((p, k) => (counts[k] > 0 ? p : pooled[largest])), channels };
}

// ---------------------------------------------------------------------------------------------

test('each item goes to exactly one channel (argmax |θ·h_k|); attention runs within each channel', () => {
  const model = tinyModel();
  const history = [[1, 2, 3, 4], [0, 5, 6, 2], [0, 0, 1, 3]];
  const want = history.map(handInterests);
  assert.deepEqual(want.map((w) => w.channels), [[0, 1, 0, 2], [-1, 2, 0, 1], [-1, -1, 0, 0]]);
  close(rows3(model.interests(ids2(history))).flat(2), want.flatMap((w) => w.u).flat());
  const insp = model.inspect!(ids2(history));
  assert.deepEqual(insp.hard!.arraySync(), want.map((w) => w.channels));
  assert.deepEqual(insp.weights!.arraySync(), [[2, 1, 1], [1, 1, 1], [2, 0, 0]]);
  tf.dispose([insp.hard!, insp.weights!, insp.assignment!]);
  model.dispose();
});

test('elastic: an inactive channel repeats the largest active one, so it never changes the max score; no history gives zeros', () => {
  const model = tinyModel();
  const u = rows3(model.interests(ids2([[0, 0, 1, 3], [0, 0, 0, 0]])));
  assert.deepEqual(u[0][1], u[0][0]);
  assert.deepEqual(u[0][2], u[0][0]);
  assert.notDeepEqual(u[0][0], [0, 0, 0]);
  close(u[1].flat(), Array(9).fill(0));
  model.dispose();
});

test('loss: sampled softmax with max over channels plus the archive loss mean ||θ - θ HᵀH||² on unit θ', () => {
  // Two tilted orthonormal bases in 3-d: items off their plane leave a residual.
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const H = [[c, s, 0], [-s, c, 0]];
  const m2 = tinyModel({ lambdaArchive: 0.5 }, 2);
  m2.variables.bases.assign(tf.tensor2d(H));
  const history = [[0, 1, 2, 3], [0, 0, 5, 6]];
  const pos = [4, 1];
  const neg = [6, 2];
  const u = rows3(m2.interests(ids2(history)));
  const cands = [...pos, ...neg];
  const main = u.reduce((acc, ub, b) => {
    const logits = cands.map((id) => Math.max(...ub.map((v) => dot(v, ITEMS[id]))));
    return acc + lse(logits) - logits[b];
  }, 0) / 2;
  const valid = history.flat().filter((id) => id > 0);
  const recon = valid.reduce((acc, id) => {
    const n = Math.hypot(...ITEMS[id]);
    const t = ITEMS[id].map((x) => x / n);
    const rec = [0, 1, 2].map((k) => H.reduce((z, h) => z + dot(t, h) * h[k], 0));
    return acc + t.reduce((z, x, k) => z + (x - rec[k]) ** 2, 0);
  }, 0) / valid.length;
  const batch = batchOf(history, pos, neg);
  const got = tf.tidy(() => {
    const out = m2.loss(batch, 0);
    return [out.total, out.terms.main, out.terms.archive].map((t) => t.dataSync()[0]);
  });
  close(got, [main + 0.5 * recon, main, 0.5 * recon]);

  // Gradients: the hard routing passes none to the bases from the main loss; the archive loss
  // trains the bases and leaves the item embeddings alone.
  const { item, bases } = m2.variables;
  const gMain = tf.variableGrads(() => m2.loss(batch, 0).terms.main, [bases]);
  assert.ok(gMain.grads[bases.name].dataSync().every((x) => x === 0));
  const gArc = tf.variableGrads(() => m2.loss(batch, 0).terms.archive, [item, bases]);
  assert.ok(gArc.grads[item.name].dataSync().every((x) => x === 0));
  assert.ok(gArc.grads[bases.name].dataSync().some((x) => x !== 0));
  tf.dispose([...Object.values(gMain.grads), ...Object.values(gArc.grads)]);
  disposeBatch(batch);
  m2.dispose();
});

test('interests are [B, m, d] with m from config; padding never influences them; more channels than dim is refused', () => {
  const model = create({ interests: 4 });
  const rows = [[0, 0, 1, 2, 3, 12], [5, 6, 7, 8, 9, 10]];
  const a = rows3(model.interests(ids2(rows.map((r) => [...Array(6).fill(0), ...r]))));
  assert.deepEqual([a.length, a[0].length, a[0][0].length], [2, 4, 16]);
  const b = tf.tidy(() => model.interests(ids2(rows)).dataSync());
  const table = model.variables.item;
  table.assign(tf.tidy(() => tf.concat([tf.fill([1, 16], 0.7), tf.slice(table, [1, 0], [-1, -1])])));
  const c = tf.tidy(() => model.interests(ids2(rows)).dataSync());
  close(b, a.flat(2));
  close(c, a.flat(2));
  model.dispose();
  assert.throws(() => create({ dim: 4, interests: 5 }), /interests <= dim/);
});

test('trains on clustered data: the loss goes down, bases stay orthonormal, no tensor leaks across steps', () => {
  const model = create({});
  const opt = createOptimizer(resolveConfig(octopus, { lr: 0.02 }));
  const r = lcg(42);
  const losses: number[] = [];
  let tensorsAt5 = 0;
  for (let step = 1; step <= 40; step++) {
    const batch = syntheticBatch(r, 32);
    losses.push(trainStep(model, opt, batch, step).main);
    disposeBatch(batch);
    if (step === 5) tensorsAt5 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, tensorsAt5);
  const gram = tf.tidy(() => tf.matMul(model.variables.bases, model.variables.bases, false, true).dataSync());
  close(gram, tf.tidy(() => tf.eye(3).dataSync()), 1e-5);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = mean(losses.slice(0, 5));
  const last = mean(losses.slice(-5));
  assert.ok(losses.every(Number.isFinite));
  assert.ok(last < first - 0.1, `loss ${first} -> ${last}`);
  opt.dispose();
  model.dispose();
});
