// The fused training kernels (engine/fused.ts on native/blas/train.c) against the TF.js
// compositions they replace: values and gradients, on wasm and cpu, with odd sizes that cross
// the kernels' tile edges, ties, padding rows, m = 1, and one and two threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { near, withThreads } from './near.ts';
import { nativeBlas, nativeTrain } from '../../src/main/engine/blas.ts';
import { fusedMaxOverInterests, fusedProductLse, useFusedKernels } from '../../src/main/engine/fused.ts';
import { infoNCE } from '../../src/main/models/ops/infonce.ts';
import { maxOverInterests, maxOverInterestsOps } from '../../src/main/models/ops/losses.ts';

const skip = nativeTrain() ? false : `native/blas has no training kernels (${nativeBlas().why})`;


let seed = 11;
const uniform = (shape: number[], scale = 1): tf.Tensor => tf.mul(tf.randomUniform(shape, -1, 1, 'float32', seed++), scale);

/** Value and gradients of sum(f(...inputs) * w) for a fixed random w. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): { value: tf.Tensor; grads: tf.Tensor[] } {
  const value = f(...inputs);
  const w = tf.randomUniform(value.shape, -1, 1, 'float32', 99);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
  return { value, grads };
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`fused max over interests equals the argMax composition on ${backend} (values, gradients, ties, m = 1)`, { skip }, async () => {
    await initBackend(backend);
    // [B, m, d, C]: tiles hold 256 / m users and 1024 candidates, so these cross both edges.
    const shapes = [[5, 3, 7, 9], [90, 3, 7, 1030], [300, 1, 5, 1100], [4, 8, 64, 33]];
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        for (const [B, m, d, C] of shapes) {
          tf.tidy(() => {
            let u = uniform([B, m, d]);
            let items = uniform([C, d]);
            if (m > 1) {
              // Ties: user 0's interest 1 repeats interest 0 (the first must win), and item 0 is
              // padding (all zeros: every interest ties at 0).
              const rows = u.arraySync() as number[][][];
              rows[0][1] = rows[0][0];
              u = tf.tensor3d(rows);
            }
            items = tf.concat([tf.zeros([1, d]), tf.slice(items, [1, 0], [C - 1, d])]);
            const want = valueAndGrads((a, b) => maxOverInterestsOps(a as tf.Tensor3D, b as tf.Tensor2D), [u, items]);
            const fused = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
              const out = fusedMaxOverInterests(a as tf.Tensor3D, b as tf.Tensor2D);
              assert.ok(out, 'the fused kernel is registered');
              return out;
            };
            const got = valueAndGrads(fused, [u, items]);
            const what = `${backend} ${threads}t [${B},${m},${d},${C}]`;
            near(got.value, want.value, `${what} value`);
            near(got.grads[0], want.grads[0], `${what} d interests`);
            near(got.grads[1], want.grads[1], `${what} d items`);
            if (m > 1) {
              // The tied twin gets no gradient from the padding item or from its twin's wins.
              const dTwin = tf.slice(got.grads[0], [0, 1, 0], [1, 1, d]);
              assert.ok(tf.max(tf.abs(dTwin)).dataSync()[0] === 0, `${what}: the second of two tied interests gets no gradient`);
            }
          });
        }
      });
    }
  });

  test(`fused product log-sum-exps equal tf.logSumExp on ${backend} (rows, columns, diagonal, large scores)`, { skip }, async () => {
    await initBackend(backend);
    const reference = (x: tf.Tensor, y: tf.Tensor, diag: boolean, columns: boolean): tf.Tensor => {
      let s = tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, false, true);
      if (diag) s = tf.add(s, tf.mul(tf.eye(s.shape[0], s.shape[1]), -1e9));
      return columns ? tf.stack([tf.logSumExp(s, 1), tf.logSumExp(s, 0)]) : tf.expandDims(tf.logSumExp(s, 1), 0);
    };
    // [N, M, d, scale]: row tiles of 128 and column tiles of 1024; scale 40 makes the running
    // maxima move by far more than exp's range between tiles.
    const cases = [[1, 1, 4, 1], [7, 7, 3, 1], [130, 130, 9, 40], [129, 1030, 8, 10], [300, 300, 64, 1]];
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        for (const [N, M, d, scale] of cases) {
          for (const diag of [false, true]) {
            for (const columns of N === M ? [false, true] : [false]) {
              tf.tidy(() => {
                const x = uniform([N, d], scale);
                const y = uniform([M, d]);
                const want = valueAndGrads((a, b) => reference(a, b, diag, columns), [x, y]);
                const got = valueAndGrads((a, b) => {
                  const out = fusedProductLse(a as tf.Tensor2D, b as tf.Tensor2D, diag, columns);
                  assert.ok(out, 'the fused kernel is registered');
                  return out;
                }, [x, y]);
                const what = `${backend} ${threads}t N${N} M${M} d${d} x${scale} diag ${diag} columns ${columns}`;
                // N = 1 with the diagonal masked: the only entry is -1e9, a value far from 1 in
                // magnitude whose float spacing is 64; compare the rest at the usual tolerance.
                near(got.value, want.value, `${what} value`, 1e-5);
                near(got.grads[0], want.grads[0], `${what} dx`);
                near(got.grads[1], want.grads[1], `${what} dy`);
              });
            }
          }
        }
      });
    }
  });

  test(`infoNCE and maxOverInterests with the fused kernels equal their compositions on ${backend}`, { skip }, async () => {
    await initBackend(backend);
    for (const withinView of [false, true]) {
      tf.tidy(() => {
        const a = uniform([150, 16]);
        const b = uniform([150, 16]);
        const loss = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => infoNCE(x as tf.Tensor2D, y as tf.Tensor2D, 0.1, { withinView });
        useFusedKernels(false);
        let want: ReturnType<typeof valueAndGrads>;
        try {
          want = valueAndGrads(loss, [a, b]);
        } finally {
          useFusedKernels(true);
        }
        const got = valueAndGrads(loss, [a, b]);
        near(got.value, want.value, `infoNCE within ${withinView}`);
        near(got.grads[0], want.grads[0], `infoNCE within ${withinView} da`);
        near(got.grads[1], want.grads[1], `infoNCE within ${withinView} db`);
      });
    }
    tf.tidy(() => {
      const u = uniform([6, 4, 8]);
      const items = uniform([20, 8]);
      near(maxOverInterests(u as tf.Tensor3D, items as tf.Tensor2D), maxOverInterestsOps(u as tf.Tensor3D, items as tf.Tensor2D), 'maxOverInterests dispatch');
    });
  });
}

test('fused kernels fall back to the compositions when turned off', { skip }, async () => {
  await initBackend('wasm');
  useFusedKernels(false);
  try {
    const [u, items] = [tf.zeros([1, 1, 1]) as tf.Tensor3D, tf.zeros([1, 1]) as tf.Tensor2D];
    assert.equal(fusedMaxOverInterests(u, items), null, 'no fused op when turned off');
    tf.dispose([u, items]);
  } finally {
    useFusedKernels(true);
  }
});

test('native training kernels reject arrays too small for their sizes', { skip }, () => {
  const k = nativeTrain()!;
  const f = (n: number): Float32Array => new Float32Array(n);
  assert.throws(() => k.moiForward(2, 2, 2, 2, f(7), f(4), f(4), new Int32Array(4)), /u holds 7 elements/);
  assert.throws(() => k.lseForward(2, 2, 2, 0, f(4), f(4), f(1), null), /lseRows holds 1/);
  assert.throws(() => k.moiBackward(1, 2, 1, 1, f(2), f(1), Int32Array.of(2), f(1), f(2), f(1)), /idx outside/);
});

test('fused product log-sum-exps on two threads give the same bits on every call (slots, not threads, own the partial sums)', { skip }, async () => {
  await initBackend('wasm');
  withThreads(2, () => {
    tf.tidy(() => {
      const [x, y] = [uniform([1000, 16], 3), uniform([1000, 16], 3)];
      const once = (): Float32Array[] => {
        const { value, grads } = valueAndGrads((a, b) => fusedProductLse(a as tf.Tensor2D, b as tf.Tensor2D, true, true)!, [x, y]);
        return [value, ...grads].map((t) => t.dataSync() as Float32Array);
      };
      const first = once();
      for (let call = 0; call < 4; call++) {
        once().forEach((a, i) => assert.ok(a.every((v, j) => Object.is(v, first[i][j])), `call ${call}, output ${i} differs`));
      }
    });
  });
});
