import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { comirecDr } from '../../src/main/models/comirec-dr.ts';
import { dynamicRouting, squash, stopGradient, type RoutingOutput } from '../../src/main/models/routing-ops.ts';
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
const squashJs = (z: number[]): number[] => {
  const sq = dot(z, z);
  return z.map((x) => (x * sq) / (1 + sq) / Math.sqrt(sq + 1e-9));
};

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

/**
 * Reference routing: votes[b][j][i] (capsule j, behaviour i), logits[j][i], valid[b][i].
 * Softmax over capsules per behaviour, padding weight 0, logits += u_j . vote_ji between
 * iterations.
 */
function routeJs(votes: number[][][][], logits0: number[][], valid: number[][], iterations: number): { caps: number[][][]; w: number[][][] } {
  const caps: number[][][] = [];
  const ws: number[][][] = [];
  votes.forEach((vb, b) => {
    const m = vb.length;
    const L = vb[0].length;
    const logits = logits0.map((r) => [...r]);
    let u: number[][] = [];
    let w: number[][] = [];
    for (let it = 0; it < iterations; it++) {
      const cols = Array.from({ length: L }, (_, i) => (valid[b][i] ? softmax(logits.map((r) => r[i])) : Array(m).fill(0)));
      w = Array.from({ length: m }, (_, j) => cols.map((c) => c[j]));
      u = vb.map((vj, j) => squashJs(vj.reduce((acc, v, i) => acc.map((x, k) => x + w[j][i] * v[k]), vj[0].map(() => 0))));
      if (it < iterations - 1) logits.forEach((r, j) => r.forEach((_, i) => (r[i] += dot(u[j], vb[j][i]))));
    }
    caps.push(u);
    ws.push(w);
  });
  return { caps, w: ws };
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
  const config = resolveConfig(comirecDr, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return comirecDr.create({ numItems, config, seed: 1, itemCounts: new Int32Array(numItems) });
}

function lossOf(model: SeqRecModel, batch: TrainBatch): number {
  return tf.tidy(() => model.loss(batch, 0).total.dataSync()[0]);
}

// ---------------------------------------------------------------------------------------------

test('squash: |z|^2/(1+|z|^2) z/|z|; a zero vector stays zero', () => {
  const got = squash(tf.tensor2d([[3, 4], [0, 0], [0.1, 0]]));
  close(got.dataSync(), [(25 / 26) * 0.6, (25 / 26) * 0.8, 0, 0, 0.01 / 1.01, 0]);
  got.dispose();
});

test('stopGradient: identity forward, no gradient backward', () => {
  const x = tf.tensor1d([1, -2, 3]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(stopGradient(v), v)))(x);
  close(g.dataSync(), [1, -2, 3]); // d/dv (c * v) with c = v held constant
  tf.dispose([x, g]);
});

test('dynamic routing with per-capsule votes matches a hand routing; padding gets no weight', () => {
  const r = lcg(3);
  const votes = [0, 1].map(() => [0, 1].map(() => [0, 1, 2].map(() => [r() - 0.5, r() - 0.5].map((x) => 3 * x))));
  const valid = [[0, 1, 1], [1, 1, 1]];
  const logits = [[0, 0, 0], [0, 0, 0]];
  const want = routeJs(votes, logits, valid, 3);
  const out = dynamicRouting(tf.tensor4d(votes), tf.tensor3d([logits]), tf.expandDims(tf.tensor2d(valid), 1), { iterations: 3, axis: 1 });
  close(out.capsules.dataSync(), want.caps.flat(2));
  close(out.coupling.dataSync(), want.w.flat(2));
  tf.dispose([out.capsules, out.coupling]);
});

test('routing logits carry no gradient: the gradient is that of the last iteration with its coupling held fixed', () => {
  const r = lcg(5);
  const votes = tf.tensor4d([0, 1].map(() => [0, 1].map(() => [0, 1, 2].map(() => [r() - 0.5, r() - 0.5, r() - 0.5].map((x) => 4 * x)))));
  const probe = tf.randomNormal([2, 2, 3], 0, 1, 'float32', 9);
  const mask = tf.ones([2, 1, 3]) as tf.Tensor3D;
  const route = (v: tf.Tensor4D): RoutingOutput => dynamicRouting(v, tf.zeros([1, 2, 3]) as tf.Tensor3D, mask, { iterations: 3, axis: 1 });
  const coupling = route(votes).coupling;
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(route(v as tf.Tensor4D).capsules, probe)))(votes);
  const fixed = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(squash(tf.sum(tf.mul(tf.expandDims(coupling, 3), v), 2)), probe)))(votes);
  close(g.dataSync(), fixed.dataSync());
  tf.dispose([votes, probe, mask, coupling, g, fixed]);
});

