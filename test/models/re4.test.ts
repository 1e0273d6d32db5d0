import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { re4, attendedItems, reAttendLoss, reContrastLoss, reconstruct, reconstructionErrors, type ReconstructParams } from '../../src/main/models/re4.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import type { Config, SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';
import {
  SAMPLED_ITEMS, assertDrops, close, clusteredSampler, dot, ids2, lse, softmax, trainSteps, useBackend,
} from './harness.ts';

useBackend('wasm');

const unit = (a: number[]): number[] => a.map((x) => x / Math.hypot(...a));

function model(overrides: Config = {}): SeqRecModel {
  const config = resolveConfig(re4, { dim: 16, interests: 4, batchSize: 32, maxlen: 20, ...overrides });
  return re4.create({ numItems: SAMPLED_ITEMS, config, seed: 5, itemCounts: new Int32Array(SAMPLED_ITEMS) });
}

test('trains on clustered histories: the loss and its main term go down, no tensor leaks', () => {
  const sampler = clusteredSampler({ dataSeed: 9, seed: 2, future: false });
  const m = model();
  const outs = trainSteps(m, resolveConfig(re4, { lr: 0.01 }), () => toTensors(sampler.next()), { steps: 40, firstStep: 0, baselineStep: 0 });
  for (const out of outs) assert.deepEqual(Object.keys(out).sort(), ['attend', 'construct', 'contrast', 'main', 'total']);
  assertDrops(outs.map((out) => out.total), 0, 'total ');
  assertDrops(outs.map((out) => out.main), 0, 'main ');
  m.dispose();
});

test('inspect: each interest\'s attention over the history sums to 1', () => {
  const m = model({ interests: 3 });
  const insp = m.inspect!(ids2([[0, 0, 3, 4]]));
  assert.deepEqual(insp.assignment!.shape, [1, 4, 3]);
  close(tf.sum(insp.assignment!, 1).dataSync(), [1, 1, 1]);
  m.dispose();
});

test('every variable gets a gradient from the full loss', () => {
  const m = model();
  const batch: TrainBatch = { size: 3, history: ids2([[0, 1, 2, 3], [4, 5, 6, 7], [0, 0, 8, 9]]), pos: tf.tensor1d([10, 11, 12], 'int32'), neg: tf.tensor1d([13, 14, 15], 'int32'), future: ids2([[1], [1], [1]]) };
  const vars = Object.entries(m.variables);
  const { grads } = tf.variableGrads(() => m.loss(batch, 0).total, vars.map(([, v]) => v));
  for (const [name, v] of vars) {
    const g = grads[v.name];
    assert.ok(g && tf.sum(tf.abs(g)).dataSync()[0] > 0, `${name} has a gradient`);
  }
  m.dispose();
});

