import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { comirecSa } from '../../src/main/models/comirec-sa.ts';
import { multiInterestAttention, selfAttentionParams } from '../../src/main/models/self-attention.ts';
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
  const config = resolveConfig(comirecSa, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return comirecSa.create({ numItems, config, seed: 1, itemCounts: new Int32Array(numItems) });
}

const rows3 = (t: tf.Tensor3D): number[][][] => {
  const a = t.arraySync();
  t.dispose();
  return a;
};

// ---------------------------------------------------------------------------------------------
// A tiny model with every weight known: d = 2, m = 2 heads, hidden 4d = 8, maxlen 3.

const ITEMS = [[0, 0], [1, 0], [0, 1], [0.6, 0.8], [-0.8, 0.6], [0.28, -0.96]];
const W1 = [[0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.6, -0.1], [0.2, 0.4, -0.3, 0.1, 0.5, -0.6, 0.1, 0.2]];
const B1 = [0.1, -0.1, 0, 0.2, 0.05, 0, -0.05, 0.1];
const W2 = [[1.3, -0.2], [0.1, 0.9], [-1.5, 0.2], [0.2, 1.1], [0.8, -1.3], [-0.1, 1.5], [0.7, 0.2], [1.6, -0.4]];
const POS = [[0.3, -0.3], [-0.5, 0.2], [0.4, 0.6]];

function tinyModel(overrides: Config = {}): SeqRecModel {
  const model = create({ dim: 2, interests: 2, maxlen: 3, ...overrides }, ITEMS.length);
  const v = model.variables;
  v.item.assign(tf.tensor2d(ITEMS));
  v['attention.w1'].assign(tf.tensor2d(W1));
  v['attention.b1'].assign(tf.tensor1d(B1));
  v['attention.w2'].assign(tf.tensor2d(W2));
  v.position?.assign(tf.tensor2d(POS));
  return model;
}

/** Hand attention of one row: A_j = softmax over valid t of W2[:, j] . tanh((e_t + p_t) W1 + b1),
 *  position rows aligned to the latest item; interests_j = sum_t A_jt e_t (no position). */
function handAttention(row: number[], withPosition: boolean): { a: number[][]; u: number[][] } {
  const L = row.length;
  const valid = row.map((_, t) => t).filter((t) => row[t] > 0);
  const key = (t: number): number[] => ITEMS[row[t]].map((x, c) => x + (withPosition ? POS[3 - L + t][c] : 0));
  const hidden = (t: number): number[] => vecMat(key(t), W1).map((x, i) => Math.tanh(x + B1[i]));
  const a = [0, 1].map((j) => {
    const p = softmax(valid.map((t) => dot(hidden(t), W2.map((r) => r[j]))));
    const full = Array(L).fill(0);
    valid.forEach((t, n) => (full[t] = p[n]));
    return full;
  });
  const u = a.map((aj) => [0, 1].map((c) => row.reduce((s, id, t) => s + aj[t] * ITEMS[id][c], 0)));
  return { a, u };
}

// ---------------------------------------------------------------------------------------------

test('self-attention: A = softmax(W2 tanh(W1 (H + P))) over valid steps, interests = A H', () => {
  for (const positionEmbedding of [true, false]) {
    const model = tinyModel({ positionEmbedding });
    assert.equal('position' in model.variables, positionEmbedding);
    const history = [[0, 1, 3], [2, 4, 5], [0, 0, 4]];
    const want = history.map((r) => handAttention(r, positionEmbedding));
    close(rows3(model.interests(ids2(history))).flat(2), want.flatMap((w) => w.u).flat());
    const { assignment } = model.inspect!(ids2(history));
    close(assignment!.dataSync(), want.flatMap((w, b) => history[b].map((_, t) => [w.a[0][t], w.a[1][t]])).flat());
    assignment!.dispose();
    // A narrower tensor with the same items: positions count from the latest item.
    close(rows3(model.interests(ids2([[1, 3], [0, 4]]))).flat(2), [want[0].u, want[2].u].flat(2));
    model.dispose();
  }
});

test('multiInterestAttention: a per-head mask limits each head to its positions; an empty head is zero', () => {
  const p = selfAttentionParams(2, 8, 2, 3);
  p.w1.assign(tf.tensor2d(W1));
  p.b1.assign(tf.tensor1d(B1));
  p.w2.assign(tf.tensor2d(W2));
  const row = [1, 3, 4];
  const x = tf.tensor3d([row.map((id) => ITEMS[id])]);
  const out = multiInterestAttention(p, x, x, tf.tensor3d([[[1, 0, 1], [0, 0, 0]]]));
  const full = handAttention(row, false);
  // Head 0 over positions 0 and 2 only: renormalise its logits there.
  const h = (t: number): number[] => vecMat(ITEMS[row[t]], W1).map((v, i) => Math.tanh(v + B1[i]));
  const a0 = softmax([0, 2].map((t) => dot(h(t), W2.map((r) => r[0]))));
  close(out.weights.dataSync(), [a0[0], 0, a0[1], 0, 0, 0]);
  close(out.interests.dataSync(), [0, 1].map((c) => a0[0] * ITEMS[1][c] + a0[1] * ITEMS[4][c]).concat([0, 0]));
  assert.ok(full.a[0][1] > 0); // without the mask, head 0 would weigh position 1 too
  tf.dispose([x, out.weights, out.interests, p.w1, p.b1, p.w2]);
});

test('training reads out the interest that best matches the target, then the in-batch sampled softmax', () => {
  const model = tinyModel();
  const history = [[0, 1, 3], [2, 4, 5]];
  const pos = [5, 2];
  const neg = [4, 1];
  const cands = [...pos, ...neg];
  const expected = history.reduce((s, row, b) => {
    const { u } = handAttention(row, true);
    const best = u[dot(u[0], ITEMS[pos[b]]) >= dot(u[1], ITEMS[pos[b]]) ? 0 : 1];
    const logits = cands.map((c) => dot(best, ITEMS[c]));
    return s + lse(logits) - logits[b];
  }, 0) / history.length;
  const batch = batchOf(history, pos, neg);
  close([tf.tidy(() => model.loss(batch, 0).total.dataSync()[0])], [expected]);
  disposeBatch(batch);
  model.dispose();
});

test('interests are [B, m, d] with m from config; padding never influences them', () => {
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
});

test('trains on clustered data: the loss goes down, no tensor leaks across steps', () => {
  const model = create({});
  const opt = createOptimizer(resolveConfig(comirecSa, { lr: 0.02 }));
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
