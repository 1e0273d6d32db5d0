import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { cmi } from '../../src/main/models/cmi.ts';
import { uniformityLoss } from '../../src/main/models/ops/losses.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import type { Config, SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';

before(async () => {
  await initBackend('cpu');
});

// ---------------------------------------------------------------------------------------------
// Helpers: plain-JS reference maths, independent of the model code.

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: number[]): number[] => {
  const n = Math.hypot(...a);
  return n > 0 ? a.map((x) => x / n) : a.map(() => 0);
};
const add = (a: number[], b: number[]): number[] => a.map((x, i) => x + b[i]);
const softmax = (xs: number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((x) => x / s);
};
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

/** [B][m][d] from a [B, m, d] tensor (disposes it). */
function rows3(t: tf.Tensor3D): number[][][] {
  const a = t.arraySync();
  t.dispose();
  return a;
}

// Items 1..5 on the unit circle; categories along the axes.
const ITEMS = [[0, 0], [1, 0], [0, 1], [0.6, 0.8], [-0.8, 0.6], [0.28, -0.96]];
const CATS = [[1, 0], [0, 1]];

function tinyModel(overrides: Config): SeqRecModel {
  const config = resolveConfig(cmi, { dim: 2, interests: 2, ...overrides });
  const model = cmi.create({ numItems: ITEMS.length, config, seed: 3, itemCounts: new Int32Array(ITEMS.length) });
  model.variables.item.assign(tf.tensor2d(ITEMS));
  model.variables.category.assign(tf.tensor2d(CATS));
  return model;
}

const ids2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows, undefined, 'int32');
const ids1 = (xs: number[]): tf.Tensor1D => tf.tensor1d(xs, 'int32');

function batchOf(history: number[][], pos: number[], neg: number[], views?: [number[][], number[][]], viewNegs?: [number[], number[]]): TrainBatch {
  const b: TrainBatch = { size: pos.length, history: ids2(history), pos: ids1(pos), neg: ids1(neg), future: ids2(pos.map((p) => [p])) };
  if (views && viewNegs) {
    b.views = [ids2(views[0]), ids2(views[1])];
    b.viewNegs = [ids1(viewNegs[0]), ids1(viewNegs[1])];
  }
  return b;
}

/** The model's own loss terms as numbers. */
function terms(model: SeqRecModel, batch: TrainBatch): Record<string, number> {
  return tf.tidy(() => {
    const out = model.loss(batch, 0);
    const r: Record<string, number> = { total: out.total.dataSync()[0] };
    for (const [k, v] of Object.entries(out.terms)) r[k] = v.dataSync()[0];
    return r;
  });
}

/** Hand assignment of a history row: softmax over categories of cos/eps, 0 on padding. */
function handAssignment(row: number[], eps: number): number[][] {
  return row.map((id) => (id === 0 ? CATS.map(() => 0) : softmax(CATS.map((c) => dot(ITEMS[id], c) / eps))));
}

/** Hand interests of a history row: normalised assignment-weighted sums, category if empty. */
function handInterests(row: number[], eps: number): number[][] {
  const p = handAssignment(row, eps);
  return CATS.map((c, l) => {
    const w = p.reduce((s, pk) => s + pk[l], 0);
    if (w === 0) return c;
    return norm(row.reduce((acc, id, k) => add(acc, ITEMS[id].map((x) => x * p[k][l])), [0, 0]));
  });
}

// ---------------------------------------------------------------------------------------------

test('assignment is the softmax of cosine/epsilon over categories, zero on padding; weights sum it', () => {
  const model = tinyModel({ epsilon: 0.5, useGeneral: false, lambdaCl: 0 });
  const history = [[0, 1, 3], [2, 2, 4]];
  const insp = model.inspect!(ids2(history));
  const expected = history.map((row) => handAssignment(row, 0.5));
  close(insp.assignment!.dataSync(), expected.flat(2));
  close(insp.weights!.dataSync(), expected.map((rows) => [0, 1].map((l) => rows.reduce((s, p) => s + p[l], 0))).flat());
  // Interests: normalised weighted sums of the history items.
  close(rows3(model.interests(ids2(history))).flat(2), history.map((r) => handInterests(r, 0.5)).flat(2));
  model.dispose();
});

