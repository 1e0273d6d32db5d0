import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { permuteRows } from '../../src/main/models/ops/grad.ts';
import { gru, gruParams, gruVariables } from '../../src/main/models/ops/gru.ts';
import { infoNCE } from '../../src/main/models/ops/infonce.ts';
import { deriveSeed, embeddingTable, initUniform } from '../../src/main/models/ops/init.ts';
import { candidateSoftmaxLoss, crossEntropy, logSumExp, maxOverInterests, sampledSoftmaxLoss } from '../../src/main/models/ops/losses.ts';
import { embed, idMask, l2normalize, maskedMean, maskedSoftmax } from '../../src/main/models/ops/masks.ts';
import { packByStart } from '../../src/main/models/ops/padding.ts';

before(async () => {
  await tf.setBackend('cpu');
});

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

test('deriveSeed is stable, distinct per name and per seed', () => {
  assert.equal(deriveSeed(7, 'item'), deriveSeed(7, 'item'));
  assert.notEqual(deriveSeed(7, 'item'), deriveSeed(7, 'cat'));
  assert.notEqual(deriveSeed(7, 'item'), deriveSeed(8, 'item'));
  assert.ok(deriveSeed(123, 'x') >= 0 && deriveSeed(123, 'x') < 2 ** 31, 'a non-negative 31-bit seed');
});

test('initUniform stays within 1/sqrt(d), is reproducible and spread out', () => {
  const a = initUniform([50, 16], 3);
  const b = initUniform([50, 16], 3);
  const c = initUniform([50, 16], 4, 64);
  const av = a.dataSync();
  assert.deepEqual(Array.from(av), Array.from(b.dataSync()));
  assert.ok(av.every((v) => Math.abs(v) <= 0.25), 'within 1/sqrt(16)');
  assert.ok(Math.max(...av) > 0.2 && Math.min(...av) < -0.2, 'covers the range');
  assert.ok(c.dataSync().every((v) => Math.abs(v) <= 0.125), 'within 1/sqrt(64)');
  assert.equal(a.trainable, true);
  tf.dispose([a, b, c]);
});

test('embeddingTable zeroes the padding row; embed + idMask look up rows', () => {
  const t = embeddingTable(5, 4, 1);
  assert.deepEqual(Array.from(t.dataSync().slice(0, 4)), [0, 0, 0, 0]);
  const ids = tf.tensor2d([[0, 2], [3, 3]], undefined, 'int32');
  const e = embed(t, ids);
  assert.deepEqual(e.shape, [2, 2, 4]);
  close(e.dataSync().slice(4, 8), t.dataSync().slice(8, 12));
  assert.deepEqual(Array.from(idMask(ids).dataSync()), [0, 1, 1, 1]);
  tf.dispose([t, ids, e]);
});

test('l2normalize gives unit rows and leaves zero rows at zero with finite gradient', () => {
  const x = tf.tensor2d([[3, 4], [0, 0]]);
  close(l2normalize(x).dataSync(), [0.6, 0.8, 0, 0]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(l2normalize(v)))(x);
  assert.ok(g.dataSync().every(Number.isFinite), 'finite gradient');
  // d/dx of (x/|x|) summed, at (3,4): (|x|^2 - x*(x1+x2)) / |x|^3 = (25 - 3*7)/125, (25 - 4*7)/125
  close(g.dataSync().slice(0, 2), [4 / 125, -3 / 125]);
  // along axis 0: columns normalised
  close(l2normalize(tf.tensor2d([[3, 1], [4, 0]]), 0).dataSync(), [0.6, 1, 0.8, 0]);
});

test('maskedMean averages valid steps only, empty rows give 0', () => {
  const x = tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
  const mask = tf.tensor2d([[0, 1, 1], [0, 0, 0]]);
  close(maskedMean(x, mask).dataSync(), [4, 5, 0, 0]);
});

