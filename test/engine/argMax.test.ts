import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';

/** Plain-JS argmax along `axis` of a row-major array with `shape`, first index on ties. */
function reference(values: Float32Array, shape: number[], axis: number): number[] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let k = 1; k < shape[axis]; k++) if (values[(o * shape[axis] + k) * inner + i] > values[(o * shape[axis] + best) * inner + i]) best = k;
      out.push(best);
    }
  }
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`ArgMax on ${backend} along every axis matches a reference, ties keep the first index`, async () => {
    await initBackend(backend);
    let s = 5;
    const shape = [3, 4, 6];
    // Values on a coarse grid so ties happen.
    const values = Float32Array.from({ length: 72 }, () => ((s = (s * 1103515245 + 12345) % 2147483648) % 5) - 2);
    for (const axis of [0, 1, 2, -1]) {
      const got = tf.tidy(() => Array.from(tf.argMax(tf.tensor(values, shape), axis).dataSync()));
      assert.deepEqual(got, reference(values, shape, axis < 0 ? axis + 3 : axis), `axis ${axis}`);
    }
    // Wider than the kernel's column block (4096), with a ragged last block.
    const wide = [3, 2, 9001];
    const many = Float32Array.from({ length: 3 * 2 * 9001 }, () => ((s = (s * 1103515245 + 12345) % 2147483648) % 7) - 3);
    for (const axis of [0, 1]) {
      const got = tf.tidy(() => Array.from(tf.argMax(tf.tensor(many, wide), axis).dataSync()));
      assert.deepEqual(got, reference(many, wide, axis), `wide, axis ${axis}`);
    }
  });
}
