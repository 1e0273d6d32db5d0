// The early-stopping validation sample: N users drawn with the run seed, the same each time.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { evalSet, type EvalSet } from '../../src/main/eval/sets.ts';
import { openDb } from '../../src/main/store/db.ts';
import { ensureSplit, loadSplit } from '../../src/main/store/splits.ts';
import { sampleRows, validationSample } from '../../src/main/train/valid-sample.ts';

describe('validation sample', () => {
  let valid: EvalSet;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmi-vsample-'));
    try {
      const db = openDb(join(dir, 'studio.sqlite'));
      const dataset = await ensureDemoDataset(db);
      valid = evalSet(loadSplit(db, ensureSplit(db, dataset.id, { maxlen: 20 }).id), 'valid', 20);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('draws N distinct rows in ascending order, the same for the same seed', () => {
    const a = sampleRows(377, 50, 7);
    assert.equal(a.length, 50);
    assert.equal(new Set(a).size, 50, 'no row twice');
    assert.ok(a.every((r, i) => r >= 0 && r < 377 && (i === 0 || r > a[i - 1])), 'ascending rows inside the set');
    assert.deepEqual(sampleRows(377, 50, 7), a, 'a fixed sample for one seed (stable across a resume)');
    assert.notDeepEqual(sampleRows(377, 50, 8), a, 'another seed draws another sample');
    assert.equal(sampleRows(377, 0, 7).length, 377, '0 keeps every user');
    assert.equal(sampleRows(377, 1000, 7).length, 377, 'more than there are keeps every user');
    assert.throws(() => sampleRows(377, -1, 7), /validUsers must be a whole number >= 0/);
  });

  it('keeps each sampled user with its own history and targets', () => {
    const n = 40;
    const sample = validationSample(valid, n, 3);
    assert.equal(sample.users.length, n);
    assert.equal(sample.histories.length, n * valid.maxlen);
    const rowOf = new Map(Array.from(valid.users, (u, r) => [u, r]));
    sample.users.forEach((u, i) => {
      const r = rowOf.get(u);
      assert.ok(r !== undefined, `user ${u} is a validation user`);
      assert.deepEqual(sample.histories.subarray(i * valid.maxlen, (i + 1) * valid.maxlen), valid.histories.subarray(r * valid.maxlen, (r + 1) * valid.maxlen));
      assert.equal(sample.targets[i], valid.targets[r]);
    });
    assert.equal(validationSample(valid, 0, 3), valid, 'all users: the set itself');
  });
});
