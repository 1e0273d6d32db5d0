// The fused GRU recurrence (engine/fusedGru.ts on native/blas/gru.c) against the op-by-op
// recurrence of models/ops/gru.ts: states and gradients of every input and weight, on wasm and
// cpu, with left padding, empty rows, holes in a mask, rows starting at column 0, and bias on/off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { near } from './near.ts';
import { nativeBlas, nativeTrain } from '../../src/main/engine/blas.ts';
import { useFusedKernels } from '../../src/main/engine/fused.ts';
import { gru, gruParams } from '../../src/main/models/ops/gru.ts';

const skip = nativeTrain() ? false : `native/blas has no training kernels (${nativeBlas().why})`;


/** Left-padded masks [B, L] with the given lengths; a negative length leaves a hole in the
 *  middle of a row of |length| items. */
function masks(lengths: number[], L: number): tf.Tensor2D {
  const m = new Float32Array(lengths.length * L);
  lengths.forEach((n, b) => {
    for (let t = L - Math.abs(n); t < L; t++) m[b * L + t] = 1;
    if (n < -2) m[b * L + L - Math.abs(n) + 1] = 0;
  });
  return tf.tensor2d(m, [lengths.length, L]);
}

/** States (all and last) and the gradients of a weighted sum of them, for the run's GRU. */
function run(bias: boolean, x: tf.Tensor3D, mask: tf.Tensor2D, fused: boolean, all: boolean): tf.Tensor[] {
  useFusedKernels(fused);
  try {
    const p = gruParams(x.shape[2], 5, { bias }, 3);
    const vars = [p.wx, p.wh, ...(p.bx ? [p.bx, p.bh!] : [])];
    const f = (xi: tf.Tensor, ...ws: tf.Tensor[]): tf.Tensor => {
      const q = { wx: ws[0], wh: ws[1], bx: ws[2], bh: ws[3] } as unknown as typeof p;
      const out = all ? gru(q, xi as tf.Tensor3D, mask).all : gru(q, xi as tf.Tensor3D, mask, { all: false }).last;
      return tf.mul(out, tf.randomUniform(out.shape, -1, 1, 'float32', 5));
    };
    const value = f(x, ...vars);
    const grads = tf.grads((xi: tf.Tensor, ...ws: tf.Tensor[]) => tf.sum(f(xi, ...ws)))([x, ...vars]);
    tf.dispose(vars);
    return [value, ...grads];
  } finally {
    useFusedKernels(true);
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`fused GRU equals the op-by-op recurrence on ${backend} (states, gradients; padding, holes, bias)`, { skip }, async () => {
    await initBackend(backend);
    const L = 9;
    // Mixed lengths incl. empty rows, full rows (start at column 0), a hole; all-empty; one row.
    const cases = [[3, 0, 9, 1, -6, 4, 0, 2, 7, 5, 9], [0, 0, 0], [4], [2, 2, 1]];
    for (const threads of [1, 2]) {
      nativeBlas().blas!.setThreads(threads);
      try {
        for (const lengths of cases) {
          for (const bias of [false, true]) {
            for (const all of [true, false]) {
              tf.tidy(() => {
                const x = tf.randomUniform([lengths.length, L, 4], -1, 1, 'float32', 9) as tf.Tensor3D;
                const mask = masks(lengths, L);
                const want = run(bias, x, mask, false, all);
                const got = run(bias, x, mask, true, all);
                const names = ['states', 'dx', 'dwx', 'dwh', 'dbx', 'dbh'];
                got.forEach((g, i) => near(g, want[i], `${backend} ${threads}t [${lengths}] bias ${bias} all ${all} ${names[i]}`));
              });
            }
          }
        }
      } finally {
        nativeBlas().blas!.setThreads(1);
      }
    }
  });
}

test('the fused GRU kernel rejects a packing that does not count started rows', { skip }, () => {
  const k = nativeTrain()!;
  const f = (n: number): Float32Array => new Float32Array(n);
  // k must not decrease, and t0 must be its first nonzero step.
  assert.throws(() => k.gruForward(2, 2, 1, 0, Int32Array.of(2, 1), f(12), f(3), null, f(4), f(4), f(12)), /non-decreasing/);
  assert.throws(() => k.gruForward(2, 2, 1, 0, Int32Array.of(0, 1), f(12), f(3), null, f(4), f(4), f(12)), /t0 must be the first step/);
});
