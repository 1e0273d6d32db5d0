import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { opal, categoryGru, hardRouting, uniqueLoss } from '../../src/main/models/opal.ts';
import { gru, gruParams, type GruParams } from '../../src/main/models/ops/gru.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import type { Config, SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';
import { SAMPLED_ITEMS, assertDrops, close, clusteredSampler, ids2, trainSteps, useBackend } from './harness.ts';

useBackend('wasm');

const norm = (a: number[]): number[] => {
  const n = Math.hypot(...a);
  return a.map((x) => x / n);
};

function model(overrides: Config = {}, numItems = SAMPLED_ITEMS): SeqRecModel {
  const config = resolveConfig(opal, { dim: 16, batchSize: 32, maxlen: 20, ...overrides });
  return opal.create({ numItems, config, seed: 5, itemCounts: new Int32Array(numItems) });
}

function train(m: SeqRecModel, steps: number): number[] {
  const sampler = clusteredSampler({ dataSeed: 7, seed: 7, future: m.needs.future === true });
  return trainSteps(m, resolveConfig(opal, { lr: 0.01 }), () => toTensors(sampler.next()), { steps, firstStep: 0, baselineStep: 0 })
    .map((out) => out.total);
}

test('pre-train and fine-tune each lower the loss on clustered histories, without leaks', () => {
  const m = model();
  assert.equal(m.stage, 'pretrain');
  const pre = train(m, 40);
  assertDrops(pre, 0, 'pretrain ');
  m.stage = 'finetune';
  const fine = train(m, 30);
  assertDrops(fine, 0, 'finetune ');
  m.dispose();
});

test('m comes from config, 4 by default (sharedDefaults)', () => {
  const m4 = model();
  assert.equal(m4.numInterests, 4);
  const m = model({ interests: 3 });
  assert.equal(m.numInterests, 3);
  m.dispose();
  m4.dispose();
});

test('switching the stage changes interests(); an unknown stage is refused', () => {
  const m = model();
  const h = ids2([[1, 2, 21, 22, 41]]);
  const soft = m.interests(h).dataSync();
  m.stage = 'finetune';
  const fused = m.interests(h).dataSync();
  assert.ok(soft.some((x, i) => Math.abs(x - fused[i]) > 1e-4), 'the hard interests change the vectors');
  assert.throws(() => (m.stage = 'warmup'), /unknown stage/);
  m.dispose();
});

test('hard routing sends each item to exactly its argmax category and padding nowhere', () => {
  const logits = tf.tensor3d([[[0.1, 0.9, 0.3], [2, 1, 0], [5, 5.5, -1], [0, 0, 0]]]);
  const mask = tf.tensor2d([[0, 1, 1, 1]]);
  const route = hardRouting(logits, mask); // [1, m, L]
  assert.deepEqual(route.arraySync(), [[[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]]]);
  assert.deepEqual(tf.sum(route, 1).arraySync(), mask.arraySync(), 'one category per item');
});

test('unique loss is the mean over valid items of -ln(max softmax)', () => {
  const rows = [[1, 2, 0.5], [0, 0, 3], [9, 9, 9]];
  const logits = tf.tensor3d([rows]);
  const mask = tf.tensor2d([[1, 1, 0]]);
  const hand = rows.slice(0, 2).map((r) => {
    const e = r.map(Math.exp);
    return -Math.log(Math.max(...e) / e.reduce((a, b) => a + b, 0));
  });
  close(uniqueLoss(logits, mask).dataSync(), [(hand[0] + hand[1]) / 2]);
});

// Tiny exact model: items on the unit circle around two axis categories.
const ITEMS = [[0, 0], [1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8], [0.96, -0.28]];
function tiny(overrides: Config = {}): SeqRecModel {
  const config = resolveConfig(opal, { dim: 2, interests: 2, epsilon: 0.5, ...overrides });
  const m = opal.create({ numItems: ITEMS.length, config, seed: 11, itemCounts: new Int32Array(ITEMS.length) });
  m.variables.item.assign(tf.tensor2d(ITEMS));
  m.variables.category.assign(tf.tensor2d([[1, 0], [0, 1]]));
  return m;
}

test('fine-tune interest = normalise(soft + hard); hard = the shared GRU over the category subsequence alone', () => {
  const m = tiny();
  const row = [0, 1, 3, 2, 4, 5]; // categories by argmax: 1->0, 3->1, 2->0, 4->1, 5->0
  const soft = m.interests(ids2([row])).arraySync()[0];
  m.stage = 'finetune';
  const fused = m.interests(ids2([row])).arraySync()[0];
  const p: GruParams = { wx: m.variables['gru.wx'] as tf.Variable<tf.Rank.R2>, wh: m.variables['gru.wh'] as tf.Variable<tf.Rank.R2> };
  const byCategory = [[1, 2, 5], [3, 4]];
  byCategory.forEach((items, l) => {
    const x = tf.tensor3d([items.map((i) => ITEMS[i])]);
    const { last } = gru(p, x, tf.ones([1, items.length]) as tf.Tensor2D);
    const q = norm(Array.from(tf.relu(tf.add(tf.matMul(last, m.variables['mlp.w']), m.variables['mlp.b'])).dataSync()));
    close(fused[l], norm(soft[l].map((s, k) => s + q[k])));
  });
  m.dispose();
});

