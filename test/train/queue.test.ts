// The shared training queue with real workers on the bundled sample: two runs train at once, a
// set is cancelled, resumed and deleted as a whole, and a run cancelled or deleted while it
// waited is never started.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TrainEvent } from '../../src/shared/types.ts';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb, type Db } from '../../src/main/store/db.ts';
import { listRuns, updateRun } from '../../src/main/store/runs.ts';
import { launchRun, prepareRun } from '../../src/main/train/runner.ts';
import { TrainingQueue } from '../../src/main/train/queue.ts';

const tiny = { dim: 16, interests: 2, batchSize: 32, maxlen: 20, historyPool: 40, viewLen: 20, evalEvery: 10, patience: 100, maxSteps: 30, checkpointEvery: 5 };

describe('training queue', () => {
  let dir: string;
  let dbPath: string;
  let db: Db;
  let datasetId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-queue-'));
    dbPath = join(dir, 'studio.sqlite');
    db = openDb(dbPath);
    datasetId = (await ensureDemoDataset(db)).id;
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const queueWith = (events: TrainEvent[], concurrency = 2) =>
    new TrainingQueue({ dbPath, db, loadLauncher: async () => launchRun, emit: (e) => events.push(e), concurrency });
  const prepareSet = (group: string, seeds: number[]) => seeds.map((seed) => prepareRun(db, { datasetId, model: 'cmi', config: tiny, seed, group }));
  const waitFor = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 1200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(ok(), `timed out waiting until ${what}`);
  };

  it('trains two runs at once, cancels the whole set (the waiting one never starts), resumes it to the end, deletes it', async () => {
    const events: TrainEvent[] = [];
    const queue = queueWith(events);
    const ids = prepareSet('set-a', [1, 2, 3]);
    queue.enqueue(ids);
    assert.deepEqual(queue.state(), { active: ids.slice(0, 2), queued: [ids[2]], concurrency: 2 });
    const started = () => new Set(events.filter((e) => e.type === 'started').map((e) => e.runId));
    await waitFor('two workers started', () => started().size === 2);
    assert.deepEqual([...started()].sort(), ids.slice(0, 2), 'the first two train side by side');

    assert.deepEqual(queue.cancelSet('set-a').sort(), ids);
    await queue.idle();
    const cancelled = listRuns(db, { group: 'set-a' });
    assert.ok(cancelled.every((r) => r.status === 'cancelled' && r.stopped === 'cancelled'), JSON.stringify(cancelled.map((r) => r.status)));
    assert.ok(!started().has(ids[2]), 'the queued run was taken off the queue, not started');
    assert.throws(() => queue.cancelSet('no-such-set'), /no runs in set 'no-such-set'/);

    events.length = 0;
    assert.deepEqual(queue.resumeSet('set-a').sort(), ids);
    assert.deepEqual(queue.resumeSet('set-a'), [], 'resuming twice queues nothing twice');
    await waitFor('a resumed run is training', () => events.some((e) => e.type === 'started'));
    assert.throws(() => queue.deleteSet('set-a'), /of set 'set-a' is training; cancel the set first/);
    await queue.idle();
    const done = listRuns(db, { group: 'set-a' });
    assert.ok(done.every((r) => r.status === 'done' && r.stopped === 'max-steps' && r.steps === tiny.maxSteps), JSON.stringify(done.map((r) => [r.status, r.steps])));
    const resumedFrom = new Map(events.flatMap((e) => (e.type === 'started' ? [[e.runId, e.resumedFrom] as const] : [])));
    assert.ok(resumedFrom.get(ids[0]) !== null && resumedFrom.get(ids[1]) !== null, 'the cancelled workers resumed from their checkpoints');
    assert.equal(resumedFrom.get(ids[2]), null, 'the run that never started starts from scratch');

    assert.deepEqual(queue.deleteSet('set-a').sort(), ids);
    assert.deepEqual(listRuns(db, { group: 'set-a' }), []);
  });

  it('resumes a set at once after its cancel, while the workers are still exiting', async () => {
    const events: TrainEvent[] = [];
    const queue = queueWith(events);
    const ids = prepareSet('set-c', [4, 5]);
    queue.enqueue(ids);
    await waitFor('both workers started', () => events.filter((e) => e.type === 'started').length === 2);
    queue.cancelSet('set-c');
    // The store says cancelled as soon as each worker checkpointed; the user presses Resume then.
    await waitFor('both cancelled', () => listRuns(db, { group: 'set-c' }).every((r) => r.status === 'cancelled'));
    assert.deepEqual(queue.resumeSet('set-c').sort(), ids, 'both go back on the queue');
    await queue.idle();
    assert.ok(listRuns(db, { group: 'set-c' }).every((r) => r.status === 'done'), 'and train to the end');
  });

  it('skips a run that was cancelled in the store (by another process) while it waited', async () => {
    const events: TrainEvent[] = [];
    const queue = queueWith(events, 1);
    const [first, second] = prepareSet('set-b', [1, 2]);
    queue.enqueue([first, second]);
    // What `runs --cancel-set` in another process does to a run this queue holds but has not started.
    updateRun(db, second, { status: 'cancelled', stopped: 'cancelled' });
    await queue.idle();
    assert.ok(!events.some((e) => e.type === 'started' && e.runId === second), 'the cancelled run did not start');
    assert.equal(listRuns(db, { group: 'set-b' }).find((r) => r.id === first)?.status, 'done');

    // A run another live process trains is neither queued here nor re-marked.
    updateRun(db, second, { status: 'running', pid: process.pid });
    assert.throws(() => queue.enqueue([second]), /is training in another process/);
    assert.deepEqual(queue.resumeSet('set-b'), [], 'resuming the set leaves it alone too');
    assert.equal(listRuns(db, { group: 'set-b' }).find((r) => r.id === second)?.status, 'running');
    assert.throws(() => queue.deleteSet('set-b'), /is training; cancel the set first/);
  });
});
