import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bool, choice, int, num, readFields, resolveConfig, selectField, sharedFields } from '../../src/main/models/config.ts';
import { models, modelInfos } from '../../src/main/models/registry.ts';
import { dssrec } from '../../src/main/models/dssrec.ts';
import { mind } from '../../src/main/models/mind.ts';
import type { ConfigField } from '../../src/shared/types.ts';

test('every field of every model has a default inside its own [min, max]', () => {
  for (const def of models) {
    const config = resolveConfig(def); // throws on a default outside its bounds
    for (const f of [...sharedFields, ...def.fields]) {
      const v = config[f.key];
      if (f.min !== undefined) assert.ok(typeof v === 'number' && v >= f.min, `${def.name}.${f.key} = ${v} below min ${f.min}`);
      if (f.max !== undefined) assert.ok(typeof v === 'number' && v <= f.max, `${def.name}.${f.key} = ${v} above max ${f.max}`);
      if (f.min !== undefined || f.max !== undefined) assert.ok(f.type === 'number' || f.type === 'integer', `${f.key}: bounds on a ${f.type} field`);
    }
  }
});

test('resolveConfig refuses values outside a field\'s bounds with an error naming key, bounds and value', () => {
  assert.throws(() => resolveConfig(mind, { routingIterations: 0 }), /config 'routingIterations' must be an integer >= 1, got 0/);
  assert.throws(() => resolveConfig(dssrec, { dropout: 1 }), /config 'dropout' must be a number in \[0, 0\.99\], got 1/);
  assert.throws(() => resolveConfig(dssrec, { seq2seqKeep: 0 }), /config 'seq2seqKeep' must be a number in \[0\.01, 1\], got 0/);
  assert.throws(() => resolveConfig(mind, { dim: 2.5 }), /config 'dim' must be an integer >= 1, got 2\.5/);
  assert.throws(() => resolveConfig(mind, { routingSoftmax: 'rows' }), /config 'routingSoftmax' must be one of interests\|behaviours, got "rows"/);
  assert.equal(resolveConfig(mind, { routingIterations: 1 }).routingIterations, 1, 'the bound itself is accepted');
});

test('the UI gets min and max with the fields', () => {
  const info = modelInfos().find((m) => m.name === 'dssrec');
  const dropout = info?.fields.find((f) => f.key === 'dropout');
  assert.deepEqual([dropout?.min, dropout?.max], [0, 0.99], 'dropout bounds reach ModelInfo');
});

test('typed readers: the value, the default for a key the config lacks, an error for the wrong type or range', () => {
  const n: ConfigField = { key: 'n', label: 'n', type: 'integer', default: 3, min: 1, max: 5 };
  const x: ConfigField = { key: 'x', label: 'x', type: 'number', default: 0.5 };
  const b: ConfigField = { key: 'b', label: 'b', type: 'boolean', default: true };
  const s = selectField({ key: 's', label: 's', default: 'one', options: ['one', 'two'] });
  assert.equal(int({ n: 4 }, n), 4);
  assert.equal(int({}, n), 3, 'a run stored before the key existed reads its default');
  assert.equal(num({ x: 0.25 }, x), 0.25);
  assert.equal(bool({ b: false }, b), false);
  const picked: 'one' | 'two' = choice({ s: 'two' }, s);
  assert.equal(picked, 'two');
  assert.throws(() => int({ n: 9 }, n), /config 'n' must be an integer in \[1, 5\], got 9/);
  assert.throws(() => num({ x: 'a' }, x), /config 'x' must be a number, got "a"/);
  assert.throws(() => bool({ b: 1 }, b), /config 'b' must be a boolean, got 1/);
  assert.throws(() => int({ x: 1 }, x), /'x' is a number field, not an integer/);
  assert.deepEqual(readFields({ n: 2, s: 'two' }, { n, x, b, s }), { n: 2, x: 0.5, b: true, s: 'two' });
});
