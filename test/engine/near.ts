// What the fused-kernel tests share: the comparison against the unfused TF.js ops, and running a
// check on a given number of the native pool's threads.
import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs';
import { nativeBlas } from '../../src/main/engine/blas.ts';

/** Every element within `tol` of the reference, relative to the reference's largest magnitude. */
export function nearValues(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1e-30;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
  }
}

/** The same for tensors, shapes included. */
export function near(actual: tf.Tensor, expected: tf.Tensor, what: string, tol = 1e-5): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  nearValues(actual.dataSync(), expected.dataSync(), what, tol);
}

/** Runs `body` with the native pool on `n` threads, back to one afterwards. */
export function withThreads(n: number, body: () => void): void {
  const blas = nativeBlas().blas!;
  blas.setThreads(n);
  try {
    body();
  } finally {
    blas.setThreads(1);
  }
}
