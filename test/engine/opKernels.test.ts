// Tanh (native), Sum over outer axes and _FusedMatMul (OpenBLAS + bias + activation) against
// plain-JS references and the op compositions, on wasm and cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { nearValues as near } from './near.ts';
import { initBackend } from '../../src/main/engine/backend.ts';
import { nativeBlas, nativeTrain } from '../../src/main/engine/blas.ts';

const noAddon = nativeTrain() ? false : `native/blas has no training kernels (${nativeBlas().why})`;

for (const backend of ['wasm', 'cpu'] as const) {
  test(`Tanh on ${backend} matches Math.tanh to float precision, both sides of its polynomial range`, { skip: noAddon }, async () => {
    await initBackend(backend);
    const xs = Float32Array.from({ length: 200_003 }, (_, i) => (i % 2 ? -1 : 1) * (i < 1000 ? i * 1e-4 : ((i * 7919) % 20000) / 1000));
    xs.set([0.625, -0.625, 0.62499, 1e-30, -0, 50, -50, 100, Infinity, -Infinity], 0);
    const got = tf.tidy(() => tf.tanh(tf.tensor1d(xs)).dataSync());
    for (let i = 0; i < xs.length; i++) {
      const want = Math.tanh(xs[i]);
      assert.ok(Math.abs(got[i] - want) <= 4e-7 * Math.abs(want) + 1e-38, `tanh(${xs[i]}) = ${got[i]}, want ${want}`);
    }
    assert.ok(Number.isNaN(tf.tidy(() => tf.tanh(tf.scalar(NaN)).dataSync()[0])), 'tanh(NaN) is NaN');
  });

  test(`Sum over outer and middle axes on ${backend} matches a plain loop`, async () => {
    await initBackend(backend);
    const shape = [3, 5, 7, 2];
    const x = Float32Array.from({ length: 210 }, (_, i) => Math.sin(i * 1.3));
    const ref = (axes: number[]): number[] => {
      const out = new Map<string, number>();
      for (let i = 0; i < x.length; i++) {
        const idx = [Math.floor(i / 70), Math.floor(i / 14) % 5, Math.floor(i / 2) % 7, i % 2];
        const key = idx.filter((_, a) => !axes.includes(a)).join(',');
        out.set(key, (out.get(key) ?? 0) + x[i]);
      }
      return [...out.values()];
    };
    for (const axes of [[0], [1], [0, 1], [1, 2], [0, 1, 2], [2, 3], [3], [0, 2]]) {
      for (const keepDims of [false, true]) {
        const got = tf.tidy(() => {
          const s = tf.sum(tf.tensor(x, shape), axes, keepDims);
          const kept = shape.map((n, a) => (axes.includes(a) ? 1 : n));
          assert.deepEqual(s.shape, keepDims ? kept : shape.filter((_, a) => !axes.includes(a)), `shape for axes ${axes}`);
          return s.dataSync();
        });
        near(got, ref(axes), `sum over ${axes} keepDims ${keepDims}`);
      }
    }
  });

  test(`fused matMul with bias and activation on ${backend} equals matMul + add (+ relu), values and gradients`, async () => {
    await initBackend(backend);
    const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean; bias: number[] | null; act: 'linear' | 'relu' | 'elu' }> = [
      { a: [5, 3], b: [3, 7], ta: false, tb: false, bias: [7], act: 'linear' },
      { a: [3, 5], b: [7, 3], ta: true, tb: true, bias: [1, 7], act: 'relu' },
      { a: [2, 5, 3], b: [2, 3, 4], ta: false, tb: false, bias: null, act: 'relu' },
      { a: [1, 6, 4], b: [1, 4, 9], ta: false, tb: false, bias: [9], act: 'linear' },
      { a: [4, 3], b: [3, 2], ta: false, tb: false, bias: [2], act: 'elu' },
    ];
    let seed = 1;
    for (const c of cases) {
      tf.tidy(() => {
        const a = tf.randomUniform(c.a, -1, 1, 'float32', seed++);
        const b = tf.randomUniform(c.b, -1, 1, 'float32', seed++);
        const bias = c.bias ? tf.randomUniform(c.bias, -1, 1, 'float32', seed++) : undefined;
        const fused = (x: tf.Tensor, y: tf.Tensor, z?: tf.Tensor): tf.Tensor =>
          tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, transposeA: c.ta, transposeB: c.tb, bias: z, activation: c.act });
        const plain = (x: tf.Tensor, y: tf.Tensor, z?: tf.Tensor): tf.Tensor => {
          let out: tf.Tensor = tf.matMul(x, y, c.ta, c.tb);
          if (z) out = tf.add(out, z);
          return c.act === 'relu' ? tf.relu(out) : c.act === 'elu' ? tf.elu(out) : out;
        };
        const ins = bias ? [a, b, bias] : [a, b];
        const w = tf.randomUniform(plain(a, b, bias).shape, -1, 1, 'float32', 77);
        const what = JSON.stringify(c);
        near(fused(a, b, bias).dataSync(), plain(a, b, bias).dataSync(), `${what} value`);
        const gf = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(fused(xs[0], xs[1], xs[2]), w)))(ins);
        const gp = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(plain(xs[0], xs[1], xs[2]), w)))(ins);
        gf.forEach((g, i) => near(g.dataSync(), gp[i].dataSync(), `${what} grad ${i}`));
      });
    }
  });
}
