// A set from the command line: a sweep trains two runs at once; `runs --cancel-set` from
// another process stops it (running workers checkpoint, waiting runs never start); `runs
// --json` says why each run stopped; `runs --resume-set` and `--delete-set` act on the set.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { listRuns } from '../../src/main/store/runs.ts';
import { cli, spawnCli } from './helpers.ts';

const tiny = ['dim=16', 'interests=2', 'batchSize=32', 'maxlen=20', 'historyPool=40', 'viewLen=20', 'evalEvery=10', 'patience=100', 'checkpointEvery=5'];

describe('sets on the command line', () => {
  let dir: string;
  let dbPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-sets-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    await ensureDemoDataset(db);
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const runsOf = (group: string) => {
    const db = openDb(dbPath);
    try {
      return listRuns(db, { group });
    } finally {
      db.close();
    }
  };

  it('cancels a running sweep from another process, says why each run stopped, then deletes the set', async () => {
    const sets = [...tiny, 'maxSteps=5000'].flatMap((s) => ['--set', s]);
    const sweep = spawnCli(['sweep', '--dataset', 'kuairand-demo', '--model', 'cmi', '--seeds', '1,2,3', '--group', 'long', '--parallel', '2', '--db', dbPath, ...sets]);
    let stderr = '';
    sweep.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => sweep.on('close', resolve));
    // Both workers stepping: two runs train at once.
    for (let i = 0; i < 1200 && new Set([...stderr.matchAll(/run (\d+): step/g)].map((m) => m[1])).size < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(new Set([...stderr.matchAll(/run (\d+): step/g)].map((m) => m[1])).size, 2, `two runs step side by side:\n${stderr}`);

    const cancel = await cli(['runs', '--cancel-set', 'long', '--json', '--db', dbPath]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal((JSON.parse(cancel.stdout) as number[]).length, 3, 'two running and one queued run cancelled');
    assert.equal(await exited, 1, 'the sweep ends unsuccessfully: its runs were cancelled');

    const listed = JSON.parse((await cli(['runs', '--json', '--group', 'long', '--db', dbPath])).stdout) as { run: number; status: string; stopped: string | null; steps: number; group: string }[];
    assert.equal(listed.length, 3);
    assert.ok(listed.every((r) => r.status === 'cancelled' && r.stopped === 'cancelled' && r.group === 'long'), JSON.stringify(listed));
    assert.ok(listed.filter((r) => r.steps > 0).length === 2, 'the two running runs checkpointed after some steps; the third never started');

    const del = await cli(['runs', '--delete-set', 'long', '--db', dbPath]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(runsOf('long'), []);
    assert.match((await cli(['runs', '--delete-set', 'long', '--db', dbPath])).stderr, /no runs in set 'long'/);
  });

  it('resumes an unfinished set to the end, two at a time', async () => {
    const sets = [...tiny, 'maxSteps=20'].flatMap((s) => ['--set', s]);
    const sweep = await cli(['sweep', '--dataset', 'kuairand-demo', '--model', 'cmi', '--seeds', '1,2', '--group', 'short', '--db', dbPath, '--json', ...sets]);
    assert.equal(sweep.code, 0, sweep.stderr);
    // Mark one as if its worker had been killed: resume-set picks it up, leaves the done one.
    const [a, b] = runsOf('short');
    const db = openDb(dbPath);
    db.prepare("UPDATE runs SET status = 'interrupted', stopped = NULL WHERE id = ?").run(b.id);
    db.close();
    const resumed = await cli(['runs', '--resume-set', 'short', '--json', '--db', dbPath]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const out = JSON.parse(resumed.stdout) as { run: number; status: string; stopped: string }[];
    assert.deepEqual(out.map((r) => [r.run, r.status, r.stopped]), [[b.id, 'done', 'max-steps']]);
    assert.equal(runsOf('short').find((r) => r.id === a.id)?.status, 'done');
  });
});
