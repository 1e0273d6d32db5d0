// The fused layer norm (engine/fusedNorm.ts on native/blas/norm.c) against the TF.js composition
// it replaces (models/ops/transformer.ts's layerNormOps): values and the gradients of x, gamma
// and beta, on wasm and cpu, one and two threads, row counts that cross the kernel's 256-row
// tasks, an odd width, all-zero (padding) rows and rows far from zero.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { near, withThreads } from './near.ts';
import { initBackend } from '../../src/main/engine/backend.ts';
import { nativeBlas, nativeNorm } from '../../src/main/engine/blas.ts';
import { fusedLayerNorm } from '../../src/main/engine/fusedNorm.ts';
import { useFusedKernels } from '../../src/main/engine/fused.ts';
import { layerNorm, layerNormOps, layerNormParams } from '../../src/main/models/ops/transformer.ts';

const skip = nativeNorm() ? false : `native/blas has no layer-norm kernels (${nativeBlas().why})`;

for (const backend of ['wasm', 'cpu'] as const) {
  test(`fused layer norm equals the composition on ${backend} (values, d x, d gamma, d beta; padding rows)`, { skip }, async () => {
    await initBackend(backend);
    const shapes = [[3, 5], [2, 300, 7], [1, 64], [4, 130, 64]];
    let seed = 5;
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        for (const shape of shapes) {
          tf.tidy(() => {
            const D = shape[shape.length - 1];
            const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
            const raw = tf.randomUniform([rows, D], -1, 1, 'float32', seed++).arraySync() as number[][];
            raw[0] = raw[0].map(() => 0); // a padding row: zero variance, eps alone in the root
            if (rows > 2) raw[2] = raw[2].map((v) => 50 + 3 * v); // far from zero
            const x = tf.reshape(tf.tensor2d(raw), shape);
            const gamma = tf.randomUniform([D], 0.5, 1.5, 'float32', seed++) as tf.Tensor1D;
            const beta = tf.randomUniform([D], -0.5, 0.5, 'float32', seed++) as tf.Tensor1D;
            const w = tf.randomUniform(shape, -1, 1, 'float32', seed++);
            const p = { gamma, beta } as unknown as ReturnType<typeof layerNormParams>;
            const fused = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
              const out = fusedLayerNorm(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-12);
              assert.ok(out, 'the fused kernel is registered');
              return out;
            };
            const ops = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor =>
              layerNormOps({ gamma: g, beta: b } as unknown as ReturnType<typeof layerNormParams>, a, 1e-12);
            const what = `${backend} ${threads}t [${shape}]`;
            near(fused(x, gamma, beta), ops(x, gamma, beta), `${what} value`);
            const gotG = tf.grads((a, g, b) => tf.sum(tf.mul(fused(a, g, b), w)))([x, gamma, beta]);
            const wantG = tf.grads((a, g, b) => tf.sum(tf.mul(ops(a, g, b), w)))([x, gamma, beta]);
            // The padding row's d x is scaled by 1/sqrt(eps) = 1e6: compare it on its own.
            const rest = (t: tf.Tensor) => tf.slice(tf.reshape(t, [rows, D]), [1, 0], [rows - 1, D]);
            if (rows > 1) near(rest(gotG[0]), rest(wantG[0]), `${what} d x`, 1e-4);
            near(tf.slice(tf.reshape(gotG[0], [rows, D]), [0, 0], [1, D]), tf.slice(tf.reshape(wantG[0], [rows, D]), [0, 0], [1, D]), `${what} d x, padding row`, 1e-4);
            near(gotG[1], wantG[1], `${what} d gamma`, 1e-4);
            near(gotG[2], wantG[2], `${what} d beta`);
            // The layer itself takes the fused path, and the composition when told not to.
            near(layerNorm(p, x), ops(x, gamma, beta), `${what} layerNorm`);
          });
        }
      });
    }
    useFusedKernels(false);
    try {
      assert.equal(fusedLayerNorm(tf.ones([2, 3]), tf.ones([3]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D, 1e-12), null, 'off: null, the composition runs');
    } finally {
      useFusedKernels(true);
    }
  });
}
