import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { dssrec, seq2seqLoss } from '../../src/main/models/dssrec.ts';
import { checkpointRows, smallestMask } from '../../src/main/models/ops/grad.ts';
import { causalBias, hostDropout, transformerLayer, transformerLayerParams } from '../../src/main/models/ops/transformer.ts';
import { Rng } from '../../src/main/data/rng.ts';
import { useFusedKernels } from '../../src/main/engine/fused.ts';
import { nativeDropoutMask } from '../../src/main/engine/blas.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import type { Config, SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';
import { SAMPLED_ITEMS, assertDrops, close, clusteredSampler, ids2, trainSteps, useBackend } from './harness.ts';

useBackend('wasm');

function model(overrides: Config = {}): SeqRecModel {
  const config = resolveConfig(dssrec, { dim: 16, interests: 4, batchSize: 32, maxlen: 20, futureLen: 8, ...overrides });
  return dssrec.create({ numItems: SAMPLED_ITEMS, config, seed: 5, itemCounts: new Int32Array(SAMPLED_ITEMS) });
}

test('trains with the future window: the loss and its main term go down, no tensor leaks (default dropout 0.5)', () => {
  const m = model();
  assert.equal(m.needs.future, true);
  const sampler = clusteredSampler({ dataSeed: 9, seed: 2, future: true });
  const outs = trainSteps(m, resolveConfig(dssrec, { lr: 0.02 }), () => toTensors(sampler.next()), { steps: 40, firstStep: 0, baselineStep: 0 });
  for (const out of outs) assert.deepEqual(Object.keys(out).sort(), ['main', 'seq2seq', 'total']);
  assertDrops(outs.map((out) => out.total), 0, 'total ');
  assertDrops(outs.map((out) => out.main), 0, 'main ');
  m.dispose();
});

test('two stages by default: pre-train with seq2seq, then fine-tune on seq2item alone; pretrain alone is one joint stage', () => {
  const batch = (): TrainBatch => ({ size: 3, history: ids2([[0, 1, 2, 3], [4, 5, 6, 7], [0, 0, 8, 9]]), pos: tf.tensor1d([10, 11, 12], 'int32'), neg: tf.tensor1d([13, 14, 15], 'int32'), future: ids2([[0, 20, 21], [22, 23, 24], [0, 0, 25]]) });
  const m = model({ dropout: 0 });
  assert.deepEqual(m.stages, ['pretrain', 'finetune']);
  assert.equal(m.stage, 'pretrain');
  const pre = m.loss(batch(), 0);
  assert.ok(pre.terms.seq2seq.dataSync()[0] > 0);
  m.stage = 'finetune';
  const fine = m.loss(batch(), 0);
  assert.equal(fine.terms.seq2seq.dataSync()[0], 0);
  close(fine.total.dataSync(), fine.terms.main.dataSync());
  close(fine.terms.main.dataSync(), pre.terms.main.dataSync(), 1e-6);
  // The seq2seq term has no say in the fine-tune gradients: the future-only biases get none.
  const { grads } = tf.variableGrads(() => m.loss(batch(), 0).total, [m.variables.betaFuture, m.variables.item]);
  assert.equal(tf.sum(tf.abs(grads[m.variables.betaFuture.name])).dataSync()[0], 0);
  assert.ok(tf.sum(tf.abs(grads[m.variables.item.name])).dataSync()[0] > 0);
  assert.throws(() => (m.stage = 'warmup'), /unknown stage 'warmup'/);
  m.dispose();
  const joint = model({ trainStages: 'pretrain' });
  assert.deepEqual(joint.stages, ['pretrain']);
  joint.dispose();
  const noSeq2seq = model({ lambdaSeq2seq: 0 });
  assert.deepEqual(noSeq2seq.stages, ['pretrain'], 'without seq2seq both stages would train the same loss');
  noSeq2seq.dispose();
});

