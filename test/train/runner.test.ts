// The training worker end to end on the real bundled sample with tiny shapes: early stopping,
// a run killed with SIGKILL resumes from its checkpoint and ends exactly where an uninterrupted
// run ends, cancel checkpoints, and the CLI's --json output.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { TrainEvent } from '../../src/shared/types.ts';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { loadCheckpoint, requireRun, runCurves } from '../../src/main/store/runs.ts';
import { loadUserMetrics } from '../../src/main/store/user-metrics.ts';
import { launchRun, prepareRun } from '../../src/main/train/runner.ts';

const run = promisify(execFile);
const tiny = { dim: 16, interests: 4, batchSize: 32, maxlen: 20, historyPool: 40, viewLen: 20, checkpointEvery: 10 };

describe('training worker', () => {
  let dir: string;
  let dbPath: string;
  let datasetId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-train-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    datasetId = (await ensureDemoDataset(db)).id;
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function prepare(config: Record<string, number | string | boolean>, seed = 7): number {
    const db = openDb(dbPath);
    try {
      return prepareRun(db, { datasetId, model: 'cmi', config: { ...tiny, ...config }, seed });
    } finally {
      db.close();
    }
  }

  it('stops early when validation stops improving, and stores curves, metrics and checkpoints', async () => {
    // lr 0: the validation metric can never rise after the first evaluation.
    const id = prepare({ lr: 0, weightDecay: 0, evalEvery: 5, patience: 2, maxSteps: 1000 });
    const events: TrainEvent[] = [];
    const done = await launchRun(dbPath, id, (e) => events.push(e)).done;
    assert.equal(done.status, 'done');
    assert.equal(done.bestStep, 5);
    assert.equal(done.steps, 15, 'two evaluations without improvement after the best at step 5');
    assert.ok(done.test && done.test['recall@50'] >= 0 && done.test['recall@50'] <= 1);
    assert.equal(events[0].type, 'started');
    assert.equal(events.at(-1)?.type, 'finished');
    assert.equal(events.filter((e) => e.type === 'validation').length, 3);
    const db = openDb(dbPath);
    try {
      const curves = runCurves(db, id);
      assert.deepEqual(curves.filter((c) => c.kind === 'valid').map((c) => c.step), [5, 10, 15]);
      assert.ok(curves.some((c) => c.kind === 'train' && 'main' in c.values && 'cl' in c.values));
      const perUser = loadUserMetrics(db, id, 'test', 'recall@50');
      assert.ok(perUser && perUser.users.length > 0);
      const mean = perUser.values.reduce((a, b) => a + b, 0) / perUser.values.length;
      assert.ok(Math.abs(mean - done.test['recall@50']) < 1e-6, 'stored per-user values average to the reported metric');
      assert.ok(loadCheckpoint(db, id, 'best'));
      assert.equal(loadCheckpoint(db, id, 'last'), undefined, 'a finished run drops its resume checkpoint');
    } finally {
      db.close();
    }
  });

  it('a run killed with SIGKILL resumes from its last checkpoint and ends where an uninterrupted run ends', async () => {
    const config = { evalEvery: 10, patience: 100, maxSteps: 40 };
    const reference = await launchRun(dbPath, prepare(config), () => {}).done;
    assert.equal(reference.status, 'done');

    const id = prepare(config);
    const handle = launchRun(dbPath, id, (e) => {
      if (e.type === 'checkpoint' && e.step >= 20 && handle.pid) process.kill(handle.pid, 'SIGKILL');
    });
    const killed = await handle.done;
    assert.equal(killed.status, 'interrupted');
    const db = openDb(dbPath);
    const last = loadCheckpoint(db, id, 'last');
    db.close();
    assert.ok(last && last.step >= 20 && last.step < 40);

    const events: TrainEvent[] = [];
    const resumed = await launchRun(dbPath, id, (e) => events.push(e)).done;
    const started = events.find((e) => e.type === 'started');
    assert.ok(started && started.type === 'started' && started.resumedFrom === last.step);
    assert.equal(resumed.status, 'done');
    assert.equal(resumed.steps, 40);
    assert.deepEqual(resumed.test, reference.test, 'same seed, same data: identical test metrics after resuming');
    const db2 = openDb(dbPath);
    try {
      const steps = runCurves(db2, id).filter((c) => c.kind === 'valid').map((c) => c.step);
      assert.deepEqual(steps, [10, 20, 30, 40], 'curves recorded once per evaluation across the resume');
    } finally {
      db2.close();
    }
  });

  it('cancel checkpoints the run, which can then be resumed to the end', async () => {
    const id = prepare({ evalEvery: 10, patience: 100, maxSteps: 30 });
    const handle = launchRun(dbPath, id, (e) => {
      if (e.type === 'progress' && e.step >= 5) handle.cancel();
    });
    const cancelled = await handle.done;
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.steps >= 5 && cancelled.steps < 30);
    const done = await launchRun(dbPath, id, () => {}).done;
    assert.equal(done.status, 'done');
    assert.equal(done.steps, 30);
  });

  it('cmi-studio train --json prints one object with the test metrics, backend and steps', async () => {
    const bin = join(import.meta.dirname, '../../bin/cmi-studio.mjs');
    const args = ['train', '--dataset', 'kuairand-demo', '--model', 'cmi', '--interests', '2', '--max-steps', '10', '--seed', '3', '--db', dbPath, '--json'];
    for (const [k, v] of Object.entries({ ...tiny, evalEvery: 5 })) if (k !== 'interests') args.push('--set', `${k}=${v}`);
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    const out = JSON.parse(stdout) as { run: number; test: Record<string, number>; backend: string; steps: number; seconds: number; interests: number };
    for (const k of [10, 20, 50, 100, 200]) {
      for (const m of ['recall', 'hitrate', 'ndcg']) assert.equal(typeof out.test[`${m}@${k}`], 'number');
    }
    assert.equal(out.steps, 10);
    assert.equal(out.interests, 2);
    assert.ok(out.seconds > 0);
    assert.match(out.backend, /wasm|cpu|tensorflow/);
    assert.match(stderr, /valid @5/);
    const db = openDb(dbPath);
    try {
      assert.equal(requireRun(db, out.run).status, 'done');
    } finally {
      db.close();
    }
  });

  it('rejects bad config before starting', async () => {
    const bin = join(import.meta.dirname, '../../bin/cmi-studio.mjs');
    await assert.rejects(run(process.execPath, [bin, 'train', '--dataset', 'kuairand-demo', '--model', 'cmi', '--set', 'nope=1', '--db', dbPath]), /unknown config key 'nope'/);
    await assert.rejects(run(process.execPath, [bin, 'train', '--dataset', 'missing', '--model', 'cmi', '--db', dbPath]), /no dataset named 'missing'/);
  });
});
