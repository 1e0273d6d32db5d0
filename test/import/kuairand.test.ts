// The real KuaiRand slice: exact counts, every stored row checked against an independent read
// of the file, BOM/CRLF, dry run, duplicate names, cancellation, and the datasets store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportAbortedError, importDataset, previewFile } from '../../src/main/import/index.ts';
import {
  deleteDataset,
  findUserByRaw,
  getDataset,
  listDatasets,
  rawItemIds,
  rawUserId,
  searchUsersByRaw,
  userInteractions,
} from '../../src/main/store/datasets.ts';
import { float64s, type Db } from '../../src/main/store/db.ts';
import type { ImportProgress } from '../../src/shared/types.ts';
import { SAMPLE, fingerprint, freshDb, readTsv, storedInteractions, tempDir } from './helpers.ts';

interface Expected {
  rows: number;
  positives: Array<{ user: string; item: string; time: number; day: number; seq: number; play: number; duration: number }>;
  users: string[];
  items: string[];
  days: number;
}

/** What the import must produce, computed from a plain split of the file. */
function expected(): Expected {
  const t = readTsv(SAMPLE);
  const col = (name: string): number => t.header.indexOf(name);
  const dates = [...new Set(t.rows.filter((r) => r[col('label')] === '1').map((r) => r[col('date')]))].sort();
  const positives = t.rows
    .map((r, i) => ({ r, seq: i + 1 }))
    .filter(({ r }) => r[col('label')] === '1')
    .map(({ r, seq }) => ({
      user: r[col('user_id')],
      item: r[col('video_id')],
      time: Number(r[col('time_ms')]),
      day: dates.indexOf(r[col('date')]) + 1,
      seq,
      play: Number(r[col('play_time_ms')]),
      duration: Number(r[col('duration_ms')]),
    }));
  return {
    rows: t.rows.length,
    positives,
    users: [...new Set(positives.map((p) => p.user))],
    items: [...new Set(positives.map((p) => p.item))],
    days: dates.length,
  };
}