test('maskedSoftmax zeroes masked entries and renormalises the rest', () => {
  const p = maskedSoftmax(tf.tensor2d([[1, 2, 3], [1, 1, 1]]), tf.tensor2d([[1, 0, 1], [0, 0, 0]]));
  const e1 = Math.exp(1), e3 = Math.exp(3);
  close(p.dataSync(), [e1 / (e1 + e3), 0, e3 / (e1 + e3), 0, 0, 0]);
});

test('gru matches hand-computed PyTorch equations and keeps state through padding', () => {
  // 1-d input, 1-d hidden: wx = [wr, wz, wn], wh = [ur, uz, un], with biases.
  const p = gruParams(1, 1, { bias: true }, 0);
  const [wr, wz, wn, ur, uz, un, bxr, bxz, bxn, bhr, bhz, bhn] = [0.5, -0.3, 0.8, 0.2, 0.4, -0.6, 0.1, 0.0, -0.2, 0.05, 0.1, 0.3];
  p.wx.assign(tf.tensor2d([[wr, wz, wn]]));
  p.wh.assign(tf.tensor2d([[ur, uz, un]]));
  p.bx!.assign(tf.tensor1d([bxr, bxz, bxn]));
  p.bh!.assign(tf.tensor1d([bhr, bhz, bhn]));
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  const cell = (x: number, h: number): number => {
    const r = sig(wr * x + bxr + ur * h + bhr);
    const z = sig(wz * x + bxz + uz * h + bhz);
    const n = Math.tanh(wn * x + bxn + r * (un * h + bhn));
    return (1 - z) * n + z * h;
  };
  const h1 = cell(1.5, 0);
  const h2 = cell(-0.7, h1);
  // row 0: [pad, 1.5, -0.7]; row 1: [pad, pad, 1.5]
  const x = tf.tensor3d([[[9], [1.5], [-0.7]], [[9], [9], [1.5]]]);
  const mask = tf.tensor2d([[0, 1, 1], [0, 0, 1]]);
  const { last, all } = gru(p, x, mask);
  close(last.dataSync(), [h2, h1]);
  close(all.dataSync(), [0, h1, h2, 0, 0, h1]);
  assert.deepEqual(Object.keys(gruVariables('g', p)).sort(), ['g.bh', 'g.bx', 'g.wh', 'g.wx']);
  const noBias = gruParams(3, 2, { bias: false }, 0);
  assert.deepEqual(Object.keys(gruVariables('g', noBias)).sort(), ['g.wh', 'g.wx']);
  assert.deepEqual(noBias.wx.shape, [3, 6]);
});

test('maxOverInterests takes the best interest per item', () => {
  const u = tf.tensor3d([[[1, 0], [0, 1]], [[1, 1], [-1, 0]]]);
  const items = tf.tensor2d([[2, 3], [-1, -2]]);
  close(maxOverInterests(u, items).dataSync(), [3, -1, 5, 1]);
});

test('crossEntropy equals -log softmax at the label', () => {
  const ce = crossEntropy(tf.tensor2d([[1, 2, 0], [0, 0, 3]]), tf.tensor1d([1, 0], 'int32'));
  const expected = ((lse([1, 2, 0]) - 2) + (lse([0, 0, 3]) - 0)) / 2;
  close([ce.dataSync()[0]], [expected]);
});

