// The comparison the fused-kernel tests make against the unfused TF.js ops.
import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs';

/** Every element within `tol` of the reference, relative to the reference's largest magnitude. */
export function near(actual: tf.Tensor, expected: tf.Tensor, what: string, tol = 1e-5): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let scale = 1e-30;
  for (const v of e) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < e.length; i++) {
    assert.ok(Math.abs(a[i] - e[i]) <= tol * scale, `${what}[${i}]: ${a[i]} vs ${e[i]} (scale ${scale})`);
  }
}