test('a category no item reaches falls back to its own embedding; an empty history gives the categories', () => {
  // epsilon 0.001: item 1 sits on category 0, so category 1's weight underflows to exactly 0.
  const model = tinyModel({ epsilon: 0.001, useGeneral: false, lambdaCl: 0 });
  const got = rows3(model.interests(ids2([[0, 1, 1], [0, 0, 0]])));
  close(got.flat(2), [[1, 0], [0, 1], [1, 0], [0, 1]].flat());
  const w = model.inspect!(ids2([[0, 1, 1]])).weights!.dataSync();
  assert.equal(w[1], 0);
  model.dispose();
});

/** A model whose general interest is known: zero GRU and MLP weights, MLP bias (3, 4) -> (0.6, 0.8). */
function withKnownGeneral(overrides: Config): SeqRecModel {
  const model = tinyModel({ epsilon: 0.5, lambdaCl: 0, ...overrides });
  for (const k of ['gru.wx', 'gru.wh', 'mlp.w']) model.variables[k].assign(tf.zerosLike(model.variables[k]));
  model.variables['mlp.b'].assign(tf.tensor1d([3, 4]));
  return model;
}

test("general interest joins as the code's plus form or the paper's score form", () => {
  const history = [[0, 1, 3], [2, 2, 4]];
  const g = [0.6, 0.8];
  const plus = withKnownGeneral({ interestType: 'plus' });
  close(rows3(plus.interests(ids2(history))).flat(2), history.map((r) => handInterests(r, 0.5).map((u) => norm(add(u, g)))).flat(2));
  // paper: max_l u_l.v/eps + g.v == max_l (u_l/eps + g).v
  const paper = withKnownGeneral({ interestType: 'paper' });
  const vec = rows3(paper.interests(ids2(history)));
  close(vec.flat(2), history.map((r) => handInterests(r, 0.5).map((u) => add(u.map((x) => x / 0.5), g))).flat(2));
  const v = ITEMS[5];
  const score = Math.max(...handInterests(history[0], 0.5).map((u) => dot(u, v) / 0.5)) + dot(g, v);
  close([Math.max(...vec[0].map((w) => dot(w, v)))], [score]);
  plus.dispose();
  paper.dispose();
});

test('orthogonality loss is lambda * ||G G^T - I||^2 / m^2', () => {
  const model = tinyModel({ useGeneral: false, lambdaCl: 0, lambdaOrth: 10 });
  model.variables.category.assign(tf.tensor2d([[1, 0], [0.6, 0.8]]));
  const t = terms(model, batchOf([[0, 1, 2]], [3], [4]));
  close([t.orth], [(10 * (0.6 ** 2 * 2)) / 4]);
  model.dispose();
});

test('uniformity loss is lambda * std/mean (unbiased std) of the average assignment over valid items', () => {
  const model = tinyModel({ epsilon: 0.5, useGeneral: false, lambdaCl: 0, lambdaUnif: 2 });
  const history = [[0, 1, 3], [2, 2, 4]];
  const p = history.flatMap((r) => handAssignment(r, 0.5).filter((_, k) => r[k] !== 0));
  const usage = [0, 1].map((l) => p.reduce((s, pk) => s + pk[l], 0) / p.length);
  const mean = (usage[0] + usage[1]) / 2;
  const std = Math.sqrt(((usage[0] - mean) ** 2 + (usage[1] - mean) ** 2) / (2 - 1));
  const t = terms(model, batchOf(history, [5, 3], [4, 1]));
  close([t.unif], [(2 * std) / mean]);
  model.dispose();
});

