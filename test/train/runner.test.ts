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
import { evalSet } from '../../src/main/eval/sets.ts';
import { loadSplit } from '../../src/main/store/splits.ts';

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
    assert.equal(done.stopped, 'early');
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
      // Every point is timed (the run page's time axes), in the order it was recorded.
      assert.ok(curves.every((c) => c.seconds !== undefined && c.time !== undefined && !('$seconds' in c.values)));
      const train = curves.filter((c) => c.kind === 'train');
      assert.ok(train.every((c, i) => i === 0 || (c.seconds! >= train[i - 1].seconds! && c.time! >= train[i - 1].time!)));
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
    // Early stopping on a sample of validation users: the resumed run must evaluate the same ones.
    const config = { evalEvery: 10, patience: 100, maxSteps: 40, validUsers: 100 };
    const referenceId = prepare(config);
    const reference = await launchRun(dbPath, referenceId, () => {}).done;
    assert.equal(reference.status, 'done');
    assert.equal(reference.stopped, 'max-steps');

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
      const valid = runCurves(db2, id).filter((c) => c.kind === 'valid');
      assert.deepEqual(valid.map((c) => c.step), [10, 20, 30, 40], 'curves recorded once per evaluation across the resume');
      // Values, not times: the two runs trained at different moments.
      const untimed = (points: typeof valid) => points.map(({ step, kind, stage, values }) => ({ step, kind, stage, values }));
      assert.deepEqual(untimed(valid), untimed(runCurves(db2, referenceId).filter((c) => c.kind === 'valid')), 'the same validation sample before and after the resume');
      // Training seconds carry on across the resume: the time the run stood still is not counted.
      const seconds = runCurves(db2, id).filter((c) => c.kind === 'train').map((c) => c.seconds!);
      assert.ok(seconds.every((s, i) => i === 0 || s >= seconds[i - 1]), `training seconds never go back: ${seconds.join(', ')}`);
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
    assert.equal(cancelled.stopped, 'cancelled');
    assert.ok(cancelled.steps >= 5 && cancelled.steps < 30);
    const done = await launchRun(dbPath, id, () => {}).done;
    assert.equal(done.status, 'done');
    assert.equal(done.stopped, 'max-steps', 'a resumed run says why it stopped in the end');
    assert.equal(done.steps, 30);
  });

  it('reports evaluation progress on the validation sample, then on every validation and test user; live steps and an ETA with evaluations', async () => {
    const id = prepare({ evalEvery: 10, patience: 100, maxSteps: 20, validUsers: 60 });
    const events: TrainEvent[] = [];
    const live: { step: number; stored: number; seconds: number }[] = [];
    const done = await launchRun(dbPath, id, (e) => {
      events.push(e);
      if (e.type === 'progress') {
        const db = openDb(dbPath);
        const r = requireRun(db, id);
        db.close();
        live.push({ step: e.step, stored: r.steps, seconds: r.seconds });
      }
    }).done;
    assert.equal(done.status, 'done');
    const db = openDb(dbPath);
    const split = loadSplit(db, done.splitId);
    db.close();
    const all = { valid: evalSet(split, 'valid', 20).users.length, test: evalSet(split, 'test', 20).users.length };
    const progress = events.filter((e) => e.type === 'eval-progress');
    const totals = (phase: string) => [...new Set(progress.filter((e) => e.phase === phase).map((e) => e.total))];
    assert.deepEqual(totals('valid'), [60], 'early-stopping evaluations use the 60 sampled users');
    assert.deepEqual(totals('final-valid'), [all.valid], 'the final validation uses every user');
    assert.deepEqual(totals('test'), [all.test], 'the test uses every test user');
    for (const phase of ['valid', 'final-valid', 'test']) {
      const ends = progress.filter((e) => e.phase === phase && e.done === e.total);
      assert.ok(ends.length > 0 && ends.every((e) => e.rate > 0), `${phase} evaluations report their end and a rate`);
    }
    assert.equal(progress.filter((e) => e.phase === 'valid' && e.done === e.total).length, 2, 'two early-stopping evaluations');
    assert.ok(live.length > 0 && live.every((l) => l.stored === l.step && l.seconds > 0), 'the stored run shows the live step and time');
    const afterEval = events.slice(events.findIndex((e) => e.type === 'validation')).find((e) => e.type === 'progress');
    assert.ok(afterEval && afterEval.type === 'progress' && afterEval.etaSeconds !== null && afterEval.etaSeconds > 0, 'an ETA once an evaluation was timed');
  });

  it('cmi-studio train --json prints one object with the test metrics, backend and steps', async () => {
    const bin = join(import.meta.dirname, '../../bin/cmi-studio.mjs');
    const args = ['train', '--dataset', 'kuairand-demo', '--model', 'cmi', '--interests', '2', '--max-steps', '10', '--seed', '3', '--db', dbPath, '--json'];
    for (const [k, v] of Object.entries({ ...tiny, evalEvery: 5 })) if (k !== 'interests') args.push('--set', `${k}=${v}`);
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    const out = JSON.parse(stdout) as { run: number; test: Record<string, number>; backend: string; steps: number; seconds: number; interests: number; stopped: string };
    assert.equal(out.stopped, 'max-steps');
    for (const k of [10, 20, 50, 100, 200]) {
      for (const m of ['recall', 'hitrate', 'ndcg']) assert.equal(typeof out.test[`${m}@${k}`], 'number');
    }
    assert.equal(out.steps, 10);
    assert.equal(out.interests, 2);
    assert.ok(out.seconds > 0);
    assert.match(out.backend, /wasm|cpu|tensorflow/);
    assert.match(stderr, /valid @5/);
    assert.match(stderr, /valid @5: [\d,]+\/[\d,]+ users, [\d,]+ users\/s/, 'evaluation progress on stderr');
    assert.match(stderr, /test: [\d,]+\/[\d,]+ users/, 'the test evaluation reports its progress too');
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
