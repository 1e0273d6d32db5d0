// Left-padding packing (seq-ops.ts): models that sort rows by length and trim each chunk to the
// columns its rows fill must give what the untrimmed computation gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { dssrec } from '../../src/main/models/dssrec.ts';
import { opal } from '../../src/main/models/opal.ts';
import { reconstruct, reconstructionErrors, type ReconstructParams } from '../../src/main/models/re4.ts';
import { sampledSoftmaxLoss } from '../../src/main/models/ops/losses.ts';
import { lastColumns, lengthOrder, positionRows, positionsFromEnd, usedWidth } from '../../src/main/models/ops/padding.ts';
import { dense, denseParams } from '../../src/main/models/ops/transformer.ts';
import { maskedSoftmax } from '../../src/main/models/ops/masks.ts';
import { attendPadded, multiInterestAttention, selfAttentionParams } from '../../src/main/models/ops/attention.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import { SAMPLED_ITEMS, close, clusteredSampler, ids2, useBackend } from './harness.ts';

useBackend('wasm');

test('lengthOrder sorts rows longest first (stably) with its inverse; usedWidth and lastColumns keep every row\'s items', () => {
  const ids = ids2([[0, 0, 4, 5], [1, 2, 3, 4], [0, 0, 0, 7], [0, 0, 8, 9]]);
  const { order, inverse } = lengthOrder(ids);
  assert.deepEqual(Array.from(order.dataSync()), [1, 0, 3, 2]);
  assert.deepEqual(Array.from(inverse.dataSync()), [1, 0, 3, 2].map((_, r) => [1, 0, 3, 2].indexOf(r)));
  assert.equal(usedWidth(ids), 4);
  const short = ids2([[0, 0, 4, 5], [0, 0, 0, 7]]);
  assert.equal(usedWidth(short), 2);
  assert.deepEqual(lastColumns(short, 2, 1).arraySync(), [[4, 5], [0, 7]]);
  assert.equal(usedWidth(ids2([[0, 0], [0, 0]])), 1, 'at least one column');
  const x = tf.reshape(tf.range(0, 24), [2, 3, 4]);
  assert.deepEqual(lastColumns(x, 2, 2).shape, [2, 3, 2]);
  assert.equal(lastColumns(x, 4, 2), x, 'nothing to trim: the same tensor');
});

test('Re4: the reconstruction error over the columns a chunk fills equals the full-width error', () => {
  const [B, K, L, d, P] = [3, 2, 7, 4, 7];
  const p: ReconstructParams = {
    propose: denseParams(d, P * d, 3),
    key: tf.variable(tf.randomNormal([d, d], 0, 0.5, 'float32', 4)) as tf.Variable<tf.Rank.R2>,
    query: tf.variable(tf.randomNormal([P, d], 0, 0.5, 'float32', 5)) as tf.Variable<tf.Rank.R2>,
    value: tf.variable(tf.randomNormal([d, d], 0, 0.5, 'float32', 6)) as tf.Variable<tf.Rank.R2>,
  };
  const z = tf.randomNormal([B, K, d], 0, 1, 'float32', 7) as tf.Tensor3D;
  const mask = tf.tensor2d([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1]]);
  const items = tf.mul(tf.randomNormal([B, L, d], 0, 1, 'float32', 8), tf.expandDims(mask, -1)) as tf.Tensor3D;
  // Positives only on items, as attendedItems gives them.
  const positives = tf.mul(tf.cast(tf.greater(tf.randomUniform([B, K, L], 0, 1, 'float32', 9), 0.4), 'float32'), tf.expandDims(mask, 1)) as tf.Tensor3D;
  const full = reconstructionErrors(reconstruct(p, z, mask), items, positives);
  const w = usedWidth(mask);
  assert.equal(w, 4);
  const trimmed = reconstructionErrors(reconstruct(p, z, lastColumns(mask, w, 1)), lastColumns(items, w, 1), lastColumns(positives, w, 2));
  close(trimmed.dataSync(), full.dataSync(), 1e-5);
});

test('Re4: the decoder proposes only the positions a chunk holds: the same values and gradients as all P proposals', () => {
  const [B, K, d, P] = [3, 2, 4, 9];
  const p: ReconstructParams = {
    propose: denseParams(d, P * d, 13),
    key: tf.variable(tf.randomNormal([d, d], 0, 0.5, 'float32', 14)) as tf.Variable<tf.Rank.R2>,
    query: tf.variable(tf.randomNormal([P, d], 0, 0.5, 'float32', 15)) as tf.Variable<tf.Rank.R2>,
    value: tf.variable(tf.randomNormal([d, d], 0, 0.5, 'float32', 16)) as tf.Variable<tf.Rank.R2>,
  };
  // The decoder before the change: every one of the P proposals, then the L columns' gathered.
  const allProposals = (z: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor4D => {
    const L = mask.shape[1];
    const all = tf.reshape(dense(p.propose, z), [B * K, P, d]);
    const proposals = tf.reshape(tf.gather(all, positionsFromEnd(L), 1), [-1, d]);
    const keys = tf.tanh(tf.matMul(proposals, p.key, false, true));
    const scores = tf.reshape(tf.matMul(keys, positionRows(p.query, L), false, true), [B, K, L, L]);
    const attn = maskedSoftmax(tf.transpose(scores, [0, 1, 3, 2]), tf.reshape(mask, [B, 1, 1, L]));
    return tf.matMul(attn as tf.Tensor4D, tf.reshape(tf.matMul(proposals, p.value), [B, K, L, d]) as tf.Tensor4D);
  };
  const z = tf.randomNormal([B, K, d], 0, 1, 'float32', 17) as tf.Tensor3D;
  for (const L of [4, P]) {
    const mask = tf.tensor2d(Array.from({ length: B }, (_, b) => Array.from({ length: L }, (_, j) => (j >= b ? 1 : 0))));
    const w = tf.randomNormal([B, K, L, d], 0, 1, 'float32', 18);
    const vars = [p.propose.w, p.propose.b, p.key, p.query, p.value];
    const grads = (f: (z: tf.Tensor3D, m: tf.Tensor2D) => tf.Tensor4D) => {
      const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(f(z, mask), w)) as tf.Scalar, vars);
      const dz = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor3D, mask), w)))(z);
      return [value, dz, ...vars.map((v) => g[v.name])];
    };
    const want = grads(allProposals);
    const got = grads((x, m) => reconstruct(p, x, m));
    close(reconstruct(p, z, mask).dataSync(), allProposals(z, mask).dataSync(), 1e-5);
    want.forEach((t, i) => close(got[i].dataSync(), t.dataSync(), 1e-5));
  }
});