test('uniformity: 0 with one interest, and a finite gradient when usage is exactly uniform', () => {
  const mask = tf.tensor2d([[0, 1, 1]]);
  const grad = (a: tf.Tensor3D) => tf.grad((x: tf.Tensor) => uniformityLoss(x as tf.Tensor3D, mask))(a);
  const one = tf.tensor3d([[[0], [1], [1]]]);
  assert.equal(uniformityLoss(one, mask).dataSync()[0], 0);
  const uniform = tf.tensor3d([[[0, 0], [0.5, 0.5], [0.5, 0.5]]]);
  assert.ok(Math.abs(uniformityLoss(uniform, mask).dataSync()[0]) < 1e-5, 'uniform usage: ~0');
  assert.ok(grad(uniform).dataSync().every(Number.isFinite), 'uniform usage: finite gradient (was NaN from sqrt at 0)');
});

/** Hand sampled softmax: logits[r][c] = max_l vec[r][l].item[cand[c]] / T, CE at labels[r]. */
function handMain(vectors: number[][][], candidates: number[], labels: number[], T: number): number {
  return vectors.reduce((s, ur, r) => {
    const logits = candidates.map((c) => Math.max(...ur.map((u) => dot(u, ITEMS[c]))) / T);
    return s + lse(logits) - logits[labels[r]];
  }, 0) / vectors.length;
}

test('main loss without views: batch candidates (paper) or own positive + all negatives (code)', () => {
  const history = [[0, 1, 3], [2, 2, 4]];
  const pos = [5, 3], neg = [4, 1];
  for (const mainNegatives of ['batch', 'random'] as const) {
    const model = withKnownGeneral({ mainNegatives });
    const vec = rows3(model.interests(ids2(history)));
    const expected = mainNegatives === 'batch'
      ? handMain(vec, [...pos, ...neg], [0, 1], 0.5)
      : vec.reduce((s, ur, r) => s + handMain([ur], [pos[r], ...neg], [0], 0.5), 0) / vec.length;
    const t = terms(model, batchOf(history, pos, neg));
    close([t.main], [expected]);
    assert.equal(t.cl, 0);
    close([t.total], [t.main + t.cl + t.orth + t.unif]);
    model.dispose();
  }
});

/** Hand two-way InfoNCE on cosine/tau; withinView adds the same view's other rows as negatives. */
function handInfoNce(a: number[][], b: number[][], tau: number, withinView: boolean): number {
  const sim = (x: number[], y: number[]): number => dot(norm(x), norm(y)) / tau;
  let total = 0;
  for (const [A, B] of [[a, b], [b, a]]) {
    let side = 0;
    for (let i = 0; i < A.length; i++) {
      const cross = B.map((y) => sim(A[i], y));
      const same = withinView ? A.flatMap((y, j) => (j === i ? [] : [sim(A[i], y)])) : [];
      side += lse([...cross, ...same]) - cross[i];
    }
    total += side / A.length;
  }
  return total;
}

test('with views: main loss on both views and the contrastive loss between them (2 users x 2 interests)', () => {
  const history = [[1, 2, 3, 4, 5], [2, 3, 4, 5, 1]];
  const views: [number[][], number[][]] = [[[0, 1, 3], [0, 2, 4]], [[0, 2, 4], [1, 5, 5]]];
  const viewNegs: [number[], number[]] = [[5, 1], [4, 3]];
  const pos = [2, 5];
  for (const [mainNegatives, clNegatives] of [['batch', 'both-views'], ['random', 'cross-view']] as const) {
    const model = withKnownGeneral({ lambdaCl: 0.5, tau: 0.2, mainNegatives, clNegatives });
    assert.equal(model.needs.views, true);
    const v0 = rows3(model.interests(ids2(views[0])));
    const v1 = rows3(model.interests(ids2(views[1])));
    const both = [...v0, ...v1];
    const main = mainNegatives === 'batch'
      ? handMain(both, [...pos, ...viewNegs[0], ...viewNegs[1]], [0, 1, 0, 1], 0.5)
      : both.reduce((s, ur, r) => s + handMain([ur], [pos[r % 2], ...viewNegs[0], ...viewNegs[1]], [0], 0.5), 0) / both.length;
    // Row (user u, interest l) of view 0 pairs with the same row of view 1.
    const cl = 0.5 * handInfoNce(v0.flat(), v1.flat(), 0.2, clNegatives === 'both-views');
    const t = terms(model, batchOf(history, pos, [1, 1], views, viewNegs));
    close([t.main, t.cl], [main, cl]);
    model.dispose();
  }
});

