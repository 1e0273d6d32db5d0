// The defaults spelled once in shared/defaults.ts are the ones the core applies: a split without
// parameters, a set without seeds, a set without a group name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SEED, DEFAULT_SPLIT_PARAMS, defaultSetGroup } from '../../src/shared/defaults.ts';
import { resolveSplitParams } from '../../src/main/data/split.ts';
import { expandSet } from '../../src/main/train/sets.ts';

test('a split without parameters resolves to DEFAULT_SPLIT_PARAMS', () => {
  assert.deepEqual(resolveSplitParams({}), DEFAULT_SPLIT_PARAMS);
  assert.deepEqual(resolveSplitParams({ kind: 'time-quantile' }).quantiles, [0.8, 0.9]);
});

test('a set without seeds trains DEFAULT_SEED', () => {
  const runs = expandSet({ datasetId: 1, model: 'gru4rec', group: 'g' });
  assert.deepEqual(runs.map((r) => r.seed), [DEFAULT_SEED]);
});

test('the default set group names the model and the time, without spaces (a shell argument)', () => {
  assert.equal(defaultSetGroup('cmi', new Date('2026-12-02T03:50:07.123Z')), 'cmi-2026-12-02T03:50:07');
});
