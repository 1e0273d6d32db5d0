import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { nativeBlas } from '../../src/main/engine/blas.ts';

/** Deterministic pseudo-random numbers (LCG) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`UnsortedSegmentSum on ${backend} matches a one-hot matmul reference, repeated ids included`, async () => {
    await initBackend(backend);
    assert.equal(tf.getBackend(), backend);
    const r = rng(backend === 'wasm' ? 1 : 2);
    for (const [rows, inner, segments] of [[50, 7, 5], [300, 64, 40], [1, 3, 2]]) {
      // Few segments for many rows: every id repeats.
      const ids = Array.from({ length: rows }, () => Math.floor(r() * segments));
      const xs = Array.from({ length: rows * inner }, () => r() * 2 - 1);
      const got = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(xs, [rows, inner]), tf.tensor1d(ids, 'int32'), segments).dataSync());
      const ref = tf.tidy(() => tf.matMul(tf.oneHot(tf.tensor1d(ids, 'int32'), segments), tf.tensor2d(xs, [rows, inner]), true, false).dataSync());
      close(got, ref);
    }
  });

  test(`UnsortedSegmentSum on ${backend} gives the same bits on two threads as on one (ids out of range dropped)`, async () => {
    await initBackend(backend);
    const r = rng(4);
    // 3,000 rows of 64: the addon splits the 1,001 segments between the threads.
    const [rows, inner, segments] = [3000, 64, 1001];
    const ids = tf.tensor1d(Array.from({ length: rows }, (_, i) => (i % 97 === 0 ? -3 : Math.floor(r() * (segments + 5)))), 'int32');
    const x = tf.tensor2d(Array.from({ length: rows * inner }, () => r() * 2 - 1), [rows, inner]);
    const sum = (threads: number): Float32Array => {
      nativeBlas().blas?.setThreads(threads);
      try {
        return tf.tidy(() => tf.unsortedSegmentSum(x, ids, segments).dataSync() as Float32Array);
      } finally {
        nativeBlas().blas?.setThreads(1);
      }
    };
    const [one, two] = [sum(1), sum(2)];
    assert.ok(one.every((v, i) => Object.is(v, two[i])), 'bit-identical');
    const ref = tf.tidy(() => tf.matMul(tf.oneHot(ids, segments), x, true, false).dataSync());
    close(two, ref);
    tf.dispose([ids, x]);
  });

  test(`UnsortedSegmentSum on ${backend}: int32 values, 1-d values, out-of-range ids dropped`, async () => {
    await initBackend(backend);
    const out = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4, 5], 'int32'), tf.tensor1d([2, 0, 2, -1, 7], 'int32'), 3);
    assert.equal(out.dtype, 'int32');
    assert.deepEqual(Array.from(out.dataSync()), [2, 0, 4]);
    out.dispose();
    // float32 (the native addon's path where it is built): the same ids, rows of two.
    const f = tf.unsortedSegmentSum(tf.tensor2d([1, 10, 2, 20, 3, 30, 4, 40, 5, 50], [5, 2]), tf.tensor1d([2, 0, 2, -1, 7], 'int32'), 3);
    assert.deepEqual(Array.from(f.dataSync()), [2, 20, 0, 0, 4, 40]);
    f.dispose();
  });

  test(`gather's gradient on ${backend} sums the upstream rows of repeated ids`, async () => {
    await initBackend(backend);
    const r = rng(3);
    const table = tf.tensor2d(Array.from({ length: 6 * 4 }, () => r()), [6, 4]);
    const ids = tf.tensor2d([[0, 3, 3], [5, 3, 1]], undefined, 'int32');
    const w = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, () => r() * 2 - 1), [2, 3, 4]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table);
    const expected = new Float32Array(6 * 4);
    const flatIds = [0, 3, 3, 5, 3, 1];
    const wv = w.dataSync();
    flatIds.forEach((id, k) => { for (let j = 0; j < 4; j++) expected[id * 4 + j] += wv[k * 4 + j]; });
    close(g.dataSync(), expected);
    tf.dispose([table, ids, w, g]);
  });
}
