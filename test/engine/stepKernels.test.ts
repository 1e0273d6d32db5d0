// The optimiser's fused Adam update and the sphere projection's row normalisation
// (engine/fused.ts on native/blas/adam.c) against the TF.js compositions they replace: Adam bit
// for bit over several steps (with and without weight decay, sizes crossing the kernel's chunk
// edges, one and two threads), the projection to float rounding with a zero (padding) row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { nativeBlas, nativeTrain } from '../../src/main/engine/blas.ts';
import { fusedNormalizeRows, useFusedKernels } from '../../src/main/engine/fused.ts';
import { l2normalize } from '../../src/main/models/ops/masks.ts';
import { Adam } from '../../src/main/train/optimizer.ts';

const skip = typeof nativeTrain()?.adam === 'function' ? false : `native/blas has no Adam kernel (${nativeBlas().why})`;

function withThreads(n: number, body: () => void): void {
  const blas = nativeBlas().blas!;
  blas.setThreads(n);
  try {
    body();
  } finally {
    blas.setThreads(1);
  }
}

/** The variables after `steps` Adam updates from the same start and gradients, fused or not. */
function train(fused: boolean, weightDecay: number, shapes: number[][], steps: number): Float32Array[] {
  useFusedKernels(fused);
  try {
    const vars = Object.fromEntries(shapes.map((s, i) => [`v${i}`, tf.variable(tf.randomUniform(s, -1, 1, 'float32', 7 + i))]));
    const opt = new Adam(1e-3, weightDecay);
    for (let t = 0; t < steps; t++) {
      const grads = tf.tidy(() => Object.fromEntries(shapes.map((s, i) => [`v${i}`, tf.keep(tf.randomUniform(s, -2, 2, 'float32', 100 * t + i))])));
      opt.apply(vars, grads);
      tf.dispose(Object.values(grads));
    }
    const out = Object.values(vars).map((v) => v.dataSync() as Float32Array);
    const moments = [...opt.slots.values()].flatMap((s) => [s.m.dataSync() as Float32Array, s.v.dataSync() as Float32Array]);
    tf.dispose(Object.values(vars));
    opt.dispose();
    return [...out, ...moments];
  } finally {
    useFusedKernels(true);
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`fused Adam equals the composition bit for bit on ${backend} (decay on and off, 1 and 2 threads)`, { skip }, async () => {
    await initBackend(backend);
    // 70001 crosses the kernel's 32768-element chunks; [3] and [1] are the small variables.
    const shapes = [[70001], [1000, 7], [3], [1]];
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        for (const wd of [0, 1e-4]) {
          const a = train(true, wd, shapes, 4);
          const b = train(false, wd, shapes, 4);
          assert.equal(a.length, b.length, 'same number of tensors');
          a.forEach((x, i) => {
            const at = x.findIndex((v, j) => !Object.is(v, b[i][j]));
            assert.equal(at, -1, `${backend} ${threads}t wd ${wd} tensor ${i}[${at}]: ${x[at]} vs ${b[i][at]}`);
          });
        }
      });
    }
  });

  test(`fused row normalisation equals l2normalize on ${backend} (a zero row stays zero)`, { skip }, async () => {
    await initBackend(backend);
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        tf.tidy(() => {
          // 2500 rows cross the kernel's 1024-row blocks; row 0 is padding.
          const x = tf.concat([tf.zeros([1, 64]), tf.randomUniform([2499, 64], -3, 3, 'float32', 5)]) as tf.Tensor2D;
          const got = fusedNormalizeRows(x)!.dataSync();
          const want = l2normalize(x).dataSync();
          assert.equal(got.length, want.length, 'size');
          for (let i = 0; i < 64; i++) assert.equal(got[i], 0, `padding row [${i}]`);
          for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-6, `${backend} ${threads}t [${i}]: ${got[i]} vs ${want[i]}`);
        });
      });
    }
  });
}
