import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { importDataset } from '../../src/main/import/index.ts';
import { InteractionWriter } from '../../src/main/import/writer.ts';
import { openDb, SCHEMA_VERSION, type Db } from '../../src/main/store/db.ts';
import { migrations } from '../../src/main/store/migrations.ts';
import { SEQ_INDEX, SEQ_INDEX_SQL } from '../../src/main/store/sequence-index.ts';
import { SAMPLE, tempDir } from '../import/helpers.ts';

function indexSql(db: Db): string | undefined {
  return db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").pluck().get(SEQ_INDEX) as string | undefined;
}

function tableNames(db: Db): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
}

test('the sequence index the migrations create is the one an import rebuilds after dropping it', async () => {
  const { dir, cleanup } = tempDir('seq-index');
  try {
    const db = openDb(join(dir, 'studio.sqlite'));
    assert.equal(indexSql(db), SEQ_INDEX_SQL, 'a fresh store has the index as SEQ_INDEX_SQL spells it');
    const r = await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'kr' });
    assert.ok(r.datasetId !== undefined && r.interactions > 0, 'the sample imports');
    assert.equal(indexSql(db), SEQ_INDEX_SQL, 'after an import (which rebuilt it) the definition is unchanged');
    // A second, larger import drops it again and rebuilds it at the end.
    assert.ok(InteractionWriter.prepareIndex(db, r.interactions * 10), 'a larger import drops the index');
    assert.equal(indexSql(db), undefined, 'the index is dropped while rows go in');
    InteractionWriter.rebuildIndex(db);
    assert.equal(indexSql(db), SEQ_INDEX_SQL, 'the rebuilt index is the one the schema defines');
    db.close();
  } finally {
    cleanup();
  }
});

test('run_embeddings (written, never read) is gone from new stores and dropped from old ones', () => {
  const { dir, cleanup } = tempDir('drop-embeddings');
  try {
    const fresh = openDb(join(dir, 'fresh.sqlite'));
    assert.ok(!tableNames(fresh).includes('run_embeddings'), 'a fresh store has no run_embeddings table');
    fresh.close();

    // A store as the version before the drop left it, with a stored embedding.
    const path = join(dir, 'old.sqlite');
    const dropAt = migrations.findIndex((sql) => /DROP TABLE run_embeddings/.test(sql));
    assert.ok(dropAt > 0, 'a migration drops the table');
    const old = new Database(path);
    for (const sql of migrations.slice(0, dropAt)) old.exec(sql);
    old.pragma(`user_version = ${dropAt}`);
    old.pragma('foreign_keys = OFF');
    old.prepare("INSERT INTO run_embeddings (run_id, name, rows, cols, data) VALUES (1, 'items', 1, 1, x'00000000')").run();
    old.close();

    const db = openDb(path);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.ok(!tableNames(db).includes('run_embeddings'), 'the migration dropped the table');
    db.close();
  } finally {
    cleanup();
  }
});
