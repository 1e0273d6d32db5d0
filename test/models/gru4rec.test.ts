import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { gru4rec } from '../../src/main/models/gru4rec.ts';
import { gru, type GruParams } from '../../src/main/models/ops/gru.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import type { Config, SeqRecModel } from '../../src/main/models/types.ts';
import { SAMPLED_ITEMS, assertDrops, close, clusteredSampler, ids2, trainSteps, useBackend } from './harness.ts';

useBackend('wasm');

function model(overrides: Config = {}): SeqRecModel {
  const config = resolveConfig(gru4rec, { dim: 16, batchSize: 32, maxlen: 20, ...overrides });
  return gru4rec.create({ numItems: SAMPLED_ITEMS, config, seed: 5, itemCounts: new Int32Array(SAMPLED_ITEMS) });
}

test('trains on clustered histories: the loss goes down, no tensor leaks', () => {
  const sampler = clusteredSampler({ dataSeed: 3, seed: 1, future: false });
  const m = model();
  const losses = trainSteps(m, resolveConfig(gru4rec, { lr: 0.01 }), () => toTensors(sampler.next()), { steps: 40, firstStep: 0, baselineStep: 0 })
    .map((out) => out.total);
  assertDrops(losses);
  m.dispose();
});

test('one interest whatever `interests` says', () => {
  const m = model({ interests: 8 });
  assert.equal(m.numInterests, 1);
  assert.equal(gru4rec.multiInterest, false);
  m.dispose();
});

test('the vector is the projection of the GRU state after the most recent item', () => {
  const m = model();
  const v = m.variables;
  const p: GruParams = {
    wx: v['gru.wx'] as tf.Variable<tf.Rank.R2>, wh: v['gru.wh'] as tf.Variable<tf.Rank.R2>, bx: v['gru.bx'], bh: v['gru.bh'],
  };
  const items = [7, 3, 50];
  const { last } = gru(p, tf.gather(v.item, tf.tensor2d([items], undefined, 'int32')) as tf.Tensor3D, tf.ones([1, 3]) as tf.Tensor2D);
  const expected = tf.add(tf.matMul(last, v['proj.w']), v['proj.b']);
  close(m.interests(ids2([[0, ...items]])).dataSync(), expected.dataSync());
  m.dispose();
});