test('dropout is a training-time thing: inference is deterministic, row by row', () => {
  const m = model({ interests: 3 });
  const a = m.interests(ids2([[5, 17, 42, 8], [0, 0, 33, 2]]));
  close(m.interests(ids2([[5, 17, 42, 8]])).dataSync(), Array.from(a.dataSync()).slice(0, 3 * 16), 1e-5);
  a.dispose();
  m.dispose();
});

test('lambdaSeq2seq 0 needs no future window and drops the term to 0', () => {
  const m = model({ lambdaSeq2seq: 0, dropout: 0 });
  assert.equal(m.needs.future, false);
  const batch: TrainBatch = { size: 2, history: ids2([[0, 1, 2], [3, 4, 5]]), pos: tf.tensor1d([6, 7], 'int32'), neg: tf.tensor1d([8, 9], 'int32'), future: ids2([[0], [0]]) };
  const out = m.loss(batch, 0);
  assert.equal(out.terms.seq2seq.dataSync()[0], 0);
  m.dispose();
});

test('causal attention: an output never depends on later items or on padding', () => {
  const p = transformerLayerParams(8, 3);
  const x = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 4) as tf.Tensor3D;
  const mask = tf.tensor2d([[0, 1, 1, 1, 1]]);
  const y = transformerLayer(p, x, causalBias(mask), 2).arraySync()[0];
  // Change the last item and the padding row: earlier valid outputs stay.
  const x2 = tf.concat([tf.randomNormal([1, 1, 8], 0, 1, 'float32', 5), tf.slice(x, [0, 1, 0], [1, 3, 8]), tf.randomNormal([1, 1, 8], 0, 1, 'float32', 6)], 1) as tf.Tensor3D;
  const y2 = transformerLayer(p, x2, causalBias(mask), 2).arraySync()[0];
  for (const t of [1, 2, 3]) close(y2[t], y[t], 1e-5);
  assert.ok(y2[4].some((v, i) => Math.abs(v - y[4][i]) > 1e-3), 'the last output sees the last item');
});

test('host dropout: inverted (kept entries scaled by 1/(1-rate)), seeded, about rate dropped', () => {
  const x = tf.ones([100, 50]);
  const a = hostDropout(0.3, new Rng(4))(x).dataSync();
  const b = hostDropout(0.3, new Rng(4))(x).dataSync();
  assert.deepEqual(a, b, 'same seed, same mask');
  assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
  const dropped = a.filter((v) => v === 0).length / a.length;
  assert.ok(dropped > 0.25 && dropped < 0.35, `dropped ${dropped}`);
});

test('Rng.fillDropoutMask and the addon draw exactly what the next() loop draws, and leave the same state', () => {
  for (const [seed, rate, n] of [[4, 0.3, 1000], [9, 0.5, 4097], [1, 0, 10], [2, 0.99, 300]] as const) {
    const loop = new Rng(seed);
    const want = Float32Array.from({ length: n }, () => (loop.next() < rate ? 0 : 1 / (1 - rate)));
    const fast = new Rng(seed);
    const got = new Float32Array(n);
    fast.fillDropoutMask(got, rate, 1 / (1 - rate));
    assert.deepEqual(got, want, `seed ${seed}, rate ${rate}: same mask`);
    assert.deepEqual(fast.getState(), loop.getState(), 'same state after');
    const native = nativeDropoutMask();
    if (native) {
      // The addon's copy of the loop (native/blas/dropout.c): the same mask and state.
      const state = Uint32Array.from(new Rng(seed).getState());
      const inC = new Float32Array(n);
      native(state, rate * 4294967296, 1 / (1 - rate), inC);
      assert.deepEqual(inC, want, `seed ${seed}, rate ${rate}: same mask in C`);
      assert.deepEqual(Array.from(state), loop.getState(), 'same state after, in C');
    }
  }
});

