// The wasm kernels that replace slow stock ones must give the stock numbers: each is checked
// against the cpu backend's kernels (an independent implementation) on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { nativeBlas } from '../../src/main/engine/blas.ts';

// TF.js's own kernels and ours, without the OpenBLAS addon (test/engine/blas.test.ts checks that).
process.env.CMI_STUDIO_BLAS = '0';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const r = rng(42);
const rand = (shape: number[]): { values: Float32Array; shape: number[] } => ({
  values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1),
  shape,
});
type Spec = ReturnType<typeof rand>;

/** Runs `f` on cpu and on wasm with the same inputs; returns both results as flat arrays. */
async function onBoth(inputs: Spec[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<[number[][], number[][]]> {
  const run = (): number[][] => tf.tidy(() => {
    const out = f(...inputs.map((s) => tf.tensor(s.values, s.shape)));
    return (Array.isArray(out) ? out : [out]).map((t) => [...t.shape, -1, ...Array.from(t.dataSync())]);
  });
  await initBackend('cpu');
  const ref = run();
  await initBackend('wasm');
  return [run(), ref];
}

function close(got: number[][], ref: number[][], tol = 1e-4): void {
  assert.equal(got.length, ref.length, 'number of outputs');
  got.forEach((g, k) => {
    assert.equal(g.length, ref[k].length, `output ${k} size`);
    g.forEach((v, i) => assert.ok(Math.abs(v - ref[k][i]) <= tol * Math.max(1, Math.abs(ref[k][i])), `output ${k}[${i}]: ${v} vs ${ref[k][i]}`));
  });
}

test('BatchMatMul with every transpose combination, batched and broadcast, matches cpu', async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    const a = rand(ta ? [3, 7, 5] : [3, 5, 7]);
    const b = rand(tb ? [3, 4, 7] : [3, 7, 4]);
    close(...(await onBoth([a, b], (x, y) => tf.matMul(x, y, ta, tb))));
    const a2 = rand(ta ? [9, 33] : [33, 9]);
    const b2 = rand(tb ? [17, 9] : [9, 17]);
    close(...(await onBoth([a2, b2], (x, y) => tf.matMul(x, y, ta, tb))));
    // rank-3 by rank-2 (broadcast batch)
    close(...(await onBoth([a, rand(tb ? [4, 7] : [7, 4])], (x, y) => tf.matMul(x, y, ta, tb))));
  }
});

test('matMul gradients (transposed products) match cpu', async () => {
  const a = rand([6, 5]), b = rand([5, 8]), w = rand([6, 8]);
  close(...(await onBoth([a, b, w], (x, y, z) => {
    const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q), z)))([x, y]);
    return g;
  })));
});

test('Slice, SplitV and Unpack at every rank and axis match cpu, contiguous or not', async () => {
  const x4 = rand([3, 4, 5, 6]);
  close(...(await onBoth([x4], (x) => tf.slice(x, [1, 0, 2, 1], [2, 3, 2, 4]))));
  close(...(await onBoth([x4], (x) => tf.slice(x, [1, 0, 0, 0], [1, 4, 5, 6]))));
  close(...(await onBoth([rand([5, 7])], (x) => tf.slice(x, [1, 2], [3, 4]))));
  close(...(await onBoth([rand([9])], (x) => tf.slice(x, [2], [5]))));
  const x3 = rand([4, 6, 9]);
  for (const axis of [0, 1, 2]) {
    close(...(await onBoth([x3], (x) => tf.split(x, axis === 2 ? [2, 3, 4] : 2, axis))));
    close(...(await onBoth([x3], (x) => tf.unstack(x, axis))));
  }
  close(...(await onBoth([rand([5, 3])], (x) => tf.unstack(x, -1))));
  // int32 data survive too
  await initBackend('wasm');
  const ints = tf.tensor2d([[1, 2, 3], [4, 5, 6]], undefined, 'int32');
  assert.deepEqual(tf.unstack(ints, 1).map((t) => Array.from(t.dataSync())), [[1, 4], [2, 5], [3, 6]]);
  assert.equal(tf.slice(ints, [0, 1], [2, 1]).dtype, 'int32');
});

test('Identity shares data without breaking disposal', async () => {
  await initBackend('wasm');
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3], 'the clone outlives its source');
  const v = tf.variable(y);
  y.dispose();
  const next = tf.tensor1d([4, 5, 6]);
  v.assign(next);
  next.dispose();
  assert.deepEqual(Array.from(v.dataSync()), [4, 5, 6]);
  v.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('Transpose matches cpu, including perms that only move size-1 axes (shared data, disposal safe)', async () => {
  // [3, 1, 4]: perm [1, 0, 2] keeps 3 before 4 (the data stays), [2, 1, 0] does not; identity too.
  for (const perm of [[0, 1, 2], [1, 0, 2], [0, 2, 1], [2, 1, 0], [2, 0, 1]]) {
    close(...(await onBoth([rand([3, 1, 4])], (t) => tf.transpose(t, perm))));
  }
  await initBackend('wasm');
  const before = tf.memory().numTensors;
  const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const y = tf.transpose(x, [0, 1]);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4], 'the transpose outlives its source');
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('GatherV2 on every axis, with batch dims, repeated indices and int32 data, matches cpu; bad indices throw', async () => {
  const x = rand([4, 5, 3]);
  const ids = (vals: number[], shape: number[]): Spec => ({ values: Float32Array.from(vals), shape });
  const idx = ids([0, 3, 3, 1, 0], [5]);
  for (const axis of [0, 1, 2]) {
    const n = x.shape[axis];
    close(...(await onBoth([x, idx], (t, i) => tf.gather(t, tf.cast(tf.minimum(i, n - 1), 'int32'), axis))));
  }
  // 2-d indices (an embedding lookup of [B, L] ids) and batchDims 1
  close(...(await onBoth([rand([7, 4]), ids([0, 6, 6, 2, 0, 0], [2, 3])], (t, i) => tf.gather(t, tf.cast(i, 'int32')))));
  close(...(await onBoth([x, ids([1, 4, 0, 0, 2, 2, 3, 4], [4, 2])], (t, i) => tf.gather(t, tf.cast(i, 'int32'), 1, 1))));
  await initBackend('wasm');
  const ints = tf.tensor1d([10, 20, 30], 'int32');
  assert.deepEqual(Array.from(tf.gather(ints, tf.tensor1d([2, 2, 0], 'int32')).dataSync()), [30, 30, 10]);
  assert.throws(() => tf.gather(ints, tf.tensor1d([3], 'int32')), /index value 3 is not in \[0, 2\]/);
  // float32 rows (the native addon's path where built), 9,000 ids: its 4,096-row blocks, on two threads.
  const many = ids(Array.from({ length: 9000 }, (_, i) => (i * 37) % 50), [9000]);
  nativeBlas().blas?.setThreads(2);
  try {
    close(...(await onBoth([rand([50, 8]), many], (t, i) => tf.gather(t, tf.cast(i, 'int32')))));
  } finally {
    nativeBlas().blas?.setThreads(1);
  }
  await initBackend('wasm');
  assert.throws(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 5], 'int32')), /index value 5 is not in \[0, 2\]/);
});
