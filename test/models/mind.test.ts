import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { mind } from '../../src/main/models/mind.ts';
import { deriveSeed } from '../../src/main/models/layers.ts';
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
const squash = (z: number[]): number[] => {
  const sq = dot(z, z);
  return z.map((x) => (x * sq) / (1 + sq) / Math.sqrt(sq + 1e-9));
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

const SEED = 1;
function create(overrides: Config, numItems = NUM_ITEMS): SeqRecModel {
  const config = resolveConfig(mind, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return mind.create({ numItems, config, seed: SEED, itemCounts: new Int32Array(numItems) });
}

const rows3 = (t: tf.Tensor3D): number[][][] => {
  const a = t.arraySync();
  t.dispose();
  return a;
};

// ---------------------------------------------------------------------------------------------
// A tiny model with every weight known: d = 2, m = 2, maxlen 3.

const ITEMS = [[0, 0], [1, 0], [0, 1], [0.6, 0.8], [-0.8, 0.6], [0.28, -0.96]];
const S = [[1.5, -0.5], [0.7, 2]];
const H1 = [[0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.6, -0.1], [0.2, 0.4, -0.3, 0.1, 0.5, -0.6, 0.1, 0.2]];
const HB1 = [0.1, -0.1, 0, 0.2, 0.05, 0, -0.05, 0.1];
const H2 = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.2, 0.1], [0.4, -0.3], [-0.1, 0.5], [0.2, 0.2], [0.6, -0.4]];
const HB2 = [0.05, -0.02];

function tinyModel(overrides: Config = {}): SeqRecModel {
  const model = create({ dim: 2, interests: 2, maxlen: 3, ...overrides }, ITEMS.length);
  const v = model.variables;
  v.item.assign(tf.tensor2d(ITEMS));
  v.S.assign(tf.tensor2d(S));
  v['h1.w'].assign(tf.tensor2d(H1));
  v['h1.b'].assign(tf.tensor1d(HB1));
  v['h2.w'].assign(tf.tensor2d(H2));
  v['h2.b'].assign(tf.tensor1d(HB2));
  return model;
}

/** The fixed initial routing logits: N(0, 1) drawn from the run seed under 'routingLogits'. */
function initialLogits(m: number, maxlen: number): number[][] {
  return tf.tidy(() => tf.randomNormal([m, maxlen], 0, 1, 'float32', deriveSeed(SEED, 'routingLogits')).arraySync() as number[][]);
}

/** Hand MIND user vectors for one left-padded row (right-aligned logits); `axis` 'interests'
 *  normalises each behaviour over the active capsules, 'behaviours' each capsule over items. */
function handUser(row: number[], axis: 'interests' | 'behaviours', k = 2): { user: number[][]; w: number[][] } {
  const m = 2;
  const L = row.length;
  const all = initialLogits(m, 3);
  const logits = all.map((r) => r.slice(3 - L));
  const votes = row.map((id) => vecMat(ITEMS[id], S));
  const valid = row.map((id) => id > 0);
  let caps: number[][] = [];
  let w: number[][] = [];
  for (let it = 0; it < 3; it++) {
    w = Array.from({ length: m }, () => Array(L).fill(0));
    if (axis === 'interests') {
      for (let i = 0; i < L; i++) {
        if (!valid[i]) continue;
        const p = softmax(logits.slice(0, k).map((r) => r[i]));
        p.forEach((x, j) => (w[j][i] = x));
      }
    } else {
      for (let j = 0; j < k; j++) {
        const idx = [...Array(L).keys()].filter((i) => valid[i]);
        const p = softmax(idx.map((i) => logits[j][i]));
        idx.forEach((i, n) => (w[j][i] = p[n]));
      }
    }
    caps = w.map((wj) => squash(votes.reduce((acc, v, i) => acc.map((x, c) => x + wj[i] * v[c]), [0, 0])));
    if (it < 2) logits.forEach((r, j) => r.forEach((_, i) => (r[i] += dot(caps[j], votes[i]))));
  }
  const user = caps.map((c) => {
    const hidden = vecMat(c, H1).map((x, i) => Math.max(0, x + HB1[i]));
    return vecMat(hidden, H2).map((x, i) => x + HB2[i]);
  });
  return { user: user.map((u, j) => (j < k ? u : user[0])), w };
}