test('smallestMask keeps the n smallest (ties at the n-th kept) and passes no gradient', () => {
  const v = tf.tensor1d([3, 1, 4, 1, 5, 9, 2]);
  assert.deepEqual(Array.from(smallestMask(v, 3).dataSync()), [0, 1, 0, 1, 0, 0, 1]);
  assert.deepEqual(Array.from(smallestMask(v, 1).dataSync()), [0, 1, 0, 1, 0, 0, 0]);
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, smallestMask(x as tf.Tensor1D, 3))))(v);
  assert.deepEqual(Array.from(g.dataSync()), [0, 1, 0, 1, 0, 0, 1], 'only through the product, not the selection');
});

test('seq2seq loss by hand: each (sequence, intention) picks its future among all B*K; the confident half is summed per sequence', () => {
  // B = 2, K = 2, d = 4.
  const past = [[[1, 0, 0, 0], [0, 2, 0, 0]], [[0, 0, 1, 1], [1, 1, 0, 0]]];
  const fut = [[[2, 0, 0, 0], [0, 1, 0, 0]], [[0, 0, 0, 1], [0, 1, 1, 0]]];
  const rows = past.flat();
  const cols = fut.flat();
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / 2; // / sqrt(4)
  const losses = rows.map((a, i) => {
    const logits = cols.map((b) => dot(a, b));
    const m = Math.max(...logits);
    return m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0)) - logits[i];
  });
  const kept = [...losses].sort((x, y) => x - y).slice(0, 2);
  const expected = (kept[0] + kept[1]) / 2;
  close(seq2seqLoss(tf.tensor3d(past), tf.tensor3d(fut), 0.5).dataSync(), [expected]);
  const all = losses.reduce((s, x) => s + x, 0) / 2;
  close(seq2seqLoss(tf.tensor3d(past), tf.tensor3d(fut), 1).dataSync(), [all]);
});

test('fused kernels (seq2seq log-sum-exp, layer norm) against the compositions: the loss and every gradient, with dropout and padded rows', () => {
  // Rows of several lengths (left padding), default dropout, both stages' losses; the chunks of
  // checkpointRows are trimmed to different widths, so the fused layer norm sees odd shapes.
  const hist = [[0, 0, 0, 1, 2, 3], [4, 5, 6, 7, 8, 9], [0, 0, 0, 0, 10, 11], [0, 12, 13, 14, 15, 16]];
  const fut = [[0, 20, 21], [22, 23, 24], [0, 0, 25], [26, 27, 28]];
  const batch = (): TrainBatch => ({ size: 4, history: ids2(hist), pos: tf.tensor1d([30, 31, 32, 33], 'int32'), neg: tf.tensor1d([34, 35, 36, 37], 'int32'), future: ids2(fut) });
  const m = model({ dim: 16, interests: 3 });
  const vars = Object.entries(m.variables);
  const run = (fusedOn: boolean) => {
    useFusedKernels(fusedOn);
    try {
      const b = batch();
      const { value, grads } = tf.variableGrads(() => m.loss(b, 3).total, vars.map(([, v]) => v));
      return { value: value.dataSync()[0], grads: vars.map(([, v]) => Array.from(grads[v.name].dataSync())) };
    } finally {
      useFusedKernels(true);
    }
  };
  const plain = run(false);
  const fused = run(true);
  close([fused.value], [plain.value], 1e-5);
  // Relative to each variable's largest gradient, or to 1e-2 of the largest of all: some are zero
  // in exact arithmetic (a key bias shifts every score of a softmax alike) and only noise here.
  const top = Math.max(...plain.grads.flat().map(Math.abs));
  vars.forEach(([name], i) => {
    const scale = Math.max(1e-2 * top, ...plain.grads[i].map(Math.abs));
    fused.grads[i].forEach((g, j) => assert.ok(Math.abs(g - plain.grads[i][j]) <= 1e-4 * scale, `${name}[${j}]: ${g} vs ${plain.grads[i][j]}`));
  });
  // seq2seq alone, values and gradients of both inputs, at a size past the kernel's tiles.
  const past = tf.randomUniform([40, 4, 16], -1, 1, 'float32', 3) as tf.Tensor3D;
  const future = tf.randomUniform([40, 4, 16], -1, 1, 'float32', 4) as tf.Tensor3D;
  const both = (on: boolean) => {
    useFusedKernels(on);
    try {
      const f = (a: tf.Tensor, b: tf.Tensor) => seq2seqLoss(a as tf.Tensor3D, b as tf.Tensor3D, 0.5);
      return [f(past, future), ...tf.grads(f)([past, future])].map((t) => Array.from(t.dataSync()));
    } finally {
      useFusedKernels(true);
    }
  };
  const [want, got] = [both(false), both(true)];
  want.forEach((w, i) => close(got[i], w, 1e-5));
  m.dispose();
});

