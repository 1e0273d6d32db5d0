// Switching the model in the training form keeps the settings the user gave that the new model
// shares (one budget for every baseline) and says what the switch changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelInfos } from '../../src/main/models/registry.ts';
import { carrySettings } from '../../src/renderer/src/screens/train/carry-settings.ts';

const fieldsOf = (name: string) => {
  const info = modelInfos().find((m) => m.name === name);
  assert.ok(info, `model ${name} is registered`);
  return info.fields;
};
const defaults = (name: string) => Object.fromEntries(fieldsOf(name).map((f) => [f.key, f.default]));

describe('model switch in the training form', () => {
  it('CMI to OPAL: the user’s step cap, batch and shared keys stay; untouched keys take OPAL’s defaults; CMI-only values are reported dropped', () => {
    const values = { ...defaults('cmi'), maxSteps: 500, batchSize: 256, epsilon: 0.2, lambdaCl: 0.5 };
    const { values: next, changes } = carrySettings(fieldsOf('cmi'), values, fieldsOf('opal'));
    assert.equal(next.maxSteps, 500);
    assert.equal(next.batchSize, 256);
    assert.equal(next.epsilon, 0.2, 'a model key both models have keeps the user’s value');
    assert.equal(next.interests, defaults('opal').interests, 'untouched: OPAL’s own default number of interests');
    assert.equal(next.mainNegatives, 'random', 'untouched: OPAL’s default candidates');
    assert.ok(!('lambdaCl' in next), 'OPAL has no contrastive weight');
    assert.deepEqual(Object.keys(next).sort(), fieldsOf('opal').map((f) => f.key).sort(), 'exactly OPAL’s keys');
    const why = Object.fromEntries(changes.map((c) => [c.key, c.why]));
    assert.equal(why.maxSteps, 'kept');
    assert.equal(why.batchSize, 'kept');
    assert.equal(why.interests, 'default', `the switch says interests went from ${defaults('cmi').interests} to ${defaults('opal').interests}`);
    assert.equal(why.mainNegatives, 'default');
    assert.equal(why.lambdaCl, 'dropped');
    assert.equal(why.lr, undefined, 'a key with the same value before and after is not a change');
  });

  it('a user value the new field cannot take falls back to its default', () => {
    const cmi = fieldsOf('cmi');
    // CMI's user picked random candidates; a model offering only batch candidates cannot take it.
    const other = fieldsOf('opal').map((f) => (f.key === 'mainNegatives' ? { ...f, default: 'batch', options: ['batch'] } : f));
    const { values } = carrySettings(cmi, { ...defaults('cmi'), mainNegatives: 'random', interests: 3 }, other);
    assert.equal(values.mainNegatives, 'batch');
    assert.equal(values.interests, 3, 'a user-set number of interests carries over');
  });

  it('switching back and forth with the same settings changes nothing the user set', () => {
    const start = { ...defaults('cmi'), maxSteps: 40, dim: 16, interests: 4 };
    const there = carrySettings(fieldsOf('cmi'), start, fieldsOf('mind')).values;
    const back = carrySettings(fieldsOf('mind'), there, fieldsOf('cmi')).values;
    assert.deepEqual(back, start);
  });
});