// Tiny hand cases: B = 2 users, K = 2 interests, L = 3 positions, d = 2.
const X = [[[0, 0], [1, 0], [0.6, 0.8]], [[0, 1], [-1, 0.5], [0.3, -0.4]]];
const MASK = [[0, 1, 1], [1, 1, 1]];
const Z = [[[1, 0.2], [0.1, 1]], [[-0.5, 1], [1, -1]]];
const W = [[[0, 0.7, 0.3], [0, 0.45, 0.55]], [[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]];

test('attended items: attention above 1/length, never padding', () => {
  // Row 0 has 2 items (gate 0.5), row 1 has 3 (gate 1/3).
  const pos = attendedItems(tf.tensor3d(W), tf.tensor2d(MASK)).arraySync();
  assert.deepEqual(pos, [[[0, 1, 0], [0, 0, 1]], [[0, 1, 0], [0, 0, 1]]]);
});

test('re-attend: cross-entropy of the forward attention against softmax_j(z_k . x_j) over valid items', () => {
  let total = 0;
  let rows = 0;
  for (let b = 0; b < 2; b++) {
    const valid = [0, 1, 2].filter((j) => MASK[b][j] === 1);
    for (let k = 0; k < 2; k++) {
      const target = softmax(valid.map((j) => dot(Z[b][k], X[b][j])));
      total += -valid.reduce((s, j, t) => s + target[t] * Math.log(W[b][k][j]), 0);
      rows++;
    }
  }
  close(reAttendLoss(tf.tensor3d(W), tf.tensor3d(Z), tf.tensor3d(X), tf.tensor2d(MASK)).dataSync(), [total / rows]);
});

test('re-contrast: each attended pair against own items, other interests and the previous user items (InfoNCE)', () => {
  const tau = 0.5;
  const positives = [[[0, 1, 0], [0, 0, 1]], [[0, 1, 0], [0, 0, 1]]];
  let total = 0;
  let count = 0;
  for (let b = 0; b < 2; b++) {
    const other = (b + 1) % 2; // the batch rolled by one: row 0 sees row 1's items and vice versa
    for (let k = 0; k < 2; k++) {
      const zk = unit(Z[b][k]);
      const cos = (x: number[]) => dot(zk, unit(x)) / tau;
      const cands = [
        ...[0, 1, 2].filter((j) => MASK[b][j]).map((j) => cos(X[b][j])),
        ...[0, 1].filter((k2) => k2 !== k).map((k2) => dot(zk, unit(Z[b][k2])) / tau),
        ...[0, 1, 2].filter((j) => MASK[other][j]).map((j) => cos(X[other][j])),
      ];
      for (let j = 0; j < 3; j++) {
        if (!positives[b][k][j]) continue;
        total += lse(cands) - cos(X[b][j]);
        count++;
      }
    }
  }
  const got = reContrastLoss(tf.tensor3d(Z), tf.tensor3d(X), tf.tensor2d(MASK), tf.tensor3d(positives), tau);
  close(got.dataSync(), [total / count]);
});

test('re-construct: position-query attention over the proposals, squared error on attended items', () => {
  // One user, one interest, L = P = 3, d = 2; padding at column 0.
  const z = [0.5, -1];
  const wProp = [[0.1, 0.2, -0.3, 0.4, 0.5, -0.6], [0.7, -0.1, 0.2, 0.3, -0.4, 0.1]];
  const bProp = [0.05, 0, -0.05, 0.1, 0, 0.2];
  const wk = [[0.3, -0.2], [0.5, 0.4]];
  const q = [[1, 0], [0, 1], [0.5, 0.5]];
  const wv = [[0.9, 0.1], [-0.2, 0.8]];
  const p: ReconstructParams = {
    propose: { w: tf.variable(tf.tensor2d(wProp)) as tf.Variable<tf.Rank.R2>, b: tf.variable(tf.tensor1d(bProp)) as tf.Variable<tf.Rank.R1> },
    key: tf.variable(tf.tensor2d(wk)) as tf.Variable<tf.Rank.R2>,
    query: tf.variable(tf.tensor2d(q)) as tf.Variable<tf.Rank.R2>,
    value: tf.variable(tf.tensor2d(wv)) as tf.Variable<tf.Rank.R2>,
  };
  const flat = [0, 1, 2, 3, 4, 5].map((o) => z[0] * wProp[0][o] + z[1] * wProp[1][o] + bProp[o]);
  const proposal = (position: number) => [flat[2 * position], flat[2 * position + 1]];
  // Column j holds position-from-end 2 - j.
  const prop = [0, 1, 2].map((j) => proposal(2 - j));
  const keys = prop.map((r) => [Math.tanh(dot(r, wk[0])), Math.tanh(dot(r, wk[1]))]); // r W^T
  const values = prop.map((r) => [r[0] * wv[0][0] + r[1] * wv[1][0], r[0] * wv[0][1] + r[1] * wv[1][1]]);
  const recon = [0, 1, 2].map((i) => {
    const a = softmax([1, 2].map((j) => dot(keys[j], q[2 - i])));
    return [0, 1].map((c) => a[0] * values[1][c] + a[1] * values[2][c]);
  });
  const got = reconstruct(p, tf.tensor3d([[z]]), tf.tensor2d([[0, 1, 1]]));
  close(got.dataSync(), recon.flat());
  // Squared error on the attended position only (column 2), summed over dimensions.
  const items = [[0, 0], [1, 0], [0.6, 0.8]];
  const expected = (recon[2][0] - 0.6) ** 2 + (recon[2][1] - 0.8) ** 2;
  close(reconstructionErrors(got, tf.tensor3d([items]), tf.tensor3d([[[0, 0, 1]]])).dataSync(), [expected]);
});
