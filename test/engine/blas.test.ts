// The OpenBLAS addon behind BatchMatMul (engine/blas.ts): every transpose, batch and broadcast
// form must give the plain definition of the product, on both pure backends. Runs wherever the
// system has OpenBLAS's headers (.ci/run installs them), since the addon is built from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { blasComputesCorrectly, coreTypeFor, nativeBlas, type NativeBlas } from '../../src/main/engine/blas.ts';

const haveOpenBlas = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'].some(existsSync);
const skip = haveOpenBlas ? false : 'OpenBLAS headers absent: the addon cannot be built here';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const r = rng(7);
const rand = (shape: number[]): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, r), shape);

/** op(a)·op(b) by the definition, in float64, with TF.js's batch broadcasting (rank 3 at most). */
function reference(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): { shape: number[]; values: number[] } {
  const A = a.arraySync() as number[][] | number[][][];
  const B = b.arraySync() as number[][] | number[][][];
  const as3 = (x: number[][] | number[][][]): number[][][] => (a.rank === 3 && x === A) || (b.rank === 3 && x === B) ? (x as number[][][]) : [x as number[][]];
  const [A3, B3] = [as3(A), as3(B)];
  const batch = Math.max(A3.length, B3.length);
  const at = (M: number[][], i: number, j: number, t: boolean): number => (t ? M[j][i] : M[i][j]);
  const m = ta ? A3[0][0].length : A3[0].length;
  const k = ta ? A3[0].length : A3[0][0].length;
  const n = tb ? B3[0].length : B3[0][0].length;
  const values: number[] = [];
  for (let z = 0; z < batch; z++) {
    const [Ma, Mb] = [A3[A3.length === 1 ? 0 : z], B3[B3.length === 1 ? 0 : z]];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += at(Ma, i, q, ta) * at(Mb, q, j, tb);
      values.push(s);
    }
  }
  const outer = a.rank === 3 || b.rank === 3 ? [batch] : [];
  return { shape: [...outer, m, n], values };
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`BatchMatMul on ${backend} runs on OpenBLAS and matches the definition for every transpose, batch and broadcast`, { skip }, async () => {
    const info = await initBackend(backend);
    assert.ok(nativeBlas().blas, `addon not loaded: ${nativeBlas().why}`);
    assert.match(info.device, /matmul on OpenBLAS/);
    const cases: [number[], number[]][] = [
      [[5, 7], [7, 4]], // plain
      [[1, 64], [64, 33]], // a row vector
      [[3, 5, 7], [3, 7, 4]], // batched
      [[3, 5, 7], [7, 4]], // b broadcast over the batch
      [[5, 7], [3, 7, 4]], // a broadcast over the batch
      [[1, 5, 7], [3, 7, 4]], // a batch of one, broadcast
    ];
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      for (const [sa, sb] of cases) {
        const swap = (s: number[], t: boolean): number[] => (t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
        const a = rand(swap(sa, ta));
        const b = rand(swap(sb, tb));
        const got = tf.matMul(a, b, ta, tb);
        const ref = reference(a, b, ta, tb);
        assert.deepEqual(got.shape, ref.shape, `shape of ${sa}·${sb} (${ta}, ${tb})`);
        const g = got.dataSync();
        ref.values.forEach((v, i) => assert.ok(Math.abs(g[i] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `${sa}·${sb} (${ta}, ${tb}) [${i}]: ${g[i]} vs ${v}`));
        tf.dispose([a, b, got]);
      }
    }
  });
}

test('int32 products fall back to TF.js; rank-4 cross broadcasting (which stock wasm gets wrong) is right', { skip }, async () => {
  await initBackend('cpu'); // the stock wasm kernel has no int32 product at all
  const ai = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32');
  const bi = tf.tensor2d([[5, 6], [7, 8]], [2, 2], 'int32');
  const pi = tf.matMul(ai, bi);
  assert.equal(pi.dtype, 'int32');
  assert.deepEqual(pi.arraySync(), [[19, 22], [43, 50]]);
  await initBackend('wasm');
  // [2,1] against [1,3] batch dims: each output block pairs a different (i, j), not a stride.
  const a = rand([2, 1, 3, 4]);
  const b = rand([1, 3, 4, 2]);
  const p = tf.matMul(a, b);
  assert.deepEqual(p.shape, [2, 3, 3, 2]);
  const A = a.arraySync() as number[][][][];
  const B = b.arraySync() as number[][][][];
  const P = p.arraySync() as number[][][][];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let x = 0; x < 3; x++) for (let y = 0; y < 2; y++) {
    const s = A[i][0][x].reduce((acc, v, q) => acc + v * B[0][j][q][y], 0);
    assert.ok(Math.abs(P[i][j][x][y] - s) < 1e-4);
  }
});

test('the addon rejects arrays too small for the shapes it is given', { skip }, () => {
  const { blas } = nativeBlas();
  assert.ok(blas);
  assert.throws(() => blas.sgemm(false, false, 1, 4, 4, 4, new Float32Array(15), 0, new Float32Array(16), 0, new Float32Array(16)), RangeError);
  assert.throws(() => blas.sgemm(false, false, 2, 2, 2, 2, new Float32Array(4), 4, new Float32Array(4), 0, new Float32Array(8)), RangeError);
  const c = new Float32Array(4);
  blas.sgemm(false, false, 1, 2, 2, 2, Float32Array.of(1, 2, 3, 4), 0, Float32Array.of(5, 6, 7, 8), 0, c);
  assert.deepEqual([...c], [19, 22, 43, 50]);
});

test('the kernel family follows the processor flags: AVX-512 to SkylakeX, AVX2+FMA to Haswell, else OpenBLAS decides', () => {
  assert.equal(coreTypeFor(new Set(['sse3', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq'])), 'SkylakeX');
  assert.equal(coreTypeFor(new Set(['sse3', 'avx', 'avx2', 'fma', 'avx512f'])), 'Haswell', 'AVX-512 foundation alone is not SkylakeX');
  assert.equal(coreTypeFor(new Set(['sse3', 'avx', 'avx2'])), null, 'AVX2 without FMA');
  assert.equal(coreTypeFor(new Set()), null, 'not x86, or no /proc/cpuinfo');
});

test('the self-check accepts the loaded addon and rejects a library that computes wrong products', { skip }, () => {
  const { blas, why } = nativeBlas();
  assert.ok(blas, why);
  assert.ok(blasComputesCorrectly(blas));
  // A kernel that drops the last term of every dot product, as a broken kernel family might.
  const broken: NativeBlas = {
    ...blas,
    sgemm: (ta, tb, batch, m, n, k, a, sa, b, sb, c) => blas.sgemm(ta, tb, batch, m, n, k - 1, a, sa, b, sb, c),
  };
  assert.equal(blasComputesCorrectly(broken), false);
});
