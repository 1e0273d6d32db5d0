import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from '../../src/main/store/migrations.ts';
import { openDb, SCHEMA_VERSION } from '../../src/main/store/db.ts';

test('from v3: DSSRec runs stored before its fine-tune stage read as one joint stage (v4), multi-stage runs before fresh optimisers read as keep (v5); other runs are untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmi-migrate-'));
  try {
    const path = join(dir, 'old.sqlite');
    // A database as the previous version left it: schema v3, runs without the key.
    const old = new Database(path);
    for (const sql of migrations.slice(0, 3)) old.exec(sql);
    old.pragma('user_version = 3');
    // The runs need no dataset rows to migrate; the update never touches their keys.
    old.pragma('foreign_keys = OFF');
    const insert = old.prepare("INSERT INTO runs (dataset_id, split_id, model, label, config, seed, status) VALUES (1, 1, ?, ?, ?, 42, 'done')");
    insert.run('dssrec', 'DSSRec', JSON.stringify({ dim: 64, lambdaSeq2seq: 1 }));
    insert.run('dssrec', 'DSSRec two-stage', JSON.stringify({ dim: 64, trainStages: 'both' }));
    insert.run('dssrec', 'DSSRec seq2item only', JSON.stringify({ trainStages: 'both', lambdaSeq2seq: 0 }));
    insert.run('opal', 'OPAL', JSON.stringify({ dim: 64 }));
    insert.run('opal', 'OPAL w/o fine-tune', JSON.stringify({ trainStages: 'pretrain' }));
    insert.run('opal', 'OPAL fresh', JSON.stringify({ stageOptimizer: 'fresh' }));
    insert.run('cmi', 'CMI', JSON.stringify({ dim: 64 }));
    old.close();

    const db = openDb(path);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const configs = db.prepare('SELECT label, config FROM runs ORDER BY id').all() as { label: string; config: string }[];
    assert.deepEqual(configs.map((r) => [r.label, JSON.parse(r.config)]), [
      ['DSSRec', { dim: 64, lambdaSeq2seq: 1, trainStages: 'pretrain' }],
      ['DSSRec two-stage', { dim: 64, trainStages: 'both', stageOptimizer: 'keep' }],
      ['DSSRec seq2item only', { trainStages: 'both', lambdaSeq2seq: 0 }],
      ['OPAL', { dim: 64, stageOptimizer: 'keep' }],
      ['OPAL w/o fine-tune', { trainStages: 'pretrain' }],
      ['OPAL fresh', { stageOptimizer: 'fresh' }],
      ['CMI', { dim: 64 }],
    ]);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
