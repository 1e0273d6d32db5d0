import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { pop } from '../../src/main/models/pop.ts';
import { maxOverInterests } from '../../src/main/models/ops/losses.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import type { TrainBatch } from '../../src/main/models/types.ts';
import { useBackend } from './harness.ts';

useBackend('wasm');

const COUNTS = Int32Array.from([0, 5, 0, 12, 7, 7, 1]);

function create(counts = COUNTS): ReturnType<typeof pop.create> {
  return pop.create({ numItems: COUNTS.length, config: resolveConfig(pop), seed: 1, itemCounts: counts });
}

test('pop is a non-trainable single-interest floor with no variables or own config', () => {
  assert.equal(pop.trainable, false);
  assert.equal(pop.multiInterest, false);
  assert.deepEqual(pop.fields, []);
  const model = create();
  assert.equal(model.numInterests, 1);
  assert.deepEqual(Object.keys(model.variables), []);
  const h = tf.tensor2d([[0, 1, 2]], undefined, 'int32');
  const batch: TrainBatch = { size: 1, history: h, pos: tf.tensor1d([3], 'int32'), neg: tf.tensor1d([4], 'int32'), future: h };
  assert.throws(() => model.loss(batch, 0), /nothing to train/);
  tf.dispose([h, batch.pos, batch.neg]);
  model.dispose();
});

test('every user scores every item by its training count (max over interests of the inner product)', () => {
  const model = create();
  const before = tf.memory().numTensors;
  const scores = tf.tidy(() => {
    const u = model.interests(tf.tensor2d([[0, 0, 1], [3, 4, 5], [0, 0, 0]], undefined, 'int32'));
    assert.deepEqual(u.shape, [3, 1, 1]);
    return maxOverInterests(u, model.itemTable()).arraySync();
  });
  assert.equal(tf.memory().numTensors, before);
  for (const row of scores) assert.deepEqual(row, Array.from(COUNTS));
  // Ranked by score (ties by lower id, as the shared retrieval): 3, 4, 5, 1, 6.
  const ranked = [1, 2, 3, 4, 5, 6].filter((i) => COUNTS[i] > 0).sort((a, b) => scores[0][b] - scores[0][a] || a - b);
  assert.deepEqual(ranked, [3, 4, 5, 1, 6]);
  model.dispose();
});

test('itemCounts must cover the vocabulary', () => {
  assert.throws(() => create(Int32Array.from([0, 1])), /itemCounts has 2 entries/);
});
