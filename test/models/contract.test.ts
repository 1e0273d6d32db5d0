/**
 * The contract every registered model keeps, run over the registry so a new model is checked the
 * moment it is listed: interests() is [B, m, d] with d the item table's width; left padding
 * (more of it, or a non-zero padding row) never changes the interests, in every stage; a few
 * training steps per stage give finite loss terms and finite variables; interests(), loss(),
 * inspect() and itemTable() leave no tensor behind; dispose() frees everything the model made.
 * Model-specific behaviour stays in each model's own test file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { models } from '../../src/main/models/registry.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { toTensors } from '../../src/main/data/batch.ts';
import type { Config, ModelDef, SeqRecModel, TrainBatch } from '../../src/main/models/types.ts';
import { SAMPLED_ITEMS, close, clusteredSampler, disposeBatch, ids2, trainSteps, useBackend } from './harness.ts';

useBackend('wasm');

const DIM = 16;
/** Histories of mixed lengths, the shortest a single item. */
const ROWS = [[5, 17, 42, 8, 23], [0, 0, 33, 2, 51], [0, 0, 0, 0, 9]];
/** Training-set counts for popularity (pop): any positive counts, row 0 none. */
const COUNTS = Int32Array.from({ length: SAMPLED_ITEMS }, (_, i) => (i === 0 ? 0 : 1 + ((i * 7) % 13)));

function configOf(def: ModelDef): Config {
  return resolveConfig(def, { dim: DIM, batchSize: 32, maxlen: 20, futureLen: 8, viewLen: 20, ...(def.multiInterest ? { interests: 3 } : {}) });
}

function create(def: ModelDef): SeqRecModel {
  return def.create({ numItems: SAMPLED_ITEMS, config: configOf(def), seed: 5, itemCounts: COUNTS });
}

/** Each of the model's stages in turn (once for single-stage models), `f` run in it. */
function inEachStage(model: SeqRecModel, f: (stage: string) => void): void {
  for (const stage of model.stages ?? ['(single stage)']) {
    if (model.stages) model.stage = stage;
    f(stage);
  }
}

const values = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

/** A sampler batch with what the model reads (views, future window). */
function samplerFor(model: SeqRecModel): () => TrainBatch {
  const sampler = clusteredSampler({ dataSeed: 9, seed: 2, future: model.needs.future ?? false, views: model.needs.views ?? false });
  return () => toTensors(sampler.next());
}

test('the registry lists every model once, by a unique name', () => {
  const names = models.map((d) => d.name);
  assert.equal(new Set(names).size, names.length, `duplicate names in ${names.join(', ')}`);
  assert.ok(names.length >= 10, `${names.length} models registered`);
});

for (const def of models) {
  test(`${def.name}: interests are [B, m, d]; more left padding or a non-zero padding row changes nothing, in every stage`, () => {
    const model = create(def);
    const d = tf.tidy(() => model.itemTable().shape[1]);
    inEachStage(model, (stage) => {
      const plain = model.interests(ids2(ROWS));
      assert.deepEqual(plain.shape, [ROWS.length, model.numInterests, d], `${stage}: interests shape`);
      const base = values(plain);
      close(values(model.interests(ids2(ROWS.map((r) => [...Array(6).fill(0), ...r])))), base, 1e-4);
      const item = model.variables.item;
      if (item) {
        const saved = tf.clone(item);
        item.assign(tf.tidy(() => tf.concat([tf.fill([1, d], 0.7), tf.slice(saved, [1, 0], [-1, -1])])));
        close(values(model.interests(ids2(ROWS))), base, 1e-4);
        item.assign(saved);
        saved.dispose();
      }
    });
    model.dispose();
  });

  test(`${def.name}: interests, loss, inspect and itemTable leave no tensor behind; dispose frees the model`, () => {
    const before = tf.memory().numTensors;
    const model = create(def);
    const next = samplerFor(model);
    inEachStage(model, (stage) => {
      const batch = next();
      const history = ids2(ROWS);
      const held = tf.memory().numTensors;
      tf.dispose(model.interests(history));
      tf.dispose(model.itemTable());
      if (def.trainable !== false) tf.tidy(() => void model.loss(batch, 0));
      if (model.inspect) tf.dispose(Object.values(model.inspect(history)));
      assert.equal(tf.memory().numTensors, held, `${stage}: no tensors left by interests/loss/inspect/itemTable`);
      history.dispose();
      disposeBatch(batch);
    });
    model.dispose();
    assert.equal(tf.memory().numTensors, before, 'dispose() frees every tensor the model made');
  });

  if (def.trainable === false) continue;

  test(`${def.name}: training steps in every stage give finite loss terms and finite variables, without leaks`, () => {
    const model = create(def);
    const next = samplerFor(model);
    inEachStage(model, (stage) => {
      // trainSteps asserts the tensor count after the last step equals that after the first.
      const outs = trainSteps(model, { ...configOf(def), lr: 0.01 }, next, { steps: 3, firstStep: 0, baselineStep: 0 });
      for (const out of outs) {
        assert.ok('total' in out, `${stage}: a total term`);
        for (const [name, v] of Object.entries(out)) assert.ok(Number.isFinite(v), `${stage}: loss term ${name} is ${v}`);
      }
      for (const [name, v] of Object.entries(model.variables)) {
        assert.ok(tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0] === 1), `${stage}: variable ${name} is finite after training`);
      }
    });
    model.dispose();
  });
}
