// A trained run keeps its test-day lists and their beyond-accuracy metrics (intra-list diversity
// from its item table), and compare shows them, also broken down by activity and popularity.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Papa from 'papaparse';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { openDb } from '../../src/main/store/db.ts';
import { loadListMetrics, loadRunLists } from '../../src/main/store/run-lists.ts';
import { getSplitSummary } from '../../src/main/store/splits.ts';
import { loadUserMetrics } from '../../src/main/store/user-metrics.ts';
import { cli } from './helpers.ts';

const tiny = ['dim=16', 'batchSize=32', 'maxlen=20', 'historyPool=40', 'evalEvery=5'];

describe('lists and beyond-accuracy metrics of a trained run', () => {
  let dir: string;
  let dbPath: string;
  let runId: number;
  const run = (args: string[]) => cli([...args, '--db', dbPath]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-lists-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    await ensureDemoDataset(db);
    db.close();
    const r = await run(['train', '--dataset', 'kuairand-demo', '--model', 'mind', '--interests', '2', '--max-steps', '10', '--json', ...tiny.flatMap((s) => ['--set', s])]);
    assert.equal(r.code, 0, r.stderr);
    runId = (JSON.parse(r.stdout) as { run: number }).run;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the top-200 test lists, coverage and Gini, and per-user tail, novelty and diversity', () => {
    const db = openDb(dbPath);
    try {
      const splitId = (db.prepare('SELECT split_id FROM runs WHERE id = ?').get(runId) as { split_id: number }).split_id;
      const lists = loadRunLists(db, runId, 'test');
      assert.ok(lists, 'lists stored');
      assert.equal(lists.k, 200);
      assert.equal(lists.users.length, getSplitSummary(db, splitId).testUsers, 'one list per test user');
      const metrics = loadListMetrics(db, runId, 'test');
      for (const k of ['coverage@50', 'gini@50', 'tail@50', 'novelty@50', 'ild@50']) assert.ok(Number.isFinite(metrics[k]), `${k} stored`);
      assert.ok(metrics['coverage@50'] > 0 && metrics['coverage@50'] <= 1, 'coverage is a share of the catalogue');
      assert.ok(metrics['ild@50'] > 0 && metrics['ild@50'] < 2, 'diversity from the item table');
      const ild = loadUserMetrics(db, runId, 'test', 'ild@50');
      assert.equal(ild?.values.length, lists.users.length, 'per-user diversity for the paired tests');
      assert.ok(loadUserMetrics(db, runId, 'test', 'mrr@50'), 'MRR per user');
    } finally {
      db.close();
    }
  });

  it('compare shows them, and breaks the accuracy down by activity and popularity', async () => {
    const table = JSON.parse((await run(['compare', '--dataset', 'kuairand-demo', '--metrics', 'mrr,precision,coverage,gini,ild', '--k', '50', '--format', 'json'])).stdout) as {
      rows: { cells: { mean: number | null }[] }[];
    };
    assert.ok(table.rows[0].cells.every((c) => c.mean !== null), 'every new metric has a value');
    for (const by of ['activity', 'popularity']) {
      const r = await run(['compare', '--dataset', 'kuairand-demo', '--metrics', 'recall', '--k', '50', '--breakdown', by, '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const buckets = JSON.parse(r.stdout) as { bucket: string; users: number; table: { rows: unknown[] } }[];
      assert.ok(buckets.length >= 2 && buckets.length <= 5, `${by}: up to five buckets`);
      assert.ok(buckets.every((b) => b.table.rows.length === 1), `${by}: one row per model in each bucket`);
    }
    const csvText = (await run(['compare', '--dataset', 'kuairand-demo', '--metrics', 'recall', '--k', '50', '--breakdown', 'popularity', '--format', 'csv'])).stdout;
    const csv = Papa.parse<string[]>(csvText.trim()).data;
    assert.deepEqual(csv[0], ['Bucket', 'Users', 'Model', '#I', 'Runs', 'Recall@50'], 'one header with the bucket columns');
    assert.ok(csv.slice(1).every((l) => l[0].startsWith('items P') && Number(l[1]) > 0), 'every line names its bucket and its users');
    const md = (await run(['compare', '--dataset', 'kuairand-demo', '--metrics', 'recall', '--k', '50', '--breakdown', 'activity'])).stdout;
    assert.match(md, /history \d+–\d+ items \(\d+ users\)/, 'each bucket table is titled');
  });
});
