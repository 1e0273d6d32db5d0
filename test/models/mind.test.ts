import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mind } from '../../src/main/models/mind.ts';
import { deriveSeed } from '../../src/main/models/ops/init.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import type { Config, SeqRecModel } from '../../src/main/models/types.ts';
import {
  MAXLEN, NUM_ITEMS, assertTrainsOnClusters, batchOf, close, disposeBatch, dot, ids2, lse,
  rows3, softmax, squashJs as squash, useBackend, vecMat,
} from './harness.ts';

useBackend('wasm');

const SEED = 1;
function create(overrides: Config, numItems = NUM_ITEMS): SeqRecModel {
  const config = resolveConfig(mind, { dim: 16, interests: 3, maxlen: MAXLEN, ...overrides });
  return mind.create({ numItems, config, seed: SEED, itemCounts: new Int32Array(numItems) });
}

// ---------------------------------------------------------------------------------------------
// A tiny model with every weight known: d = 2, m = 2, maxlen 3.

const ITEMS = [[0, 0], [1, 0], [0, 1], [0.6, 0.8], [-0.8, 0.6], [0.28, -0.96]];
const S = [[1.5, -0.5], [0.7, 2]];
const H1 = [[0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.6, -0.1], [0.2, 0.4, -0.3, 0.1, 0.5, -0.6, 0.1, 0.2]];
const HB1 = [0.1, -0.1, 0, 0.2, 0.05, 0, -0.05, 0.1];
const H2 = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.2, 0.1], [0.4, -0.3], [-0.1, 0.5], [0.2, 0.2], [0.6, -0.4]];
const HB2 = [0.05, -0.02];

function tinyModel(overrides: Config = {}): SeqRecModel {
  const model = create({ dim: 2, interests: 2, maxlen: 3, ...overrides }, ITEMS.length);
  const v = model.variables;
  v.item.assign(tf.tensor2d(ITEMS));
  v.S.assign(tf.tensor2d(S));
  v['h1.w'].assign(tf.tensor2d(H1));
  v['h1.b'].assign(tf.tensor1d(HB1));
  v['h2.w'].assign(tf.tensor2d(H2));
  v['h2.b'].assign(tf.tensor1d(HB2));
  return model;
}

/** The fixed initial routing logits: N(0, 1) drawn from the run seed under 'routingLogits'. */
function initialLogits(m: number, maxlen: number): number[][] {
  return tf.tidy(() => tf.randomNormal([m, maxlen], 0, 1, 'float32', deriveSeed(SEED, 'routingLogits')).arraySync() as number[][]);
}

/** Hand MIND user vectors for one left-padded row (right-aligned logits); `axis` 'interests'
 *  normalises each behaviour over the active capsules, 'behaviours' each capsule over items. */
function handUser(row: number[], axis: 'interests' | 'behaviours', k = 2): { user: number[][]; w: number[][] } {
  const m = 2;
  const L = row.length;
  const all = initialLogits(m, 3);
  const logits = all.map((r) => r.slice(3 - L));
  const votes = row.map((id) => vecMat(ITEMS[id], S));
  const valid = row.map((id) => id > 0);
  let caps: number[][] = [];
  let w: number[][] = [];
  for (let it = 0; it < 3; it++) {
    w = Array.from({ length: m }, () => Array(L).fill(0));
    if (axis === 'interests') {
      for (let i = 0; i < L; i++) {
        if (!valid[i]) continue;
        const p = softmax(logits.slice(0, k).map((r) => r[i]));
        p.forEach((x, j) => (w[j][i] = x));
      }
    } else {
      for (let j = 0; j < k; j++) {
        const idx = [...Array(L).keys()].filter((i) => valid[i]);
        const p = softmax(idx.map((i) => logits[j][i]));
        idx.forEach((i, n) => (w[j][i] = p[n]));
      }
    }
    caps = w.map((wj) => squash(votes.reduce((acc, v, i) => acc.map((x, c) => x + wj[i] * v[c]), [0, 0])));
    if (it < 2) logits.forEach((r, j) => r.forEach((_, i) => (r[i] += dot(caps[j], votes[i]))));
  }
  const user = caps.map((c) => {
    const hidden = vecMat(c, H1).map((x, i) => Math.max(0, x + HB1[i]));
    return vecMat(hidden, H2).map((x, i) => x + HB2[i]);
  });
  return { user: user.map((u, j) => (j < k ? u : user[0])), w };
}