/** d = 2, m = 2, maxlen 3, items known, per-position maps known. */
const ITEMS = [[0, 0], [1, 0], [0, 1], [0.6, 0.8], [-0.8, 0.6], [0.28, -0.96]];
function tinyModel(): { model: SeqRecModel; maps: number[][][] } {
  const model = create({ dim: 2, interests: 2, maxlen: 3 }, ITEMS.length);
  const r = lcg(11);
  // maps[t] is [d, m*d]: vote of interest j at position t is e_t @ maps[t][:, 2j:2j+2].
  const maps = [0, 1, 2].map(() => [0, 1].map(() => [0, 1, 2, 3].map(() => 4 * (r() - 0.5))));
  model.variables.item.assign(tf.tensor2d(ITEMS));
  model.variables.maps.assign(tf.tensor3d(maps));
  return { model, maps };
}

function handInterests(row: number[], maps: number[][][]): number[][] {
  const L = row.length;
  const offset = maps.length - L; // right-aligned: the last column uses the last map
  const votes = [0, 1].map((j) => row.map((id, t) => [0, 1].map((k) => dot(ITEMS[id], maps[offset + t].map((c) => c[2 * j + k])))));
  return routeJs([votes], [Array(L).fill(0), Array(L).fill(0)], [row.map((id) => (id > 0 ? 1 : 0))], 3).caps[0];
}

test('interests: per-position maps (aligned to the latest item), zero initial logits, 3 iterations', () => {
  const { model, maps } = tinyModel();
  const history = [[0, 1, 3], [2, 4, 5], [0, 0, 4]];
  const got = model.interests(ids2(history));
  assert.deepEqual(got.shape, [3, 2, 2]);
  close(got.dataSync(), history.flatMap((row) => handInterests(row, maps)).flat());
  // A shorter tensor holds the same items at the same recency: same interests.
  const short = model.interests(ids2([[1, 3], [0, 4]]));
  close(short.dataSync(), [...handInterests([0, 1, 3], maps), ...handInterests([0, 0, 4], maps)].flat());
  tf.dispose([got, short]);
  model.dispose();
});

test('training reads out the interest that best matches the target, then the in-batch sampled softmax', () => {
  const { model, maps } = tinyModel();
  const history = [[0, 1, 3], [2, 4, 5]];
  const pos = [5, 2];
  const neg = [4, 1];
  const cands = [...pos, ...neg];
  const expected = history.reduce((s, row, b) => {
    const u = handInterests(row, maps);
    const best = u[dot(u[0], ITEMS[pos[b]]) >= dot(u[1], ITEMS[pos[b]]) ? 0 : 1];
    const logits = cands.map((c) => dot(best, ITEMS[c]));
    return s + lse(logits) - logits[b];
  }, 0) / history.length;
  const batch = batchOf(history, pos, neg);
  const out = tf.tidy(() => {
    const l = model.loss(batch, 0);
    return [l.total.dataSync()[0], l.terms.main.dataSync()[0]];
  });
  close(out, [expected, expected]);
  disposeBatch(batch);
  model.dispose();
});

test('interests are [B, m, d] with m from config; padding never influences them', () => {
  const model = create({ interests: 4 });
  const rows = [[0, 0, 1, 2, 3, 12], [5, 6, 7, 8, 9, 10]];
  const a = tf.tidy(() => model.interests(ids2(rows.map((r) => [...Array(6).fill(0), ...r]))).arraySync());
  assert.deepEqual([a.length, a[0].length, a[0][0].length], [2, 4, 16]);
  // Fewer padding columns, then a non-zero padding row: identical interests.
  const b = tf.tidy(() => model.interests(ids2(rows)).dataSync());
  const table = model.variables.item;
  table.assign(tf.tidy(() => tf.concat([tf.fill([1, 16], 0.7), tf.slice(table, [1, 0], [-1, -1])])));
  const c = tf.tidy(() => model.interests(ids2(rows)).dataSync());
  close(b, a.flat(2));
  close(c, a.flat(2));
  model.dispose();
});

test('trains on clustered data: the loss goes down, no tensor leaks across steps', () => {
  const model = create({});
  const opt = createOptimizer(resolveConfig(comirecDr, { lr: 0.05 }));
  const r = lcg(42);
  const losses: number[] = [];
  let tensorsAt5 = 0;
  for (let step = 1; step <= 40; step++) {
    const batch = syntheticBatch(r, 32);
    losses.push(trainStep(model, opt, batch, step).total);
    disposeBatch(batch);
    if (step === 5) tensorsAt5 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, tensorsAt5);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = mean(losses.slice(0, 5));
  const last = mean(losses.slice(-5));
  assert.ok(losses.every(Number.isFinite));
  assert.ok(last < first - 0.1, `loss ${first} -> ${last}`);
  opt.dispose();
  model.dispose();
});