test('every variable gets a gradient; inspect: p(intention | item) sums to 1 on items, aggregation weights sum to 1', () => {
  const m = model({ dropout: 0 });
  const batch: TrainBatch = { size: 3, history: ids2([[0, 1, 2, 3], [4, 5, 6, 7], [0, 0, 8, 9]]), pos: tf.tensor1d([10, 11, 12], 'int32'), neg: tf.tensor1d([13, 14, 15], 'int32'), future: ids2([[0, 20, 21], [22, 23, 24], [0, 0, 25]]) };
  const vars = Object.entries(m.variables);
  const { grads } = tf.variableGrads(() => m.loss(batch, 0).total, vars.map(([, v]) => v));
  for (const [name, v] of vars) {
    const g = grads[v.name];
    assert.ok(g && tf.sum(tf.abs(g)).dataSync()[0] > 0, `${name} has a gradient`);
  }
  const insp = m.inspect!(ids2([[0, 0, 3, 4, 5], [1, 2, 3, 4, 5]]));
  close(tf.sum(insp.assignment!, 2).dataSync(), [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  close(tf.sum(insp.weights!, 1).dataSync(), [1, 1]);
  m.dispose();
});

test('checkpointRows: same value and gradients as the plain computation, over several chunks, without leaks', () => {
  const w = tf.variable(tf.randomNormal([4, 4], 0, 1, 'float32', 1));
  const unused = tf.variable(tf.ones([3]));
  const table = tf.variable(tf.randomNormal([9, 4], 0, 1, 'float32', 3));
  const ids = tf.tensor2d([[1, 2], [3, 4], [0, 5], [6, 7], [8, 1]], undefined, 'int32');
  const x = tf.variable(tf.randomNormal([5, 4], 0, 1, 'float32', 2));
  // Row-wise: tanh((x + sum of the row's embeddings) W) W, then a per-row sum.
  const f = (rows: tf.Tensor[]) => tf.sum(tf.tanh(tf.matMul(tf.tanh(tf.matMul(tf.add(rows[1], tf.sum(tf.gather(table, rows[0]), 1)), w)), w)), 1);
  const vars = [w, table, x, unused];
  const loss = (g: (rows: tf.Tensor[]) => tf.Tensor) => () => tf.sum(tf.square(g([ids, x]))) as tf.Scalar;
  const plain = tf.variableGrads(loss(f), vars);
  const viaCk = tf.variableGrads(loss((rows) => checkpointRows((r) => f(r), rows, [w, table, unused], 2)), vars);
  close(viaCk.value.dataSync(), plain.value.dataSync(), 1e-5);
  for (const v of [w, table, x]) close(viaCk.grads[v.name].dataSync(), plain.grads[v.name].dataSync(), 1e-4);
  tf.dispose([plain.value, viaCk.value, ...Object.values(plain.grads), ...Object.values(viaCk.grads)]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const g = tf.variableGrads(loss((rows) => checkpointRows((r) => f(r), rows, [w, table, unused], 2)), vars);
    tf.dispose([g.value, ...Object.values(g.grads)]);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind, the outer tape included');
});
