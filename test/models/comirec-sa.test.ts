import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { comirecSa } from '../../src/main/models/comirec-sa.ts';
import { multiInterestAttention, selfAttentionParams } from '../../src/main/models/ops/attention.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import type { Config, SeqRecModel } from '../../src/main/models/types.ts';
import {
  MAXLEN, NUM_ITEMS, assertTrainsOnClusters, batchOf, close, disposeBatch, dot, ids2, lse,
  rows3, softmax, useBackend, vecMat,
} from './harness.ts';

useBackend('wasm');

function create(overrides: Config, numItems = NUM_ITEMS): SeqRecModel {
  const config = resolveConfig(comirecSa, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return comirecSa.create({ numItems, config, seed: 1, itemCounts: new Int32Array(numItems) });
}

// ---------------------------------------------------------------------------------------------
// A tiny model with every weight known: d = 2, m = 2 heads, hidden 4d = 8, maxlen 3.

const ITEMS = [[0, 0], [1, 0], [0, 1], [0.6, 0.8], [-0.8, 0.6], [0.28, -0.96]];
const W1 = [[0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.6, -0.1], [0.2, 0.4, -0.3, 0.1, 0.5, -0.6, 0.1, 0.2]];
const B1 = [0.1, -0.1, 0, 0.2, 0.05, 0, -0.05, 0.1];
const W2 = [[1.3, -0.2], [0.1, 0.9], [-1.5, 0.2], [0.2, 1.1], [0.8, -1.3], [-0.1, 1.5], [0.7, 0.2], [1.6, -0.4]];
const POS = [[0.3, -0.3], [-0.5, 0.2], [0.4, 0.6]];

function tinyModel(overrides: Config = {}): SeqRecModel {
  const model = create({ dim: 2, interests: 2, maxlen: 3, ...overrides }, ITEMS.length);
  const v = model.variables;
  v.item.assign(tf.tensor2d(ITEMS));
  v['attention.w1'].assign(tf.tensor2d(W1));
  v['attention.b1'].assign(tf.tensor1d(B1));
  v['attention.w2'].assign(tf.tensor2d(W2));
  v.position?.assign(tf.tensor2d(POS));
  return model;
}

/** Hand attention of one row: A_j = softmax over valid t of W2[:, j] . tanh((e_t + p_t) W1 + b1),
 *  position rows aligned to the latest item; interests_j = sum_t A_jt e_t (no position). */
function handAttention(row: number[], withPosition: boolean): { a: number[][]; u: number[][] } {
  const L = row.length;
  const valid = row.map((_, t) => t).filter((t) => row[t] > 0);
  const key = (t: number): number[] => ITEMS[row[t]].map((x, c) => x + (withPosition ? POS[3 - L + t][c] : 0));
  const hidden = (t: number): number[] => vecMat(key(t), W1).map((x, i) => Math.tanh(x + B1[i]));
  const a = [0, 1].map((j) => {
    const p = softmax(valid.map((t) => dot(hidden(t), W2.map((r) => r[j]))));
    const full = Array(L).fill(0);
    valid.forEach((t, n) => (full[t] = p[n]));
    return full;
  });
  const u = a.map((aj) => [0, 1].map((c) => row.reduce((s, id, t) => s + aj[t] * ITEMS[id][c], 0)));
  return { a, u };
}

// ---------------------------------------------------------------------------------------------

test('self-attention: A = softmax(W2 tanh(W1 (H + P))) over valid steps, interests = A H', () => {
  for (const positionEmbedding of [true, false]) {
    const model = tinyModel({ positionEmbedding });
    assert.equal('position' in model.variables, positionEmbedding);
    const history = [[0, 1, 3], [2, 4, 5], [0, 0, 4]];
    const want = history.map((r) => handAttention(r, positionEmbedding));
    close(rows3(model.interests(ids2(history))).flat(2), want.flatMap((w) => w.u).flat());
    const { assignment } = model.inspect!(ids2(history));
    close(assignment!.dataSync(), want.flatMap((w, b) => history[b].map((_, t) => [w.a[0][t], w.a[1][t]])).flat());
    assignment!.dispose();
    // A narrower tensor with the same items: positions count from the latest item.
    close(rows3(model.interests(ids2([[1, 3], [0, 4]]))).flat(2), [want[0].u, want[2].u].flat(2));
    model.dispose();
  }
});

test('multiInterestAttention: a per-head mask limits each head to its positions; an empty head is zero', () => {
  const p = selfAttentionParams(2, 8, 2, 3);
  p.w1.assign(tf.tensor2d(W1));
  p.b1.assign(tf.tensor1d(B1));
  p.w2.assign(tf.tensor2d(W2));
  const row = [1, 3, 4];
  const x = tf.tensor3d([row.map((id) => ITEMS[id])]);
  const out = multiInterestAttention(p, x, x, tf.tensor3d([[[1, 0, 1], [0, 0, 0]]]));
  const full = handAttention(row, false);
  // Head 0 over positions 0 and 2 only: renormalise its logits there.
  const h = (t: number): number[] => vecMat(ITEMS[row[t]], W1).map((v, i) => Math.tanh(v + B1[i]));
  const a0 = softmax([0, 2].map((t) => dot(h(t), W2.map((r) => r[0]))));
  close(out.weights.dataSync(), [a0[0], 0, a0[1], 0, 0, 0]);
  close(out.interests.dataSync(), [0, 1].map((c) => a0[0] * ITEMS[1][c] + a0[1] * ITEMS[4][c]).concat([0, 0]));
  assert.ok(full.a[0][1] > 0); // without the mask, head 0 would weigh position 1 too
  tf.dispose([x, out.weights, out.interests, p.w1, p.b1, p.w2]);
});

test('training reads out the interest that best matches the target, then the in-batch sampled softmax', () => {
  const model = tinyModel();
  const history = [[0, 1, 3], [2, 4, 5]];
  const pos = [5, 2];
  const neg = [4, 1];
  const cands = [...pos, ...neg];
  const expected = history.reduce((s, row, b) => {
    const { u } = handAttention(row, true);
    const best = u[dot(u[0], ITEMS[pos[b]]) >= dot(u[1], ITEMS[pos[b]]) ? 0 : 1];
    const logits = cands.map((c) => dot(best, ITEMS[c]));
    return s + lse(logits) - logits[b];
  }, 0) / history.length;
  const batch = batchOf(history, pos, neg);
  close([tf.tidy(() => model.loss(batch, 0).total.dataSync()[0])], [expected]);
  disposeBatch(batch);
  model.dispose();
});

test('trains on clustered data: the loss goes down, no tensor leaks across steps', () => {
  const model = create({});
  assertTrainsOnClusters(model, resolveConfig(comirecSa, { lr: 0.02 }));
  model.dispose();
});
