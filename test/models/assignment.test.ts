// The one definition of "the interest a history item belongs to" (models/assignment.ts), checked
// for every registered model against plain-JS maths on the model's own tensors: CMI and OPAL
// give each item its implicit category (argmax over categories of the item-category cosine,
// whoever the user is); the others the interest whose vector scores the item highest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { assignInterests } from '../../src/main/models/assignment.ts';
import { resolveConfig } from '../../src/main/models/config.ts';
import { models } from '../../src/main/models/registry.ts';
import { SAMPLED_ITEMS, dot, ids2, useBackend } from './harness.ts';

useBackend('wasm');

const ROWS = [[5, 17, 42, 8, 23], [0, 0, 33, 2, 51], [0, 0, 0, 17, 9]];
const COUNTS = Int32Array.from({ length: SAMPLED_ITEMS }, (_, i) => (i === 0 ? 0 : 1 + ((i * 7) % 13)));
const argmax = (xs: number[]): number => xs.reduce((b, v, i) => (v > xs[b] ? i : b), 0);
const rowsOf = (t: tf.Tensor, width: number): number[][] => {
  const d = Array.from(t.dataSync());
  t.dispose();
  return Array.from({ length: d.length / width }, (_, i) => d.slice(i * width, (i + 1) * width));
};

for (const def of models) {
  test(`${def.name}: each history item's interest`, () => {
    const config = resolveConfig(def, { dim: 16, batchSize: 32, maxlen: 20, futureLen: 8, viewLen: 20, ...(def.multiInterest ? { interests: 3 } : {}) });
    const model = def.create({ numItems: SAMPLED_ITEMS, config, seed: 7, itemCounts: COUNTS });
    try {
      const h = ids2(ROWS);
      const before = tf.memory().numTensors;
      const { interests, kind } = assignInterests(model, h);
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      const L = ROWS[0].length;
      const table = model.itemTable();
      const items = rowsOf(table, table.shape[1]);
      const category = model.variables.category;
      assert.equal(kind, category ? 'category' : 'argmax-score');
      const u = model.interests(h);
      const vectors = rowsOf(u, u.shape[2]);
      h.dispose();
      ROWS.forEach((row, b) => {
        row.forEach((item, j) => {
          const got = interests[b * L + j];
          if (item === 0) return assert.equal(got, -1, 'padding');
          if (category) {
            const cats = rowsOf(tf.clone(category), category.shape[1] as number);
            assert.equal(got, argmax(cats.map((c) => dot(items[item], c))), `${def.name} item ${item}: its category`);
          } else {
            const m = model.numInterests;
            assert.equal(got, argmax(vectors.slice(b * m, (b + 1) * m).map((v) => dot(items[item], v))), `${def.name} row ${b} item ${item}: the winning interest`);
          }
        });
      });
      // The category of an item does not depend on the user: item 17 sits in rows 0 and 2.
      if (category) assert.equal(interests[0 * L + 1], interests[2 * L + 3]);
    } finally {
      model.dispose();
    }
  });
}
