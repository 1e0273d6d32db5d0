// A split that cannot be evaluated (no validation or no test user) says so when it is built,
// and is refused before anything trains by prepareRun and `cmi-studio train`, with the counts,
// the likely cause and what to try. A run that fails anyway keeps the steps and time it reached.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDb } from '../../src/main/store/db.ts';
import { listRuns } from '../../src/main/store/runs.ts';
import { ensureSplit, listSplits } from '../../src/main/store/splits.ts';
import { launchRun, prepareRun } from '../../src/main/train/runner.ts';
import { cli } from '../cli/helpers.ts';
import { insertDataset, randomPositives, type Positive } from '../data/fixtures.ts';

const tiny = { dim: 16, interests: 2, batchSize: 16, maxlen: 20, historyPool: 40, viewLen: 20 };

/** Leave-last-out targets that never occur in training: every user's last two items are new. */
function newLastItems(users: number): Positive[] {
  const out: Positive[] = [];
  for (let u = 1; u <= users; u++) {
    for (let k = 0; k < 6; k++) out.push({ user: u, item: 1 + ((u + k) % 12), day: 1 + k, time: (k + 1) * 1000 });
    out.push({ user: u, item: 1000 + 2 * u, day: 7, time: 7000 });
    out.push({ user: u, item: 1001 + 2 * u, day: 8, time: 8000 });
  }
  return out;
}

describe('a split without evaluated users', () => {
  let dir: string;
  let dbPath: string;
  let lloId: number;
  let dayId: number;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-unusable-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    lloId = insertDataset(db, 'new-last-items', newLastItems(30));
    dayId = insertDataset(db, 'days', randomPositives(3, 60, 80, 9, 30));
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says why when built, with the counts, the cause and what to try; training refuses it', () => {
    const db = openDb(dbPath);
    try {
      const split = ensureSplit(db, lloId, { kind: 'leave-last-out', maxlen: tiny.maxlen });
      assert.equal(split.validUsers, 0);
      assert.equal(split.testUsers, 0);
      assert.match(split.problem ?? '', /0 validation and 0 test users of 30/);
      assert.match(split.problem ?? '', /30 kept users have test interactions, but none of those items appears in training \(outside the training vocabulary\)/);
      assert.match(split.problem ?? '', /Try a day or time-quantile split/);
      assert.deepEqual(listSplits(db, lloId).map((s) => s.problem), [split.problem], 'listed with its problem');
      assert.throws(() => prepareRun(db, { datasetId: lloId, model: 'cmi', config: tiny, split: { kind: 'leave-last-out' } }), (err: Error) => err.message === split.problem);
      assert.deepEqual(listRuns(db, { datasetId: lloId }), [], 'no run is created');
      assert.equal(ensureSplit(db, dayId, { minTrainDays: 3 }).problem, null, 'a usable split has none');
    } finally {
      db.close();
    }
  });

  it('cmi-studio train refuses it before training', async () => {
    const r = await cli(['train', '--dataset', 'new-last-items', '--model', 'cmi', '--split', 'leave-last-out', '--db', dbPath]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /0 validation and 0 test users of 30.*outside the training vocabulary/s);
    assert.doesNotMatch(r.stderr, /step \d/, 'nothing trained');
  });

  it('a split stored before the check is refused by prepareRun', () => {
    const db = openDb(dbPath);
    try {
      const split = ensureSplit(db, dayId, { minTrainDays: 2, maxlen: tiny.maxlen });
      db.prepare("UPDATE split_users SET test = x'' WHERE split_id = ?").run(split.id);
      db.prepare('UPDATE splits SET test_users = 0, valid_target_users = NULL, test_target_users = NULL WHERE id = ?').run(split.id);
      assert.throws(() => prepareRun(db, { datasetId: dayId, model: 'cmi', config: tiny, split: { minTrainDays: 2 } }), /0 test users of \d+: every test target is empty/);
    } finally {
      db.close();
    }
  });

  it('a run that fails after training records the steps and time it reached', async () => {
    const db = openDb(dbPath);
    const config = { ...tiny, evalEvery: 5, patience: 100, maxSteps: 15, checkpointEvery: 10 };
    const id = prepareRun(db, { datasetId: dayId, model: 'cmi', config, split: { minTrainDays: 3 } });
    // Empty the test targets behind the check's back: the run trains, then its test evaluation fails.
    db.prepare("UPDATE split_users SET test = x'' WHERE split_id = (SELECT split_id FROM runs WHERE id = ?)").run(id);
    db.close();
    const failed = await launchRun(dbPath, id, () => {}).done;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /no evaluated user/);
    assert.equal(failed.steps, 15, 'the steps it reached, not those of its last checkpoint');
    assert.ok(failed.seconds > 0, 'the time it trained');
  });
});