test('ablations: CMI-CL needs no views, CMI-G has no GRU; a batch without views is refused when needed', () => {
  const noCl = tinyModel({ lambdaCl: 0 });
  assert.equal(noCl.needs.views, false);
  const noG = tinyModel({ useGeneral: false });
  assert.deepEqual(Object.keys(noG.variables).sort(), ['category', 'item']);
  assert.deepEqual(Object.keys(noCl.variables).sort(), ['category', 'gru.wh', 'gru.wx', 'item', 'mlp.b', 'mlp.w']);
  assert.throws(() => noG.loss(batchOf([[0, 1, 2]], [3], [4]), 0), /no contrastive views/);
  noCl.dispose();
  noG.dispose();
});

// ---------------------------------------------------------------------------------------------
// Gradients of the full loss against central differences, on both pure backends.

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`full CMI loss: tf gradients match central differences on ${backend}`, async () => {
    await initBackend(backend);
    const r = lcg(11);
    const N = 9, L = 5, Lv = 4;
    const id = (): number => 1 + Math.floor(r() * (N - 1));
    const seq = (len: number, pad: number): number[] => Array.from({ length: len }, (_, k) => (k < pad ? 0 : id()));
    const config = resolveConfig(cmi, { dim: 4, interests: 2, epsilon: 0.5, tau: 0.5, lambdaCl: 0.3, lambdaOrth: 1 });
    const model = cmi.create({ numItems: N, config, seed: 5, itemCounts: new Int32Array(N) });
    // Perturb the projected tables off the sphere a little: gradients hold for any point.
    const batch = batchOf(
      [seq(L, 1), seq(L, 0), seq(L, 3)], [id(), id(), id()], [id(), id(), id()],
      [[seq(Lv, 1), seq(Lv, 0), seq(Lv, 2)], [seq(Lv, 0), seq(Lv, 2), seq(Lv, 1)]],
      [[id(), id(), id()], [id(), id(), id()]],
    );
    const vars = Object.entries(model.variables);
    const loss = (): number => tf.tidy(() => model.loss(batch, 0).total.dataSync()[0]);
    const { grads } = tf.variableGrads(() => model.loss(batch, 0).total, vars.map(([, v]) => v));
    const h = 1e-2;
    let checked = 0;
    for (const [name, v] of vars) {
      const g = grads[v.name].dataSync();
      const base = Float32Array.from(v.dataSync());
      // Every entry of the small tensors; a spread of entries of the item table.
      const picks = base.length <= 24 ? base.keys() : [4, 5, 9, 14, 18, 23, 27, 31, 35].values();
      for (const i of picks) {
        const at = (x: number): number => {
          const p = Float32Array.from(base);
          p[i] = x;
          v.assign(tf.tensor(p, v.shape));
          return loss();
        };
        const numeric = (at(base[i] + h) - at(base[i] - h)) / (2 * h);
        v.assign(tf.tensor(base, v.shape));
        assert.ok(Math.abs(numeric - g[i]) <= 2e-3 + 2e-2 * Math.abs(numeric), `${name}[${i}]: analytic ${g[i]} vs numeric ${numeric}`);
        checked++;
      }
    }
    assert.equal(checked, 55);
    tf.dispose(Object.values(grads));
    model.dispose();
    await initBackend('cpu');
  });
}
