// A training worker whose parent dies (a SIGKILLed `cmi-studio train`) notices at once through
// its IPC channel, checkpoints and exits; the run reads as interrupted and resumes to the end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { loadCheckpoint, requireRun, runPid } from '../../src/main/store/runs.ts';
import { cli, spawnCli } from '../cli/helpers.ts';

const tiny = { dim: 16, interests: 4, batchSize: 32, maxlen: 20, historyPool: 40, viewLen: 20, checkpointEvery: 10, evalEvery: 20, patience: 100 };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function poll<T>(probe: () => T | undefined, what: string, tries = 2400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting: ${what}`);
}

describe('a training worker whose parent dies', () => {
  let dir: string;
  let dbPath: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-orphan-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    await ensureDemoDataset(db);
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits promptly when its CLI is SIGKILLed, and the run resumes to the end', async () => {
    const args = ['train', '--dataset', 'kuairand-demo', '--model', 'cmi', '--max-steps', '60', '--seed', '4', '--db', dbPath, '--json'];
    for (const [k, v] of Object.entries(tiny)) args.push('--set', `${k}=${v}`);
    const parent = spawnCli(args);
    const exited = new Promise((r) => parent.once('exit', r));
    const db = openDb(dbPath);
    try {
      // The run row appears, its worker records its pid, then stores a checkpoint.
      const runId = await poll(() => (db.prepare('SELECT max(id) FROM runs').pluck().get() as number | null) ?? undefined, 'the run row');
      const workerPid = await poll(() => runPid(db, runId) ?? undefined, 'the worker pid');
      await poll(() => loadCheckpoint(db, runId, 'last'), 'a first checkpoint');
      parent.kill('SIGKILL');
      await exited;

      // A few steps and a checkpoint at most: the worker notices the closed channel at once.
      await poll(() => (isAlive(workerPid) ? undefined : true), `worker ${workerPid} to exit after its parent died`, 200);
      const left = requireRun(db, runId);
      assert.equal(left.status, 'interrupted', 'the run reads as interrupted, not running or cancelled');
      assert.ok(left.steps >= 10 && left.steps < 60, `it recorded the step it reached (${left.steps})`);

      const resumed = await cli(['train', '--resume', String(runId), '--db', dbPath, '--json']);
      assert.equal(resumed.code, 0, resumed.stderr);
      const out = JSON.parse(resumed.stdout) as { status: string; steps: number };
      assert.equal(out.status, 'done');
      assert.equal(out.steps, 60);
      assert.match(resumed.stderr, /resumed from step \d+/);
    } finally {
      db.close();
    }
  });
});
