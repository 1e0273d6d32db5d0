import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { comirecDr } from '../../src/main/models/comirec-dr.ts';
import { stopGradient } from '../../src/main/models/ops/grad.ts';
import { dynamicRouting, squash, type RoutingOutput } from '../../src/main/models/ops/routing.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import type { Config, SeqRecModel } from '../../src/main/models/types.ts';
import {
  MAXLEN, NUM_ITEMS, assertTrainsOnClusters, batchOf, close, disposeBatch, dot, ids2, lcg,
  lse, softmax, squashJs, useBackend,
} from './harness.ts';

useBackend('wasm');

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

function create(overrides: Config, numItems = NUM_ITEMS): SeqRecModel {
  const config = resolveConfig(comirecDr, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return comirecDr.create({ numItems, config, seed: 1, itemCounts: new Int32Array(numItems) });
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

test('trains on clustered data: the loss goes down, no tensor leaks across steps', () => {
  const model = create({});
  assertTrainsOnClusters(model, resolveConfig(comirecDr, { lr: 0.05 }));
  model.dispose();
});
