// The optimiser's fused Adam update and the sphere projection's row normalisation
// (engine/fused.ts on native/blas/adam.c) against the TF.js compositions they replace: Adam bit
// for bit over several steps (with and without weight decay, sizes crossing the kernel's chunk
// edges, one and two threads), the projection to float rounding with a zero (padding) row, and
// the row log-sum-exps (values and gradients) against losses.ts's softmax form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { near, withThreads } from './near.ts';
import { initBackend } from '../../src/main/engine/backend.ts';
import { nativeBlas, nativeTrain } from '../../src/main/engine/blas.ts';
import { fusedLogSumExp, fusedNormalizeRows, useFusedKernels } from '../../src/main/engine/fused.ts';
import { logSumExpOps } from '../../src/main/models/ops/losses.ts';
import { l2normalize } from '../../src/main/models/ops/masks.ts';
import { Adam } from '../../src/main/train/optimizer.ts';

const skip = typeof nativeTrain()?.adam === 'function' ? false : `native/blas has no Adam kernel (${nativeBlas().why})`;

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

for (const backend of ['wasm', 'cpu'] as const) {
  test(`fused row log-sum-exps equal the softmax composition on ${backend} (values, gradients, ties, masked entries, 1 column)`, { skip }, async () => {
    await initBackend(backend);
    // [R, C, scale]: rows cross the kernel's 32-row blocks; scale 40 spreads the rows far apart.
    const cases = [[1, 1, 1], [5, 1, 1], [70, 300, 1], [33, 50, 40], [3, 3072, 10]];
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        for (const [R, C, scale] of cases) {
          tf.tidy(() => {
            let x = tf.mul(tf.randomUniform([R, C], -1, 1, 'float32', R + C), scale) as tf.Tensor2D;
            if (C > 2) {
              // Row 0: a tie for the maximum; row R-1: a masked entry (-1e9, as maskedSoftmax adds).
              const v = x.arraySync();
              v[0][1] = v[0][0] = Math.max(...v[0]) + 1;
              v[R - 1][2] = -1e9;
              x = tf.tensor2d(v);
            }
            const w = tf.randomUniform([R], -1, 1, 'float32', 3);
            const f = (g: (t: tf.Tensor2D) => tf.Tensor1D) => {
              const value = g(x);
              const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(g(t as tf.Tensor2D), w)))(x);
              return [value, grad];
            };
            const [want, wantGrad] = f(logSumExpOps);
            const [got, gotGrad] = f((t) => {
              const out = fusedLogSumExp(t);
              assert.ok(out, 'the fused kernel is registered');
              return out;
            });
            const what = `${backend} ${threads}t [${R}, ${C}] x${scale}`;
            near(got, want, `${what} value`);
            near(gotGrad, wantGrad, `${what} grad`);
          });
        }
      });
    }
  });
}