test('sampledSoftmaxLoss: both candidate forms by hand on 2 users x 2 interests', () => {
  // items: 1=(1,0) 2=(0,1) 3=(1,1) 4=(-1,0)
  const table = tf.tensor2d([[0, 0], [1, 0], [0, 1], [1, 1], [-1, 0]]);
  const u = tf.tensor3d([[[1, 0], [0, 2]], [[0.5, 0.5], [-1, 0]]]);
  const pos = tf.tensor1d([1, 3], 'int32');
  const neg = tf.tensor1d([2, 4], 'int32');
  const T = 0.5;
  // scores max_l u_l.v: user0 on items 1,3,2,4 = [1, 2, 2, 0]; user1 = [0.5, 1, 0.5, 1]
  const s0 = [1, 2, 2, 0], s1 = [0.5, 1, 0.5, 1];
  const sc = (xs: number[]): number[] => xs.map((v) => v / T);
  // paper form: candidates [pos1, pos3, neg2, neg4]; labels 0 and 1
  const paper = ((lse(sc(s0)) - s0[0] / T) + (lse(sc(s1)) - s1[1] / T)) / 2;
  close([sampledSoftmaxLoss(u, pos, neg, table, T).dataSync()[0]], [paper]);
  // code form: own positive + all negatives [2, 4]
  const code = ((lse(sc([1, 2, 0])) - 1 / T) + (lse(sc([1, 0.5, 1])) - 1 / T)) / 2;
  close([sampledSoftmaxLoss(u, pos, neg, table, T, { inBatchPositives: false }).dataSync()[0]], [code]);
  // explicit candidates agree with the paper form
  const viaCand = candidateSoftmaxLoss(u, tf.tensor1d([1, 3, 2, 4], 'int32'), tf.tensor1d([0, 1], 'int32'), table, T);
  close([viaCand.dataSync()[0]], [paper]);
});

test('infoNCE: both forms by hand on 2 users x 2 interests', () => {
  // rows = (user, interest) flattened; a and b are the two views; cosine similarity / tau.
  const a = [[1, 0], [0, 1], [1, 1], [1, -1]];
  const b = [[2, 0], [1, 1], [0, 1], [-1, 0]];
  const tau = 0.5;
  const cos = (x: number[], y: number[]): number => (x[0] * y[0] + x[1] * y[1]) / (Math.hypot(...x) * Math.hypot(...y));
  const N = 4;
  let cross = 0, both = 0;
  for (const [A, Bv] of [[a, b], [b, a]]) {
    let c = 0, w = 0;
    for (let i = 0; i < N; i++) {
      const other = Bv.map((y) => cos(A[i], y) / tau);
      const same = A.flatMap((y, j) => (j === i ? [] : [cos(A[i], y) / tau]));
      c += lse(other) - other[i];
      w += lse([...other, ...same]) - other[i];
    }
    cross += c / N;
    both += w / N;
  }
  const ta = tf.tensor2d(a), tb = tf.tensor2d(b);
  close([infoNCE(ta, tb, tau).dataSync()[0]], [both], 1e-4);
  close([infoNCE(ta, tb, tau, { withinView: false }).dataSync()[0]], [cross], 1e-4);
});

test('maxOverInterests and logSumExp gradients equal those of the plain tf.max / log-sum-exp forms', () => {
  const u = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 1) as tf.Tensor3D;
  const v = tf.randomNormal([6, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
  const w = tf.randomNormal([3, 6], 0, 1, 'float32', 3);
  const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(maxOverInterests(a as tf.Tensor3D, b as tf.Tensor2D), w)))([u, v]);
  const plain = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.max(tf.reshape(tf.matMul(tf.reshape(a, [12, 5]), b, false, true), [3, 4, 6]), 1), w)))([u, v]);
  close(ours[0].dataSync(), plain[0].dataSync());
  close(ours[1].dataSync(), plain[1].dataSync());
  const x = tf.randomNormal([4, 7], 0, 3, 'float32', 4) as tf.Tensor2D;
  close(logSumExp(x).dataSync(), tf.logSumExp(x, 1).dataSync());
  const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(logSumExp(t as tf.Tensor2D), tf.tensor1d([1, -2, 0.5, 3]))))(x);
  const ref = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.logSumExp(t, 1), tf.tensor1d([1, -2, 0.5, 3]))))(x);
  close(gx.dataSync(), ref.dataSync());
});

