// A set of runs launched by one command (the CMI ablations at tiny shapes on the real sample),
// then the comparison table over them in every export format.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { listRuns } from '../../src/main/store/runs.ts';

const exec = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/cmi-studio.mjs');
const tiny = ['dim=16', 'batchSize=32', 'maxlen=20', 'historyPool=40', 'viewLen=20', 'evalEvery=5', 'maxSteps=10'];

describe('cmi-studio sweep and compare', () => {
  let dir: string;
  let dbPath: string;
  const cli = (args: string[]) => exec(process.execPath, [bin, ...args, '--db', dbPath]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-sweep-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    await ensureDemoDataset(db);
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--ablation runs CMI, CMI-CL and CMI-G one after another in one group', async () => {
    const { stdout } = await cli(['sweep', '--dataset', 'kuairand-demo', '--model', 'cmi', '--ablation', '--interests', '2', '--group', 'abl', '--json', ...tiny.flatMap((s) => ['--set', s])]);
    const runs = JSON.parse(stdout) as Array<{ label: string; status: string; interests: number }>;
    assert.deepEqual(runs.map((r) => r.label), ['CMI (#I 2)', 'CMI-CL (#I 2)', 'CMI-G (#I 2)']);
    assert.ok(runs.every((r) => r.status === 'done' && r.interests === 2));
    const db = openDb(dbPath);
    try {
      const stored = listRuns(db, { group: 'abl' });
      assert.equal(stored.length, 3);
      assert.equal(stored.find((r) => r.label.startsWith('CMI-CL'))?.config.lambdaCl, 0);
      assert.equal(stored.find((r) => r.label.startsWith('CMI-G'))?.config.useGeneral, false);
    } finally {
      db.close();
    }
  });

  it('compare prints the table in md, csv, latex and json, with best and second marked', async () => {
    const md = (await cli(['compare', '--dataset', 'kuairand-demo', '--group', 'abl', '--k', '10,50', '--format', 'md'])).stdout;
    for (const label of ['CMI (#I 2)', 'CMI-CL (#I 2)', 'CMI-G (#I 2)']) assert.ok(md.includes(label), `md lists ${label}`);
    assert.match(md, /\*\*0\.\d{4}/, 'a best value in bold');
    assert.match(md, /Improv\./);

    const out = join(dir, 'table.tex');
    await cli(['compare', '--dataset', 'kuairand-demo', '--group', 'abl', '--format', 'latex', '--out', out]);
    const tex = readFileSync(out, 'utf8');
    assert.ok(tex.indexOf('\\toprule') < tex.indexOf('\\midrule') && tex.indexOf('\\midrule') < tex.indexOf('\\bottomrule'));
    assert.match(tex, /\\textbf\{/);

    const json = JSON.parse((await cli(['compare', '--dataset', 'kuairand-demo', '--group', 'abl', '--format', 'json', '--metrics', 'recall'])).stdout) as {
      rows: Array<{ label: string; cells: Array<{ mean: number | null; rank: number | null }> }>;
    };
    assert.equal(json.rows.length, 3);
    // The cell ranked best holds the column's largest mean.
    for (let c = 0; c < json.rows[0].cells.length; c++) {
      const means = json.rows.map((r) => r.cells[c].mean ?? -1);
      const best = json.rows.findIndex((r) => r.cells[c].rank === 1);
      if (best >= 0) assert.equal(means[best], Math.max(...means));
    }
    const csv = (await cli(['compare', '--dataset', 'kuairand-demo', '--group', 'abl', '--format', 'csv'])).stdout;
    assert.ok(csv.split('\n').length >= 4);
  });

  it('compare without finished runs is an error', async () => {
    await assert.rejects(cli(['compare', '--dataset', 'kuairand-demo', '--group', 'none']), /no finished runs/);
  });
});