// ---------------------------------------------------------------------------------------------

test('B2I routing: shared map S, fixed seeded random logits, softmax over interests, squash, H-layer', () => {
  const model = tinyModel();
  const history = [[0, 1, 3], [2, 4, 5], [0, 0, 4]];
  close(rows3(model.interests(ids2(history))).flat(2), history.flatMap((r) => handUser(r, 'interests').user).flat());
  // The coupling of each valid behaviour sums to 1 over the interests; padding gets none.
  const insp = model.inspect!(ids2(history));
  close(insp.assignment!.dataSync(), history.flatMap((r) => {
    const { w } = handUser(r, 'interests');
    return r.map((_, i) => [w[0][i], w[1][i]]);
  }).flat());
  tf.dispose([insp.assignment!, insp.weights!]);
  // Same logits at every forward: a second call gives the same vectors.
  close(rows3(model.interests(ids2(history))).flat(2), history.flatMap((r) => handUser(r, 'interests').user).flat());
  model.dispose();
});

test("routingSoftmax 'behaviours' (Wang-Yu-Qing's code): each interest averages the valid behaviours", () => {
  const model = tinyModel({ routingSoftmax: 'behaviours' });
  const history = [[0, 1, 3], [2, 4, 5]];
  close(rows3(model.interests(ids2(history))).flat(2), history.flatMap((r) => handUser(r, 'behaviours').user).flat());
  model.dispose();
});

test('label-aware attention at training: softmax((u_l . e_pos)^p) weights; that vector scores every batch candidate', () => {
  for (const p of [2, 1, 0]) {
    const model = tinyModel({ pow: p });
    const history = [[0, 1, 3], [2, 4, 5]];
    const pos = [5, 2];
    const neg = [4, 1];
    const cands = [...pos, ...neg];
    const expected = history.reduce((s, row, b) => {
      const { user } = handUser(row, 'interests');
      const a = softmax(user.map((u) => (p === 0 ? 0 : dot(u, ITEMS[pos[b]]) ** p)));
      const v = [0, 1].map((c) => a[0] * user[0][c] + a[1] * user[1][c]);
      const logits = cands.map((c) => dot(v, ITEMS[c]));
      return s + lse(logits) - logits[b];
    }, 0) / history.length;
    const batch = batchOf(history, pos, neg);
    const got = tf.tidy(() => model.loss(batch, 0).total.dataSync()[0]);
    close([got], [expected]);
    disposeBatch(batch);
    model.dispose();
  }
});

test("dynamic interests: K'_u = max(1, min(m, floor(log2 n))); inactive interests repeat interest 0 and get no attention", () => {
  const model = create({ interests: 3, dynamicInterests: true });
  const counts = [1, 3, 4, 7, 8, 12];
  const rows = counts.map((n) => [...Array(MAXLEN - n).fill(0), ...Array.from({ length: n }, (_, i) => 1 + ((i * 7) % 30))]);
  const u = rows3(model.interests(ids2(rows)));
  const k = counts.map((n) => Math.max(1, Math.min(3, Math.floor(Math.log2(n)))));
  assert.deepEqual(k, [1, 1, 2, 2, 3, 3]);
  u.forEach((row, b) => {
    for (let j = 1; j < 3; j++) {
      const same = row[j].every((x, c) => x === row[0][c]);
      assert.equal(same, j >= k[b], `row ${b} interest ${j}`);
    }
  });
  const w = model.inspect!(ids2(rows)).weights!;
  const wa = w.arraySync();
  w.dispose();
  wa.forEach((row, b) => row.forEach((x, j) => assert.equal(x === 0, j >= k[b], `weight ${b},${j}`)));
  model.dispose();

  // In the loss, a user with K' = 1 uses interest 0 alone: the tiny model with m = 2.
  const tiny = tinyModel({ dynamicInterests: true });
  const history = [[0, 1, 3]];
  const batch = batchOf(history, [5], [4]);
  const { user } = handUser(history[0], 'interests', 1);
  const logits = [5, 4].map((c) => dot(user[0], ITEMS[c]));
  close([tf.tidy(() => tiny.loss(batch, 0).total.dataSync()[0])], [lse(logits) - logits[0]]);
  disposeBatch(batch);
  tiny.dispose();
});

test('trains on clustered data: the loss goes down, no tensor leaks across steps', () => {
  const model = create({});
  assertTrainsOnClusters(model, resolveConfig(mind, { lr: 0.02 }));
  model.dispose();
});
