// What a file holds or does must not merge ids, fail with a raw Node error, or leave the store
// changed: ids beyond 2^53, old Mac line endings, a missing file, a file cut short while it is
// read, and a store whose disk fills up mid-import.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportError, importDataset } from '../../src/main/import/index.ts';
import { readHead } from '../../src/main/import/head.ts';
import { detectDelimiter } from '../../src/main/import/presets.ts';
import { BATCH_ROWS } from '../../src/main/import/reader.ts';
import { scanFile } from '../../src/main/import/scanner.ts';
import { DiskFullError, SpaceGuard } from '../../src/main/import/space.ts';
import { openDb, type Db } from '../../src/main/store/db.ts';
import { ACTION_HEADER } from './fixtures/wechat-gen.ts';
import { fingerprint, freshDb, storedInteractions, tempDir } from './helpers.ts';

const HEADER = ACTION_HEADER.join(',');
/** A WeChat row; `like` 1 makes it a positive under the preset rule. */
const action = (user: string, feed: string, like = 1, play = 2000): string => `${user},${feed},1,1,0,0,${like},${play},3000,0,0,0,0`;

describe('import hardening', () => {
  let dir: string;
  let cleanup: () => void;
  let db: Db;

  before(() => {
    ({ dir, cleanup } = tempDir('hardening'));
    db = freshDb(dir);
  });
  after(() => {
    db.close();
    cleanup();
  });

  it('keeps integer ids beyond 2^53 exact and apart', async () => {
    const users = ['9007199254740993', '9007199254740992', '9223372036854775808', '-5', '5', '0009007199254740993'];
    const feeds = ['1', '18446744073709551616', '18446744073709551617', '007', '7', '-0'];
    const path = join(dir, 'big.csv');
    writeFileSync(path, [HEADER, ...users.map((u, i) => action(u, feeds[i]))].join('\n') + '\n');
    const r = await importDataset(db, { files: [path], preset: 'wechat', name: 'big-ids' });
    const stored = storedInteractions(db, r.datasetId ?? -1);
    // Leading zeros are not significant in an integer id: 0009007199254740993 is user 1 again.
    assert.deepEqual(
      stored.map((s) => [s.user, s.item]),
      [
        ['9007199254740993', '1'],
        ['9007199254740992', '18446744073709551616'],
        ['9223372036854775808', '18446744073709551617'],
        ['-5', '7'],
        ['5', '7'],
        ['9007199254740993', '0'],
      ],
    );
    assert.deepEqual([r.users, r.items], [5, 5]);
  });

  it('joins feed_info on feedids beyond 2^53 exactly', async () => {
    const feedInfo = join(dir, 'feed_info.csv');
    writeFileSync(feedInfo, 'feedid,authorid,videoplayseconds,description\n18446744073709551616,2,30,a\n18446744073709551617,2,1,b\n');
    const actions = join(dir, 'user_action_join.csv');
    // play 2000 ms: a full play of the 1 s video, not of the 30 s one.
    writeFileSync(actions, [HEADER, action('1', '18446744073709551616', 0), action('2', '18446744073709551617', 0)].join('\n') + '\n');
    const r = await importDataset(db, { files: [actions, feedInfo], preset: 'wechat', name: 'big-join', positive: 'play >= videoplayseconds * 1000' });
    assert.deepEqual(
      storedInteractions(db, r.datasetId ?? -1).map((s) => [s.user, s.item]),
      [['2', '18446744073709551617']],
    );
  });

  it('reads CR-only (old Mac) line endings like LF', async () => {
    const lines = ['uid,vid,ts,note', 'a,x,1700000000,"one, two"', 'b,y,1700003600,plain', '', 'a,y,1700007200,"multi\rline"', 'c,z,1700010800,end'];
    const lf = join(dir, 'lf.csv');
    const cr = join(dir, 'cr.csv');
    writeFileSync(lf, lines.join('\n') + '\n');
    writeFileSync(cr, lines.join('\r') + '\r');
    const map = { user: 'uid', item: 'vid', time: 'ts' };
    const a = await importDataset(db, { files: [lf], preset: 'csv', name: 'lf', map });
    const b = await importDataset(db, { files: [cr], preset: 'csv', name: 'cr', map });
    assert.equal(b.rows, 4);
    assert.deepEqual(storedInteractions(db, b.datasetId ?? -1), storedInteractions(db, a.datasetId ?? -1));
  });

  it('detects the delimiter of a CR-only file line by line', () => {
    // One line per record, not the whole file as one line: the tag lists' commas outvote the ';'.
    assert.equal(detectDelimiter('uid;tags\r1;a,b,c\r2;d,e,f\r3;g,h\r'), ';');
  });

  it('says "file not found" for a missing file', async () => {
    const missing = join(dir, 'nope', 'user_action.csv');
    await assert.rejects(importDataset(db, { files: [missing], preset: 'wechat', name: 'missing' }), (err: Error) => {
      assert.equal(err.message, `file not found: ${missing}`);
      return true;
    });
    // The wizard's first look at a file (delimiter detection, then the header).
    for (const delimiter of [undefined, ',']) {
      await assert.rejects(readHead(missing, { delimiter, quoting: true, rows: 1 }), (err: Error) => err.message === `file not found: ${missing}`);
    }
  });

  it('reports a file cut short while it is read as changed, not as a short row', async () => {
    const path = join(dir, 'shrinking.csv');
    // About 6 MB: more than one 4 MiB read.
    const body = Array.from({ length: 200_000 }, (_, i) => `user${i % 3000},item${i % 7001},${1_700_000_000 + i}`);
    writeFileSync(path, 'u,i,t\n' + body.join('\n') + '\n');
    const size = statSync(path).size;
    const store = fingerprint(db);
    let cut = false;
    const onProgress = (): void => {
      if (cut) return;
      cut = true;
      // Cut mid-line, as a writer truncating or rewriting the file would.
      truncateSync(path, Math.floor(size * 0.8) + 3);
    };
    const err = await importDataset(db, { files: [path], preset: 'csv', name: 'shrinking', map: { user: 'u', item: 'i', time: 't' } }, { onProgress }).then(
      () => assert.fail('the import was accepted'),
      (e: unknown) => e,
    );
    assert.ok(cut, 'the file was cut during the read');
    assert.ok(err instanceof Error && !(err instanceof ImportError), `a plain error, not a row error: ${String(err)}`);
    assert.match(err.message, /shrinking\.csv: the file changed while it was read/);
    assert.equal(fingerprint(db), store, 'the store is unchanged');
  });

  it('reports a file whose size changed since the plan as changed', async () => {
    const path = join(dir, 'grown.csv');
    writeFileSync(path, 'u,i,t\na,b,1700000000\n');
    const planned = statSync(path).size;
    writeFileSync(path, 'u,i,t\na,b,1700000000\nc,d,1700000001\n');
    await assert.rejects(scanFile(path, { delimiter: ',', quoting: true, expectBytes: planned }, () => {}), new RegExp(`grown\\.csv: the file changed while it was read \\(${planned} bytes at first, 36 bytes now\\)`));
  });

  it('stops at once on a full disk, names the store, and leaves it unchanged', async () => {
    const dbPath = join(dir, 'small.sqlite');
    const small = openDb(dbPath);
    try {
      const base = join(dir, 'base.csv');
      writeFileSync(base, 'u,i,t\n' + Array.from({ length: 40 }, (_, k) => `u${k % 5},i${k % 9},${1_700_000_000 + k}`).join('\n') + '\n');
      await importDataset(small, { files: [base], preset: 'csv', name: 'base', map: { user: 'u', item: 'i', time: 't' } });
      const store = fingerprint(small);
      // A full disk, simulated: the store may grow by 30 pages (120 KiB) only.
      const pages = small.pragma('page_count', { simple: true }) as number;
      small.pragma(`max_page_count = ${pages + 30}`);
      const big = join(dir, 'fills-the-disk.csv');
      // Several batches of positives, then a bad row: reaching it would mean the whole file was
      // read before the full disk was noticed.
      const rows = Array.from({ length: 3 * BATCH_ROWS }, (_, k) => action(String(k % 5000), String(k % 20011)));
      writeFileSync(big, [HEADER, ...rows, 'not,a,row'].join('\n') + '\n');
      const err = await importDataset(small, { files: [big], preset: 'wechat', name: 'too-big' }).then(
        () => assert.fail('the import was accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof Error && !(err instanceof ImportError), `the disk error, not the late bad row: ${String(err)}`);
      assert.match(err.message, /disk is full/);
      assert.ok(err.message.includes(dbPath), `the message names the store: ${err.message}`);
      assert.equal(small.inTransaction, false);
      assert.equal(fingerprint(small), store, 'the store is unchanged');
      small.pragma('max_page_count = 1073741823');
      const again = await importDataset(small, { files: [base], preset: 'csv', name: 'after-full', map: { user: 'u', item: 'i', time: 't' } });
      assert.equal(again.interactions, 40, 'the store still works');
    } finally {
      small.close();
    }
  });
});

describe('SpaceGuard', () => {
  it('stops a transaction whose added pages exceed the free space it started with', () => {
    const { dir, cleanup } = tempDir('space');
    const db = freshDb(dir);
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.exec('CREATE TABLE filler (x BLOB)');
      db.exec('BEGIN IMMEDIATE');
      const tight = new SpaceGuard(db, () => 256 << 10);
      const roomy = new SpaceGuard(db, () => 1 << 30);
      const add = db.prepare('INSERT INTO filler VALUES (?)');
      for (let i = 0; i < 32; i++) add.run(Buffer.alloc(4096));
      tight.check();
      for (let i = 0; i < 64; i++) add.run(Buffer.alloc(4096));
      assert.throws(() => tight.check(), (err: Error) => err instanceof DiskFullError && err.message.includes(join(dir, 'studio.sqlite')));
      roomy.check();
      db.exec('ROLLBACK');
    } finally {
      db.close();
      cleanup();
    }
  });

  it('never stops an in-memory store', () => {
    const db = openDb(':memory:');
    const guard = new SpaceGuard(db, () => 0);
    db.exec('CREATE TABLE filler (x BLOB)');
    db.prepare('INSERT INTO filler VALUES (?)').run(Buffer.alloc(1 << 20));
    guard.check();
    db.close();
  });
});