test('gru gradients (fused cell, with biases and padding) match central differences', () => {
  const p = gruParams(3, 2, { bias: true }, 9);
  const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 5) as tf.Tensor3D;
  const mask = tf.tensor2d([[0, 1, 1, 1], [0, 0, 1, 1]]);
  const w = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 6);
  const vars = [p.wx, p.wh, p.bx!, p.bh!];
  const f = (): tf.Scalar => {
    const { last, all } = gru(p, x, mask);
    return tf.add(tf.sum(tf.mul(all, w)), tf.sum(last)) as tf.Scalar;
  };
  const { grads } = tf.variableGrads(f, vars);
  const h = 1e-2;
  for (const v of vars) {
    const base = Float32Array.from(v.dataSync());
    const g = grads[v.name].dataSync();
    for (let i = 0; i < base.length; i++) {
      const at = (d: number): number => {
        const q = Float32Array.from(base);
        q[i] += d;
        v.assign(tf.tensor(q, v.shape));
        return tf.tidy(() => f().dataSync()[0]);
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      assert.ok(Math.abs(numeric - g[i]) <= 2e-3 + 1e-2 * Math.abs(numeric), `${v.name}[${i}]: ${g[i]} vs ${numeric}`);
    }
  }
  // x's gradient flows through the fused cell too.
  const gx = tf.grad((xx: tf.Tensor) => tf.sum(gru(p, xx as tf.Tensor3D, mask, { all: false }).last))(x);
  assert.equal(gx.dataSync()[0], 0, 'a padding step gets no gradient');
  assert.ok(gx.dataSync().some((v) => v !== 0), 'valid steps do');
});

test('packByStart sorts rows by first valid column, stably, and counts started rows per column', () => {
  // rows start at columns 2, 0, never (4), 2 and 1 (with a hole after it)
  const mask = [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1];
  const { order, inverse, t0, k } = packByStart(mask, 5, 4);
  assert.deepEqual([...order], [1, 4, 0, 3, 2]);
  for (let i = 0; i < 5; i++) assert.equal(order[inverse[i]], i);
  assert.equal(t0, 0);
  assert.deepEqual([...k], [1, 2, 4, 4]);
  assert.equal(packByStart([0, 0, 0, 0], 2, 2).t0, 2, 'no row starts: no step runs');
});

test('permuteRows gives tf.gather by a permutation, and the same gradient', () => {
  const x = tf.randomNormal([5, 3, 2], 0, 1, 'float32', 4);
  const order = tf.tensor1d([3, 0, 4, 1, 2], 'int32');
  const inverse = tf.tensor1d([1, 3, 4, 0, 2], 'int32');
  const w = tf.randomNormal([5, 3, 2], 0, 1, 'float32', 5);
  close(permuteRows(x, order, inverse).dataSync(), tf.gather(x, order).dataSync());
  const got = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(permuteRows(t, order, inverse), w)))(x);
  const want = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, order), w)))(x);
  close(got.dataSync(), want.dataSync());
});