test('an empty category keeps its soft interest alone in the fine-tune stage', () => {
  const m = tiny();
  const row = [0, 0, 1, 2, 5]; // every item routes to category 0
  const soft = m.interests(ids2([row])).arraySync()[0];
  m.stage = 'finetune';
  const fused = m.interests(ids2([row])).arraySync()[0];
  close(fused[1], soft[1], 1e-6);
  assert.ok(Math.abs(fused[0][0] - soft[0][0]) + Math.abs(fused[0][1] - soft[0][1]) > 1e-4, 'category 0 got its hard interest');
  m.dispose();
});

test('loss terms: main, orth, unif always; unique only in the fine-tune stage, weighted by lambdaUnique', () => {
  const m = tiny({ lambdaUnique: 2 });
  const batch: TrainBatch = { size: 2, history: ids2([[0, 1, 3], [2, 4, 5]]), pos: tf.tensor1d([2, 3], 'int32'), neg: tf.tensor1d([4, 5], 'int32'), future: ids2([[2], [3]]) };
  const read = () => tf.tidy(() => Object.fromEntries(Object.entries(m.loss(batch, 0).terms).map(([k, v]) => [k, v.dataSync()[0]])));
  const pre = read();
  assert.deepEqual(Object.keys(pre).sort(), ['main', 'orth', 'unif', 'unique']);
  assert.equal(pre.unique, 0);
  m.stage = 'finetune';
  const fine = read();
  // Categories are the axes, so an item's logits are its coordinates / epsilon.
  const logits = [[0, 1, 3], [2, 4, 5]].map((r) => r.map((i) => ITEMS[i].map((c) => c / 0.5)));
  const expected = 2 * uniqueLoss(tf.tensor3d(logits), tf.tensor2d([[0, 1, 1], [1, 1, 1]])).dataSync()[0];
  close([fine.unique], [expected]);
  m.dispose();
});

test('inspect: soft assignment [B, L, m], hard category per item (-1 on padding), weights [B, m]', () => {
  const m = tiny();
  const insp = m.inspect!(ids2([[0, 1, 3, 4], [2, 2, 5, 3]]));
  assert.deepEqual(insp.assignment!.shape, [2, 4, 2]);
  assert.deepEqual(insp.hard!.arraySync(), [[-1, 0, 1, 1], [0, 0, 0, 1]]);
  assert.deepEqual(insp.weights!.shape, [2, 2]);
  close(tf.sum(insp.weights!, 1).dataSync(), [3, 4]);
  m.dispose();
});

test('categoryGru equals the shared GRU over each masked per-category row (the [B*m, L] formulation)', () => {
  const [B, L, d, m] = [3, 6, 5, 3];
  const p = gruParams(d, 4, { bias: true }, 17);
  const x = tf.randomNormal([B, L, d], 0, 1, 'float32', 2) as tf.Tensor3D;
  const cats = [[0, 2, 2, 1, 0, 2], [1, 1, 1, 1, 1, 1], [0, 0, 0, 2, 0, 2]];
  const valid = [[0, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]];
  const route = tf.tensor3d(cats.map((row, b) => row.map((c, t) => Array.from({ length: m }, (_, l) => (l === c && valid[b][t] ? 1 : 0)))));
  const got = categoryGru(p, x, route);
  const tiled = tf.reshape(tf.tile(tf.expandDims(x, 1), [1, m, 1, 1]), [B * m, L, d]) as tf.Tensor3D;
  const rows = tf.reshape(tf.transpose(route, [0, 2, 1]), [B * m, L]) as tf.Tensor2D;
  close(got.dataSync(), gru(p, tiled, rows).last.dataSync(), 1e-5);
});

test("trainStages selects the stages the trainer runs (the paper's w/o pre-train and w/o fine-tune)", () => {
  const both = model();
  const pre = model({ trainStages: 'pretrain' });
  const fine = model({ trainStages: 'finetune' });
  assert.deepEqual([...(both.stages ?? [])], ['pretrain', 'finetune']);
  assert.deepEqual([...(pre.stages ?? [])], ['pretrain']);
  assert.deepEqual([...(fine.stages ?? [])], ['finetune']);
  assert.equal(fine.stage, 'finetune', 'w/o pre-train starts straight in the fine-tune stage');
  both.stage = 'finetune';
  const h = tf.tensor2d([[0, 0, 3, 7, 9, 12]], [1, 6], 'int32');
  const [a, b] = [both.interests(h), fine.interests(h)];
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), 'same seed, same fine-tune interests');
  tf.dispose([h, a, b]);
  for (const m of [both, pre, fine]) m.dispose();
});