describe('KuaiRand sample import', () => {
  let dir: string;
  let cleanup: () => void;
  let db: Db;
  let want: Expected;
  let id: number;

  before(async () => {
    ({ dir, cleanup } = tempDir('kuairand'));
    db = freshDb(dir);
    want = expected();
    const progress: ImportProgress[] = [];
    const result = await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'kr' }, { onProgress: (p) => progress.push(p) });
    id = result.datasetId ?? -1;
    assert.deepEqual(
      { rows: result.rows, interactions: result.interactions, users: result.users, items: result.items, days: result.days },
      { rows: 41828, interactions: 33745, users: 664, items: 1854, days: 14 },
    );
    assert.equal(result.dryRun, false);
    const last = progress[progress.length - 1];
    assert.equal(last.rows, 41828);
    assert.equal(last.fraction, 1);
    assert.equal(last.bytesRead, last.bytesTotal);
  });
  after(() => {
    db.close();
    cleanup();
  });

  it('matches an independent count of the file', () => {
    const d = getDataset(db, 'kr');
    assert.ok(d);
    assert.equal(d.rows, want.rows);
    assert.equal(d.interactions, want.positives.length);
    assert.equal(d.users, want.users.length);
    assert.equal(d.items, want.items.length);
    assert.equal(d.days, want.days);
    assert.equal(d.timeKind, 'timestamp');
    assert.equal(d.positiveRule, 'label == 1');
    assert.deepEqual(d.keptColumns, ['play_time_ms', 'duration_ms']);
    assert.equal(d.columns[0], 'user_id');
  });

  it('stores every positive with its raw ids, time, day number and row order', () => {
    const stored = storedInteractions(db, id);
    assert.deepEqual(
      stored,
      want.positives.map(({ user, item, time, day, seq }) => ({ user, item, time, day, seq })),
    );
  });

  it('numbers users and items densely in order of first appearance', () => {
    const users = db.prepare('SELECT raw FROM users WHERE dataset_id = ? ORDER BY uid').pluck().all(id);
    const items = db.prepare('SELECT raw FROM items WHERE dataset_id = ? ORDER BY iid').pluck().all(id);
    assert.deepEqual(users, want.users);
    assert.deepEqual(items, want.items);
    assert.equal(db.prepare('SELECT min(uid) FROM users WHERE dataset_id = ?').pluck().get(id), 1);
  });

  it('keeps the feedback columns as Float64 values', () => {
    const rows = db.prepare('SELECT feedback FROM interactions WHERE dataset_id = ? ORDER BY seq LIMIT 50').pluck().all(id) as Buffer[];
    rows.forEach((blob, i) => assert.deepEqual([...float64s(blob)], [want.positives[i].play, want.positives[i].duration]));
  });

  it('leaves a sound store with the sequence index', () => {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT item FROM interactions WHERE dataset_id = ? AND user = ? ORDER BY time, seq').all(id, 1) as Array<{ detail: string }>;
    assert.match(plan.map((p) => p.detail).join(' '), /COVERING INDEX interactions_seq/);
  });

  it('answers the datasets store queries', () => {
    assert.deepEqual(listDatasets(db).map((d) => d.name), ['kr']);
    assert.equal(getDataset(db, id)?.name, 'kr');
    assert.equal(getDataset(db, String(id))?.name, 'kr');
    assert.equal(getDataset(db, 'nope'), undefined);
    const firstUser = want.users[0];
    assert.equal(rawUserId(db, id, 1), firstUser);
    assert.equal(findUserByRaw(db, id, firstUser), 1);
    assert.equal(findUserByRaw(db, id, 'no-such-user'), undefined);
    assert.deepEqual(rawItemIds(db, id, [2, 1, 99999]), [want.items[1], want.items[0], undefined]);
    const found = searchUsersByRaw(db, id, firstUser.slice(0, 2), 1000);
    assert.ok(found.some((u) => u.raw === firstUser && u.uid === 1));
    assert.ok(found.every((u) => u.raw.startsWith(firstUser.slice(0, 2))));
    const seq = userInteractions(db, id, 1);
    const mine = want.positives.filter((p) => p.user === firstUser).sort((a, b) => a.time - b.time || a.seq - b.seq);
    assert.deepEqual(seq.map((s) => s.time), mine.map((p) => p.time));
    assert.deepEqual(rawItemIds(db, id, seq.map((s) => s.item)), mine.map((p) => p.item));
  });

  it('imports the same rows from a BOM + CRLF copy', async () => {
    const copy = join(dir, 'crlf.tsv');
    writeFileSync(copy, '\uFEFF' + readFileSync(SAMPLE, 'utf8').replaceAll('\n', '\r\n'));
    const r = await importDataset(db, { files: [copy], preset: 'kuairand', name: 'kr-crlf' });
    assert.deepEqual(storedInteractions(db, r.datasetId ?? -1), storedInteractions(db, id));
    assert.equal(getDataset(db, 'kr-crlf')?.columns[0], 'user_id', 'the BOM is not part of the first column name');
    assert.ok(deleteDataset(db, r.datasetId ?? -1));
    assert.equal(db.prepare('SELECT count(*) FROM interactions WHERE dataset_id = ?').pluck().get(r.datasetId), 0, 'delete cascades');
    assert.equal(db.prepare('SELECT count(*) FROM users WHERE dataset_id = ?').pluck().get(r.datasetId), 0);
  });

  it('dry-runs with the same counts and writes nothing', async () => {
    const before = fingerprint(db);
    const r = await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'kr-dry', dryRun: true });
    assert.deepEqual([r.dryRun, r.datasetId, r.rows, r.interactions, r.users, r.items, r.days], [true, undefined, 41828, 33745, 664, 1854, 14]);
    assert.equal(fingerprint(db), before);
  });

  it('refuses a duplicate name and leaves the store unchanged', async () => {
    const before = fingerprint(db);
    await assert.rejects(importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'kr' }), /already exists/);
    assert.equal(fingerprint(db), before);
  });

  it('rolls back when cancelled after rows were inserted', async () => {
    const before = fingerprint(db);
    const ac = new AbortController();
    let insertedRows = 0;
    await assert.rejects(
      importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'kr-cancel' }, {
        signal: ac.signal,
        onProgress: (p) => {
          // The file fits in one read: cancel once all its rows went in.
          if (p.rows > 0) {
            insertedRows = p.rows;
            ac.abort();
          }
        },
      }),
      ImportAbortedError,
    );
    assert.ok(insertedRows > 0);
    assert.equal(db.inTransaction, false);
    assert.equal(fingerprint(db), before);
    assert.equal(getDataset(db, 'kr-cancel'), undefined);
  });

  it('previews the file with the right preset', async () => {
    const p = await previewFile(SAMPLE, 3);
    assert.equal(p.detectedPreset, 'kuairand');
    assert.equal(p.delimiter, '\t');
    assert.equal(p.rows.length, 3);
    assert.deepEqual(p.rows[0], readTsv(SAMPLE).rows[0]);
  });
});