test('the packed gru equals a step-by-step GRU of plain ops (outputs and gradients), rows in any order', () => {
  const [B, L, d, H] = [7, 6, 3, 4];
  const p = gruParams(d, H, { bias: true }, 21);
  const x = tf.randomNormal([B, L, d], 0, 1, 'float32', 8) as tf.Tensor3D;
  // Left padding of every length, an empty row and a row with holes (OPAL's per-category rows).
  const mask = tf.tensor2d([
    [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], [0, 0, 0, 1, 1, 1],
  ]);
  const w = tf.randomNormal([B, L, H], 0, 1, 'float32', 9);
  const reference = (xx: tf.Tensor = x): { last: tf.Tensor2D; all: tf.Tensor3D } => {
    const xp = tf.add(tf.reshape(tf.matMul(tf.reshape(xx, [B * L, d]), p.wx), [B, L, 3 * H]), p.bx!);
    let h: tf.Tensor2D = tf.zeros([B, H]);
    const all: tf.Tensor2D[] = [];
    for (let t = 0; t < L; t++) {
      const [xr, xz, xn] = tf.split(tf.squeeze(tf.slice(xp, [0, t, 0], [B, 1, 3 * H]), [1]), 3, 1);
      const [hr, hz, hn] = tf.split(tf.add(tf.matMul(h, p.wh), p.bh!), 3, 1);
      const r = tf.sigmoid(tf.add(xr, hr));
      const z = tf.sigmoid(tf.add(xz, hz));
      const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
      const next = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      const mt = tf.slice(mask, [0, t], [B, 1]);
      h = tf.add(tf.mul(mt, next), tf.mul(tf.sub(1, mt), h)) as tf.Tensor2D;
      all.push(h);
    }
    return { last: h, all: tf.stack(all, 1) as tf.Tensor3D };
  };
  const loss = (out: { last: tf.Tensor2D; all: tf.Tensor3D }): tf.Scalar => tf.add(tf.sum(tf.mul(out.all, w)), tf.sum(tf.square(out.last))) as tf.Scalar;
  const packed = gru(p, x, mask);
  const plain = reference();
  close(packed.last.dataSync(), plain.last.dataSync());
  close(packed.all.dataSync(), plain.all.dataSync());
  const vars = [p.wx, p.wh, p.bx!, p.bh!];
  const got = tf.variableGrads(() => loss(gru(p, x, mask)), vars).grads;
  const want = tf.variableGrads(() => loss(reference()), vars).grads;
  for (const v of vars) close(got[v.name].dataSync(), want[v.name].dataSync(), 1e-4);
  const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(gru(p, xx as tf.Tensor3D, mask, { all: false }).last)))(x);
  close(gx.dataSync(), tf.grad((xx: tf.Tensor) => tf.sum(tf.square(reference(xx).last)))(x).dataSync(), 1e-4);
  // Row 2 never starts: no gradient reaches its inputs; every started row gets one.
  const g = gx.arraySync() as number[][][];
  assert.ok(g[2].flat().every((v) => v === 0));
  assert.ok(g[4][5].some((v) => v !== 0) && g[4][0].every((v) => v === 0));
});

test('infoNCE value and gradients match the plain concatenated-logits form, at moderate and tiny temperatures', () => {
  const a = tf.randomNormal([6, 4], 0, 1, 'float32', 7) as tf.Tensor2D;
  const b = tf.randomNormal([6, 4], 0, 1, 'float32', 8) as tf.Tensor2D;
  /** Direct form: explicit [N, 2N] (or [N, N]) logits, tf.logSumExp, diagonal masked. */
  const plain = (x: tf.Tensor, y: tf.Tensor, tau: number, within: boolean): tf.Scalar => {
    const xn = tf.div(x, tf.norm(x, 2, 1, true));
    const yn = tf.div(y, tf.norm(y, 2, 1, true));
    const side = (p: tf.Tensor, q: tf.Tensor): tf.Tensor => {
      const cross = tf.div(tf.matMul(p, q, false, true), tau);
      const logits = within ? tf.concat([cross, tf.sub(tf.div(tf.matMul(p, p, false, true), tau), tf.mul(tf.eye(6), 1e9))], 1) : cross;
      return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.div(tf.sum(tf.mul(p, q), 1), tau)));
    };
    return tf.add(side(xn, yn), side(yn, xn)) as tf.Scalar;
  };
  // Whole [N, N] blocks, and row blocks (ragged: 4 of 6 rows, then 2; single rows), which the
  // large-N path uses; at tau 0.02 the bound is too loose for row blocks and whole ones run.
  for (const tau of [0.5, 0.02]) {
    for (const withinView of [true, false]) {
      for (const rowsPerBlock of [undefined, 4, 1]) {
        const opts = { withinView, rowsPerBlock };
        const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => infoNCE(x as tf.Tensor2D, y as tf.Tensor2D, tau, opts))([a, b]);
        const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => plain(x, y, tau, withinView))([a, b]);
        close([infoNCE(a, b, tau, opts).dataSync()[0]], [plain(a, b, tau, withinView).dataSync()[0]], 1e-4);
        close(ours[0].dataSync(), ref[0].dataSync(), 1e-3);
        close(ours[1].dataSync(), ref[1].dataSync(), 1e-3);
      }
    }
  }
});