// ---------------------------------------------------------------------------------------------

test('B2I routing: shared map S, fixed seeded random logits, softmax over interests, squash, H-layer', () => {
  const model = tinyModel();
  const history = [[0, 1, 3], [2, 4, 5], [0, 0, 4]];
  close(rows3(model.interests(ids2(history))).flat(2), history.flatMap((r) => handUser(r, 'interests').user).flat());
  // The coupling of each valid behaviour sums to 1 over the interests; padding gets none.
  const insp = model.inspect!(ids2(history));
  close(insp.assignment!.dataSync(), history.flatMap((r) => {
    const { w } = handUser(r, 'interests');
    return r.map((_, i) => [w[0][i], w[1][i]]);
  }).flat());
  tf.dispose([insp.assignment!, insp.weights!]);
  // Same logits at every forward: a second call gives the same vectors.
  close(rows3(model.interests(ids2(history))).flat(2), history.flatMap((r) => handUser(r, 'interests').user).flat());
  model.dispose();
});

test("routingSoftmax 'behaviours' (Wang-Yu-Qing's code): each interest averages the valid behaviours", () => {
  const model = tinyModel({ routingSoftmax: 'behaviours' });
  const history = [[0, 1, 3], [2, 4, 5]];
  close(rows3(model.interests(ids2(history))).flat(2), history.flatMap((r) => handUser(r, 'behaviours').user).flat());
  model.dispose();
});

test('label-aware attention at training: softmax((u_l . e_pos)^p) weights; that vector scores every batch candidate', () => {
  for (const p of [2, 1, 0]) {
    const model = tinyModel({ pow: p });
    const history = [[0, 1, 3], [2, 4, 5]];
    const pos = [5, 2];
    const neg = [4, 1];
    const cands = [...pos, ...neg];
    const expected = history.reduce((s, row, b) => {
      const { user } = handUser(row, 'interests');
      const a = softmax(user.map((u) => (p === 0 ? 0 : dot(u, ITEMS[pos[b]]) ** p)));
      const v = [0, 1].map((c) => a[0] * user[0][c] + a[1] * user[1][c]);
      const logits = cands.map((c) => dot(v, ITEMS[c]));
      return s + lse(logits) - logits[b];
    }, 0) / history.length;
    const batch = batchOf(history, pos, neg);
    const got = tf.tidy(() => model.loss(batch, 0).total.dataSync()[0]);
    close([got], [expected]);
    disposeBatch(batch);
    model.dispose();
  }
});

test("dynamic interests: K'_u = max(1, min(m, floor(log2 n))); inactive interests repeat interest 0 and get no attention", () => {
  const model = create({ interests: 3, dynamicInterests: true });
  const counts = [1, 3, 4, 7, 8, 12];
  const rows = counts.map((n) => [...Array(MAXLEN - n).fill(0), ...Array.from({ length: n }, (_, i) => 1 + ((i * 7) % 30))]);
  const u = rows3(model.interests(ids2(rows)));
  const k = counts.map((n) => Math.max(1, Math.min(3, Math.floor(Math.log2(n)))));
  assert.deepEqual(k, [1, 1, 2, 2, 3, 3]);
  u.forEach((row, b) => {
    for (let j = 1; j < 3; j++) {
      const same = row[j].every((x, c) => x === row[0][c]);
      assert.equal(same, j >= k[b], `row ${b} interest ${j}`);
    }
  });
  const w = model.inspect!(ids2(rows)).weights!;
  const wa = w.arraySync();
  w.dispose();
  wa.forEach((row, b) => row.forEach((x, j) => assert.equal(x === 0, j >= k[b], `weight ${b},${j}`)));
  model.dispose();

  // In the loss, a user with K' = 1 uses interest 0 alone: the tiny model with m = 2.
  const tiny = tinyModel({ dynamicInterests: true });
  const history = [[0, 1, 3]];
  const batch = batchOf(history, [5], [4]);
  const { user } = handUser(history[0], 'interests', 1);
  const logits = [5, 4].map((c) => dot(user[0], ITEMS[c]));
  close([tf.tidy(() => tiny.loss(batch, 0).total.dataSync()[0])], [lse(logits) - logits[0]]);
  disposeBatch(batch);
  tiny.dispose();
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
  const opt = createOptimizer(resolveConfig(mind, { lr: 0.02 }));
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
