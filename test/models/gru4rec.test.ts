import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/main/engine/backend.ts';
import { gru4rec } from '../../src/main/models/gru4rec.ts';
import { gru, type GruParams } from '../../src/main/models/layers.ts';
import { resolveConfig } from '../../src/main/train/config.ts';
import { trainStep } from '../../src/main/train/step.ts';
import { createOptimizer } from '../../src/main/train/optimizer.ts';
import { Sampler } from '../../src/main/data/sampler.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import type { Config, SeqRecModel } from '../../src/main/models/types.ts';
import { lcg, splitOf } from '../data/fixtures.ts';

before(async () => {
  await initBackend('wasm');
});

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, 'length');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}
const ids2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows, undefined, 'int32');
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function model(overrides: Config = {}): SeqRecModel {
  const config = resolveConfig(gru4rec, { dim: 16, batchSize: 32, maxlen: 20, ...overrides });
  return gru4rec.create({ numItems: 61, config, seed: 5, itemCounts: new Int32Array(61) });
}

test('trains on clustered histories: the loss goes down, no tensor leaks', () => {
  const r = lcg(3);
  // 40 users, each drawing from one or two of 3 clusters of 20 items.
  const train = Array.from({ length: 40 }, (_, u) => {
    const clusters = u % 3 === 0 ? [u % 3, (u + 1) % 3] : [u % 3];
    return Array.from({ length: 30 }, () => 1 + clusters[Math.floor(r() * clusters.length)] * 20 + Math.floor(r() * 20));
  });
  const sampler = new Sampler(splitOf(61, train), { batchSize: 32, maxlen: 20, historyPool: 200, minSplit: 6, views: false, viewLen: 20, future: false, futureLen: 8, seed: 1 });
  const m = model();
  const opt = createOptimizer(resolveConfig(gru4rec, { lr: 0.01 }));
  const losses: number[] = [];
  let after1 = 0;
  for (let s = 0; s < 40; s++) {
    const batch = toTensors(sampler.next());
    losses.push(trainStep(m, opt, batch, s).total);
    tf.dispose([batch.history, batch.pos, batch.neg, batch.future]);
    if (s === 0) after1 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, after1);
  assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)), `${mean(losses.slice(0, 5))} -> ${mean(losses.slice(-5))}`);
  opt.dispose();
  m.dispose();
});

test('one interest whatever `interests` says; [B, 1, d]; extra left padding changes nothing', () => {
  const m = model({ interests: 8 });
  assert.equal(m.numInterests, 1);
  assert.equal(gru4rec.multiInterest, false);
  const a = m.interests(ids2([[4, 9, 30], [0, 0, 12]]));
  assert.deepEqual(a.shape, [2, 1, 16]);
  const b = m.interests(ids2([[0, 0, 0, 4, 9, 30], [0, 0, 0, 0, 0, 12]]));
  close(b.dataSync(), a.dataSync(), 1e-6);
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
