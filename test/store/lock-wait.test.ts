// Concurrent work waits for the write lock instead of failing: a second (and third) import
// waits its turn while another process holds the lock, saying so on stderr; a same-name import
// gets a clear error; a training run keeps training while the lock is held (its writes wait)
// and ends exactly as an unhindered run; a run started meanwhile from the CLI waits to begin. The lock is held by a real second process for as long
// as the test needs, well past SQLite's busy timeout of the old code paths.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TrainEvent } from '../../src/shared/types.ts';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { listDatasets } from '../../src/main/store/datasets.ts';
import { openDb } from '../../src/main/store/db.ts';
import { runCurves } from '../../src/main/store/runs.ts';
import { launchRun, prepareRun } from '../../src/main/train/runner.ts';
import { BIN, type CliResult } from '../cli/helpers.ts';
import { holdWriteLock } from './lock-holder.ts';

const SAMPLE = resolve('resources/sample/kuairand_likes_hates.tsv');
const tiny = { dim: 16, interests: 4, batchSize: 32, maxlen: 20, historyPool: 40, viewLen: 20, checkpointEvery: 10 };

/** A CLI process with its output so far and a promise of its end. */
function start(args: string[]): { stderr: () => string; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { stderr: () => stderr, done };
}

/** Resolves once `ok()` holds; rejects if `ended` settles first (the job died instead of waiting). */
async function until(ok: () => boolean, ended: Promise<unknown>, what: string): Promise<void> {
  let over = false;
  void ended.then(() => (over = true));
  while (!ok()) {
    if (over) throw new Error(`ended before: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('waiting for the write lock', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-lock-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports wait their turn while another process holds the lock; a same-name import is told the name is taken', async () => {
    const dbPath = join(dir, 'imports.sqlite');
    openDb(dbPath).close();
    const lock = await holdWriteLock(dbPath);
    const args = (name: string) => ['import', SAMPLE, '--preset', 'kuairand', '--name', name, '--db', dbPath];
    const jobs = [start(args('first')), start(args('first')), start(args('second'))];
    try {
      for (const [i, job] of jobs.entries()) {
        await until(() => job.stderr().includes('waiting for another import to finish'), job.done, `import ${i + 1} says it waits`);
      }
    } finally {
      await lock.release();
    }
    const [a, b, c] = await Promise.all(jobs.map((j) => j.done));
    assert.equal(c.code, 0, `the other name imports: ${c.stderr}`);
    const [won, lost] = a.code === 0 ? [a, b] : [b, a];
    assert.equal(won.code, 0, `one of the same-name imports succeeds: ${won.stderr}`);
    assert.equal(lost.code, 1, 'the other fails');
    assert.match(lost.stderr, /a dataset named 'first' already exists/);
    assert.doesNotMatch(lost.stderr, /UNIQUE|database is locked/);
    const db = openDb(dbPath);
    try {
      assert.deepEqual(listDatasets(db).map((d) => d.name).sort(), ['first', 'second']);
    } finally {
      db.close();
    }
  });

  it('a training run keeps training while the lock is held, and ends as a run without the lock ends', async () => {
    const dbPath = join(dir, 'train.sqlite');
    const db = openDb(dbPath);
    const datasetId = (await ensureDemoDataset(db)).id;
    const config = { ...tiny, evalEvery: 10, patience: 100, maxSteps: 40 };
    const reference = await launchRun(dbPath, prepareRun(db, { datasetId, model: 'cmi', config, seed: 5 }), () => {}).done;
    assert.equal(reference.status, 'done');
    const id = prepareRun(db, { datasetId, model: 'cmi', config, seed: 5 });

    const lock = await holdWriteLock(dbPath);
    const events: TrainEvent[] = [];
    const handle = launchRun(dbPath, id, (e) => events.push(e));
    try {
      // Curve points, two checkpoints and three evaluations fall in these steps: all wait.
      await until(() => events.some((e) => e.type === 'progress' && e.step >= 30), handle.done, 'the run trains past step 30');
      assert.equal(events.filter((e) => e.type === 'checkpoint').length, 0, 'no checkpoint is reported stored while the lock is held');
      assert.deepEqual(runCurves(db, id), [], 'the curve points wait for the lock');
    } finally {
      await lock.release();
    }
    const done = await handle.done;
    assert.equal(done.status, 'done', `the run ends: ${done.error ?? ''}`);
    assert.equal(done.steps, 40);
    assert.deepEqual(done.test, reference.test, 'same seed and data: the same test metrics as without the lock');
    assert.deepEqual(runCurves(db, id).filter((c) => c.kind === 'valid').map((c) => c.step), [10, 20, 30, 40]);
    assert.deepEqual(
      runCurves(db, id).map((c) => [c.kind, c.step]),
      runCurves(db, reference.id).map((c) => [c.kind, c.step]),
      'every curve point is stored once, in order',
    );
    db.close();
  });

  it('cmi-studio train started while the lock is held waits, then trains', async () => {
    const dbPath = join(dir, 'train.sqlite');
    const lock = await holdWriteLock(dbPath);
    const args = ['train', '--dataset', 'kuairand-demo', '--model', 'cmi', '--max-steps', '10', '--seed', '8', '--db', dbPath, '--json'];
    for (const [k, v] of Object.entries({ ...tiny, evalEvery: 5 })) args.push('--set', `${k}=${v}`);
    const job = start(args);
    try {
      await until(() => job.stderr().includes('waiting for another job'), job.done, 'the CLI says it waits');
    } finally {
      await lock.release();
    }
    const r = await job.done;
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; steps: number };
    assert.equal(out.status, 'done');
    assert.equal(out.steps, 10);
  });
});
