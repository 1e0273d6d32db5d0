// The generic presets: a `csv` export with a column mapping (quoted fields with delimiters and
// newlines inside, ISO times, text ids), a day-only csv, and a RecBole atomic .inter file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset, previewFile } from '../../src/main/import/index.ts';
import { getDataset } from '../../src/main/store/datasets.ts';
import { float64s, type Db } from '../../src/main/store/db.ts';
import { rng } from './fixtures/wechat-gen.ts';
import { freshDb, storedInteractions, tempDir } from './helpers.ts';

const DAY_MS = 86_400_000;

/** Day numbers 1..h by rank of the distinct UTC dates among `times`. */
function dayRanks(times: number[]): Map<number, number> {
  const days = [...new Set(times.map((t) => Math.floor(t / DAY_MS)))].sort((a, b) => a - b);
  return new Map(days.map((d, i) => [d, i + 1]));
}

describe('csv and recbole presets', () => {
  let dir: string;
  let cleanup: () => void;
  let db: Db;
  before(() => {
    ({ dir, cleanup } = tempDir('csv'));
    db = freshDb(dir);
  });
  after(() => {
    db.close();
    cleanup();
  });

  it('imports a mapped csv export with quotes, ISO times, text ids and a kept column', async () => {
    const rand = rng(3);
    const users = ['007', '7', 'u-12', 'ana', '42', 'zoë'];
    const rows: Array<{ user: string; item: string; iso: string; ms: number; rating: number }> = [];
    const lines = ['uid;video;watched_at;rating;title'];
    for (let i = 0; i < 600; i++) {
      const user = users[Math.floor(rand() * users.length)];
      const item = `v${Math.floor(rand() * 80)}`;
      const ms = Date.UTC(2023, 2, 1) + Math.floor(rand() * 9 * DAY_MS);
      // Three spellings of the same instant: Z, an offset, and no zone (read as UTC).
      const form = i % 3;
      const iso =
        form === 0
          ? new Date(ms).toISOString()
          : form === 1
            ? new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00')
            : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
      const exact = form === 2 ? Math.floor(ms / 1000) * 1000 : ms;
      const rating = 1 + Math.floor(rand() * 5) + (rand() < 0.5 ? 0.5 : 0);
      const title = i % 7 === 0 ? '"a ""quoted""; title\nover two lines"' : i % 5 === 0 ? '' : `plain ${i}`;
      rows.push({ user, item, iso, ms: exact, rating });
      lines.push([user, item, iso, String(rating), title].join(';'));
    }
    const file = join(dir, 'export.csv');
    writeFileSync(file, lines.join('\n') + '\n');

    const preview = await previewFile(file, 5);
    assert.equal(preview.detectedPreset, 'csv');
    assert.equal(preview.delimiter, ';');
    assert.deepEqual(preview.header, ['uid', 'video', 'watched_at', 'rating', 'title']);

    const r = await importDataset(db, {
      files: [file],
      preset: 'csv',
      name: 'takatak-like',
      map: { user: 'uid', item: 'video', time: 'watched_at' },
      keep: ['rating'],
      positive: 'rating >= 4',
    });
    const positives = rows.map((row, i) => ({ ...row, seq: i + 1 })).filter((row) => row.rating >= 4);
    const ranks = dayRanks(positives.map((p) => p.ms));
    const want = positives.map((p) => ({ user: p.user, item: p.item, time: p.ms, day: ranks.get(Math.floor(p.ms / DAY_MS)), seq: p.seq }));
    assert.deepEqual(storedInteractions(db, r.datasetId ?? -1), want);
    assert.deepEqual([r.rows, r.interactions, r.users, r.items, r.days], [600, positives.length, new Set(positives.map((p) => p.user)).size, new Set(positives.map((p) => p.item)).size, ranks.size]);
    const feedback = db.prepare('SELECT feedback FROM interactions WHERE dataset_id = ? ORDER BY seq').pluck().all(r.datasetId) as Buffer[];
    assert.deepEqual(feedback.map((b) => float64s(b)[0]), positives.map((p) => p.rating));
    assert.equal(getDataset(db, 'takatak-like')?.timeKind, 'timestamp');
  });

  it('imports a day-only csv with yyyy-mm-dd days, a given delimiter and the default rule', async () => {
    const file = join(dir, 'days.txt');
    const dates = ['2024-02-28', '2024-03-01', '2024-02-29', '2024-03-05'];
    const rows = Array.from({ length: 40 }, (_, i) => ({ u: `u${i % 6}`, i: `i${i % 11}`, d: dates[i % 4] }));
    writeFileSync(file, 'user|item|day\n' + rows.map((r) => `${r.u}|${r.i}|${r.d}`).join('\n'));
    const r = await importDataset(db, { files: [file], preset: 'csv', name: 'days', map: { user: 'user', item: 'item', day: 'day' }, delimiter: '|' });
    const order = [...new Set(rows.map((x) => x.d))].sort();
    const want = rows.map((x, k) => ({ user: x.u, item: x.i, time: order.indexOf(x.d) + 1, day: order.indexOf(x.d) + 1, seq: k + 1 }));
    assert.deepEqual(storedInteractions(db, r.datasetId ?? -1), want);
    assert.equal(r.days, 4);
    assert.equal(getDataset(db, 'days')?.timeKind, 'day');
  });

  it('imports a RecBole .inter file (typed header, epoch seconds)', async () => {
    const rand = rng(9);
    const rows = Array.from({ length: 300 }, () => ({
      u: String(1 + Math.floor(rand() * 30)),
      i: String(1 + Math.floor(rand() * 120)),
      rating: 1 + Math.floor(rand() * 5),
      ts: 881250949 + Math.floor(rand() * 20 * 86400) + (rand() < 0.5 ? 0.5 : 0),
    }));
    const file = join(dir, 'ml.inter');
    writeFileSync(file, 'user_id:token\titem_id:token\trating:float\ttimestamp:float\n' + rows.map((r) => `${r.u}\t${r.i}\t${r.rating}\t${r.ts}`).join('\n') + '\n');
    assert.equal((await previewFile(file)).detectedPreset, 'recbole');
    const r = await importDataset(db, { files: [file], preset: 'recbole', name: 'ml' });
    const ranks = dayRanks(rows.map((x) => Math.round(x.ts * 1000)));
    const want = rows.map((x, k) => {
      const ms = Math.round(x.ts * 1000);
      return { user: x.u, item: x.i, time: ms, day: ranks.get(Math.floor(ms / DAY_MS)), seq: k + 1 };
    });
    assert.deepEqual(storedInteractions(db, r.datasetId ?? -1), want);
    const d = getDataset(db, 'ml');
    assert.deepEqual(d?.columns, ['user_id', 'item_id', 'rating', 'timestamp']);
    assert.equal(d?.positiveRule, 'true');
    const rated = await importDataset(db, { files: [file], preset: 'recbole', name: 'ml-4', positive: 'rating >= 4', dryRun: true });
    assert.equal(rated.interactions, rows.filter((x) => x.rating >= 4).length);
  });

  it('small imports into a fuller store keep the index and update it (checked row by row above)', () => {
    // The day-only and RecBole files are smaller than what the store held, so they inserted
    // into the live index instead of rebuilding it.
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const indexed = db.prepare('SELECT count(*) FROM interactions INDEXED BY interactions_seq WHERE dataset_id > 0').pluck().get();
    assert.equal(indexed, db.prepare('SELECT count(*) FROM interactions').pluck().get());
  });
});
