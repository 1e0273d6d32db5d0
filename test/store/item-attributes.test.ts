// The item-attribute tables (migration v11): an item import waits for another process's write
// lock instead of failing, and the attributes go with their dataset.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { importDataset } from '../../src/main/import/index.ts';
import { importItemAttributes } from '../../src/main/import/items.ts';
import { deleteDataset } from '../../src/main/store/datasets.ts';
import { migrations } from '../../src/main/store/migrations.ts';
import { freshDb, SAMPLE, tempDir } from '../import/helpers.ts';
import { holdWriteLock } from './lock-holder.ts';

test('the item tables are migration v11 (after the v10 of run tags and notes)', () => {
  assert.equal(migrations.findIndex((sql) => sql.includes('CREATE TABLE item_attributes')), 10);
});

test('an item import beside a held write lock waits and completes; deleting the dataset removes its attributes', async () => {
  const { dir, cleanup } = tempDir('item-lock');
  const path = join(dir, 'studio.sqlite');
  const db = freshDb(dir);
  try {
    const { datasetId } = await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'sample' });
    const file = join(dir, 'genre.csv');
    writeFileSync(file, 'video_id,genre\n3892024,drama\n2629583,news\n');
    const holder = await holdWriteLock(path);
    let done = false;
    const job = importItemAttributes(db, { datasetId: datasetId as number, file: resolve(file) }).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(done, false, 'waits while another process writes');
    await holder.release();
    const r = await job;
    assert.deepEqual(r.attributes.map((a) => [a.name, a.items]), [['genre', 2]]);
    deleteDataset(db, datasetId as number);
    assert.deepEqual(db.prepare('SELECT (SELECT count(*) FROM item_attributes), (SELECT count(*) FROM item_attribute_values)').raw().get(), [0, 0]);
  } finally {
    db.close();
    cleanup();
  }
});
