// Runs stored before runs said why they stopped get it derived from their status and step cap.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migrations } from '../../src/main/store/migrations.ts';
import { openDb, SCHEMA_VERSION } from '../../src/main/store/db.ts';

test('the migration that adds runs.stopped derives it for earlier runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmi-stopped-'));
  try {
    const path = join(dir, 'old.sqlite');
    // The schema just before the column: every migration that does not mention it.
    const at = migrations.findIndex((sql) => sql.includes('ADD COLUMN stopped'));
    assert.ok(at > 0, 'a migration adds runs.stopped');
    const old = new Database(path);
    for (const sql of migrations.slice(0, at)) old.exec(sql);
    old.pragma(`user_version = ${at}`);
    old.pragma('foreign_keys = OFF');
    const insert = old.prepare('INSERT INTO runs (dataset_id, split_id, model, label, config, seed, status, steps) VALUES (1, 1, ?, ?, ?, 42, ?, ?)');
    insert.run('cmi', 'capped', JSON.stringify({ maxSteps: 100 }), 'done', 100);
    insert.run('cmi', 'early under a cap', JSON.stringify({ maxSteps: 100 }), 'done', 60);
    insert.run('cmi', 'early', JSON.stringify({ maxSteps: 0 }), 'done', 60);
    insert.run('cmi', 'no cap key', JSON.stringify({}), 'done', 60);
    insert.run('pop', 'untrained', JSON.stringify({ maxSteps: 100 }), 'done', 0);
    insert.run('cmi', 'cancelled', JSON.stringify({}), 'cancelled', 30);
    insert.run('cmi', 'failed', JSON.stringify({}), 'failed', 3);
    insert.run('cmi', 'interrupted', JSON.stringify({}), 'interrupted', 30);
    insert.run('cmi', 'queued', JSON.stringify({}), 'queued', 0);
    old.close();

    const db = openDb(path);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const rows = db.prepare('SELECT label, stopped FROM runs ORDER BY id').all() as { label: string; stopped: string | null }[];
    assert.deepEqual(rows.map((r) => [r.label, r.stopped]), [
      ['capped', 'max-steps'],
      ['early under a cap', 'early'],
      ['early', 'early'],
      ['no cap key', 'early'],
      ['untrained', null],
      ['cancelled', 'cancelled'],
      ['failed', 'failed'],
      ['interrupted', null],
      ['queued', null],
    ]);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