test('multi-interest attention over length-sorted, trimmed chunks equals the padded-width attention (values, gradients)', () => {
  // 300 rows: three chunks of 128; lengths 0 (an empty row) to the full width, one row with a hole.
  const [B, L, d, heads] = [300, 30, 8, 4];
  const p = selfAttentionParams(d, 16, heads, 21);
  const lengths = Array.from({ length: B }, (_, r) => (r * 7919) % (L + 1));
  const rows = lengths.map((n) => Array.from({ length: L }, (_, j) => (j >= L - n ? 1 : 0)));
  rows[5] = rows[5].map((v, j) => (j === L - 3 ? 0 : v));
  const mask = tf.tensor2d(rows);
  const keys = tf.randomNormal([B, L, d], 0, 1, 'float32', 22) as tf.Tensor3D;
  const values = tf.randomNormal([B, L, d], 0, 1, 'float32', 23) as tf.Tensor3D;
  const wW = tf.randomNormal([B, heads, L], 0, 1, 'float32', 24);
  const wI = tf.randomNormal([B, heads, d], 0, 1, 'float32', 25);
  const run = (attend: typeof attendPadded) => {
    const f = (k: tf.Tensor, v: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor) => {
      const out = attend({ w1, b1, w2 } as unknown as typeof p, k as tf.Tensor3D, v as tf.Tensor3D, mask);
      return tf.add(tf.sum(tf.mul(out.weights, wW)), tf.sum(tf.mul(out.interests, wI)));
    };
    const out = attend(p, keys, values, mask);
    return [out.weights, out.interests, ...tf.grads(f)([keys, values, p.w1, p.b1, p.w2])];
  };
  const want = run(attendPadded);
  const got = run(multiInterestAttention);
  assert.deepEqual(got[0].shape, [B, heads, L]);
  want.forEach((t, i) => close(got[i].dataSync(), t.dataSync(), 1e-5));
  assert.equal(tf.sum(tf.abs(tf.slice(got[1], [0, 0, 0], [1, heads, d]))).dataSync()[0], 0, 'the empty row (length 0) has zero interests');
});

test('DSSRec: the sorted, trimmed training pass gives the untrimmed intentions (seq2item term without dropout)', () => {
  const config = resolveConfig(dssrec, { dim: 16, interests: 3, batchSize: 24, maxlen: 20, futureLen: 8, dropout: 0, lambdaSeq2seq: 0 });
  const m = dssrec.create({ numItems: SAMPLED_ITEMS, config, seed: 5, itemCounts: new Int32Array(SAMPLED_ITEMS) });
  const batch = toTensors(clusteredSampler({ dataSeed: 3, seed: 4, future: false }).next());
  const { terms } = m.loss(batch, 0);
  const table = m.itemTable();
  // interests() runs the Transformer over the whole padded width, in the batch's row order.
  const want = sampledSoftmaxLoss(m.interests(batch.history), batch.pos, batch.neg, table, Math.sqrt(16));
  close(terms.main.dataSync(), want.dataSync(), 1e-4);
  m.dispose();
});

test('OPAL fine-tune: a batch of mixed lengths (sorted, trimmed per chunk) gives each row what it gets alone', () => {
  const config = resolveConfig(opal, { dim: 8, interests: 3, maxlen: 10 });
  const m = opal.create({ numItems: SAMPLED_ITEMS, config, seed: 7, itemCounts: new Int32Array(SAMPLED_ITEMS) });
  m.stage = 'finetune';
  const rows = [[0, 0, 0, 0, 0, 0, 3, 9, 14, 2], [5, 1, 44, 7, 12, 30, 8, 6, 21, 11], [0, 0, 0, 0, 0, 0, 0, 0, 0, 40], [0, 0, 0, 17, 23, 9, 51, 4, 2, 33]];
  const together = m.interests(ids2(rows)).arraySync();
  // Alone, each row is trimmed to its own length.
  rows.forEach((row, r) => close(m.interests(ids2([row])).dataSync(), together[r].flat(), 1e-5));
  m.dispose();
});
