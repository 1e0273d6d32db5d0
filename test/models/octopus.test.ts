import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { octopus } from '../../src/main/models/octopus.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import type { Config, SeqRecModel } from '../../src/main/models/types.ts';
import {
  MAXLEN, NUM_ITEMS, assertTrainsOnClusters, batchOf, close, disposeBatch, dot, ids2, lcg,
  lse, rows3, softmax, useBackend, vecMat,
} from './harness.ts';

useBackend('wasm');

function create(overrides: Config, numItems = NUM_ITEMS): SeqRecModel {
  const config = resolveConfig(octopus, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return octopus.create({ numItems, config, seed: 1, itemCounts: new Int32Array(numItems) });
}

// ---------------------------------------------------------------------------------------------
// A tiny model with every weight known: d = 3, m = 3 channels along the axes, hidden 12.

const ITEMS = [[0, 0, 0], [1, 0.2, 0], [0.1, -2, 0.3], [-0.9, 0.5, 0.1], [0.2, 0.3, 0.4], [0, 0.4, -1], [0.5, 0.5, 0.1]];
const r0 = lcg(17);
const W1 = [0, 1, 2].map(() => Array.from({ length: 12 }, () => r0() - 0.5));
const B1 = Array.from({ length: 12 }, () => 0.2 * (r0() - 0.5));
const W2 = Array.from({ length: 12 }, () => [0, 1, 2].map(() => 3 * (r0() - 0.5)));

/** m channels (bases: the first m axes), heads: the first m columns of W2. */
function tinyModel(overrides: Config = {}, m = 3): SeqRecModel {
  const model = create({ dim: 3, interests: m, maxlen: 4, ...overrides }, ITEMS.length);
  const v = model.variables;
  v.item.assign(tf.tensor2d(ITEMS));
  v.bases.assign(tf.eye(m, 3));
  v['attention.w1'].assign(tf.tensor2d(W1));
  v['attention.b1'].assign(tf.tensor1d(B1));
  v['attention.w2'].assign(tf.tensor2d(W2.map((r) => r.slice(0, m))));
  return model;
}

/** Channel of an item with axis bases: argmax_k |θ_k| (first on ties). */
const channelOf = (id: number): number => {
  const a = ITEMS[id].map(Math.abs);
  return a.indexOf(Math.max(...a));
};

/** Hand Octopus interests of one row: softmax of head k's scores over channel k's items,
 *  weighted sums; inactive channels copy the channel with the most items (lowest on ties). */
function handInterests(row: number[]): { u: number[][]; channels: number[] } {
  const channels = row.map((id) => (id > 0 ? channelOf(id) : -1));
  const hidden = (id: number): number[] => vecMat(ITEMS[id], W1).map((x, i) => Math.tanh(x + B1[i]));
  const pooled = [0, 1, 2].map((k) => {
    const members = row.filter((_, t) => channels[t] === k);
    if (members.length === 0) return [0, 0, 0];
    const a = softmax(members.map((id) => dot(hidden(id), W2.map((r) => r[k]))));
    return [0, 1, 2].map((c) => members.reduce((s, id, n) => s + a[n] * ITEMS[id][c], 0));
  });
  const counts = [0, 1, 2].map((k) => channels.filter((c) => c === k).length);
  const largest = counts.indexOf(Math.max(...counts));
  return { u: pooled.map((p, k) => (counts[k] > 0 ? p : pooled[largest])), channels };
}

// ---------------------------------------------------------------------------------------------

test('each item goes to exactly one channel (argmax |θ·h_k|); attention runs within each channel', () => {
  const model = tinyModel();
  const history = [[1, 2, 3, 4], [0, 5, 6, 2], [0, 0, 1, 3]];
  const want = history.map(handInterests);
  assert.deepEqual(want.map((w) => w.channels), [[0, 1, 0, 2], [-1, 2, 0, 1], [-1, -1, 0, 0]]);
  close(rows3(model.interests(ids2(history))).flat(2), want.flatMap((w) => w.u).flat());
  const insp = model.inspect!(ids2(history));
  assert.deepEqual(insp.hard!.arraySync(), want.map((w) => w.channels));
  assert.deepEqual(insp.weights!.arraySync(), [[2, 1, 1], [1, 1, 1], [2, 0, 0]]);
  tf.dispose([insp.hard!, insp.weights!, insp.assignment!]);
  model.dispose();
});

test('elastic: an inactive channel repeats the largest active one, so it never changes the max score; no history gives zeros', () => {
  const model = tinyModel();
  const u = rows3(model.interests(ids2([[0, 0, 1, 3], [0, 0, 0, 0]])));
  assert.deepEqual(u[0][1], u[0][0]);
  assert.deepEqual(u[0][2], u[0][0]);
  assert.notDeepEqual(u[0][0], [0, 0, 0]);
  close(u[1].flat(), Array(9).fill(0));
  model.dispose();
});

test('loss: sampled softmax with max over channels plus the archive loss mean ||θ - θ HᵀH||² on unit θ', () => {
  // Two tilted orthonormal bases in 3-d: items off their plane leave a residual.
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const H = [[c, s, 0], [-s, c, 0]];
  const m2 = tinyModel({ lambdaArchive: 0.5 }, 2);
  m2.variables.bases.assign(tf.tensor2d(H));
  const history = [[0, 1, 2, 3], [0, 0, 5, 6]];
  const pos = [4, 1];
  const neg = [6, 2];
  const u = rows3(m2.interests(ids2(history)));
  const cands = [...pos, ...neg];
  const main = u.reduce((acc, ub, b) => {
    const logits = cands.map((id) => Math.max(...ub.map((v) => dot(v, ITEMS[id]))));
    return acc + lse(logits) - logits[b];
  }, 0) / 2;
  const valid = history.flat().filter((id) => id > 0);
  const recon = valid.reduce((acc, id) => {
    const n = Math.hypot(...ITEMS[id]);
    const t = ITEMS[id].map((x) => x / n);
    const rec = [0, 1, 2].map((k) => H.reduce((z, h) => z + dot(t, h) * h[k], 0));
    return acc + t.reduce((z, x, k) => z + (x - rec[k]) ** 2, 0);
  }, 0) / valid.length;
  const batch = batchOf(history, pos, neg);
  const got = tf.tidy(() => {
    const out = m2.loss(batch, 0);
    return [out.total, out.terms.main, out.terms.archive].map((t) => t.dataSync()[0]);
  });
  close(got, [main + 0.5 * recon, main, 0.5 * recon]);

  // Gradients: the hard routing passes none to the bases from the main loss; the archive loss
  // trains the bases and leaves the item embeddings alone.
  const { item, bases } = m2.variables;
  const gMain = tf.variableGrads(() => m2.loss(batch, 0).terms.main, [bases]);
  assert.ok(gMain.grads[bases.name].dataSync().every((x) => x === 0));
  const gArc = tf.variableGrads(() => m2.loss(batch, 0).terms.archive, [item, bases]);
  assert.ok(gArc.grads[item.name].dataSync().every((x) => x === 0));
  assert.ok(gArc.grads[bases.name].dataSync().some((x) => x !== 0));
  tf.dispose([...Object.values(gMain.grads), ...Object.values(gArc.grads)]);
  disposeBatch(batch);
  m2.dispose();
});

test('more orthonormal channels than dim is refused', () => {
  assert.throws(() => create({ dim: 4, interests: 5 }), /interests <= dim/);
});

test('trains on clustered data: the loss goes down, bases stay orthonormal, no tensor leaks across steps', () => {
  const model = create({});
  assertTrainsOnClusters(model, resolveConfig(octopus, { lr: 0.02 }), 'main');
  const gram = tf.tidy(() => tf.matMul(model.variables.bases, model.variables.bases, false, true).dataSync());
  close(gram, tf.tidy(() => tf.eye(3).dataSync()), 1e-5);
  model.dispose();
});
