// onError 'skip' (CLI --on-error skip): malformed data rows are dropped, counted and the first
// ten reported at file:line:column; what is kept is exactly the good rows. The default stays
// strict, and file-level errors (header, quotes, rule, I/O) still fail with 'skip'.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportError, importDataset, RuleError } from '../../src/main/import/index.ts';
import type { Db } from '../../src/main/store/db.ts';
import type { ImportRequest } from '../../src/shared/types.ts';
import { cli } from '../cli/helpers.ts';
import { ACTION_HEADER } from './fixtures/wechat-gen.ts';
import { fingerprint, freshDb, storedInteractions, tempDir } from './helpers.ts';

/** [line text, expected error as line:column and message, or undefined for a good row]. */
const LINES: Array<[string, [number, RegExp] | undefined]> = [
  ['a,x,1700000000,4,10', undefined],
  ['b,y,1700000100,4', [5, /expected 5 fields like the header, got 4/]],
  ['c,z,1700000200123,5,10', [3, /looks like milliseconds/]],
  [',z,1700000300,5,10', [1, /expected a user id/]],
  ['d,w,1700000400,high,10', [4, /expected a number in column 'rating', got "high"/]],
  ['e,v,1700000500,2,10', undefined], // not a positive: rating 2
  ['g,t,1700000550,5,fast', [5, /expected a number in column 'watch', got "fast"/]],
  ['f,u,1700000600,3,10', undefined],
  ...Array.from({ length: 12 }, (_, k): [string, [number, RegExp]] => [`h${k},s,1700000700`, [4, /expected 5 fields/]]),
  ['i,x,2024-01-01T00:00:00Z,5,10', [3, /expected a time \(epoch-s\)/]],
  ['a,y,1700000900,5,20', undefined],
];
const TEXT = ['uid,vid,ts,rating,watch', ...LINES.map(([l]) => l)].join('\n') + '\n';
const BAD = LINES.flatMap(([, bad], i) => (bad ? [{ line: i + 2, column: bad[0], message: bad[1] }] : []));

describe('onError skip', () => {
  let dir: string;
  let cleanup: () => void;
  let db: Db;
  let path: string;
  const req = (extra: Partial<ImportRequest>): ImportRequest => ({
    files: [path],
    preset: 'csv',
    name: 'x',
    map: { user: 'uid', item: 'vid', time: 'ts' },
    positive: 'rating >= 3',
    keep: ['watch'],
    ...extra,
  });

  before(() => {
    ({ dir, cleanup } = tempDir('on-error'));
    db = freshDb(dir);
    path = join(dir, 'log.csv');
    writeFileSync(path, TEXT);
  });
  after(() => {
    db.close();
    cleanup();
  });

  it('is strict by default: the first bad row fails the import', async () => {
    const before_ = fingerprint(db);
    await assert.rejects(importDataset(db, req({ name: 'strict' })), (err: unknown) => {
      assert.ok(err instanceof ImportError, String(err));
      assert.deepEqual([err.line, err.column], [BAD[0].line, BAD[0].column], err.message);
      return true;
    });
    assert.equal(fingerprint(db), before_);
  });

  it('skips, counts and reports the first ten bad rows; keeps exactly the good ones', async () => {
    const r = await importDataset(db, req({ name: 'skipped', onError: 'skip' }));
    assert.equal(r.rows, LINES.length, 'skipped rows are still counted as rows read');
    assert.equal(r.skipped, BAD.length);
    assert.equal(r.errors.length, 10);
    r.errors.forEach((e, k) => {
      assert.deepEqual([e.file, e.line, e.column, e.columnKind], [path, BAD[k].line, BAD[k].column, 'field'], e.message);
      assert.ok(e.message.startsWith(`log.csv:${BAD[k].line}:${BAD[k].column}: field ${BAD[k].column}: `), e.message);
      assert.match(e.message, BAD[k].message);
    });
    assert.deepEqual(JSON.parse(JSON.stringify(r.errors)), r.errors, 'the errors are plain data (IPC, --json)');
    // seq is the row's position among all data rows, skipped ones included.
    assert.deepEqual(
      storedInteractions(db, r.datasetId ?? -1).map((s) => [s.user, s.item, s.seq]),
      [
        ['a', 'x', 1],
        ['f', 'u', 8],
        ['a', 'y', LINES.length],
      ],
    );
    // Rows skipped for a bad kept value leave no user or item behind.
    assert.deepEqual([r.users, r.items], [2, 3]);
  });

  it('a dry run reports the same counts and errors', async () => {
    const dry = await importDataset(db, req({ name: 'dry', onError: 'skip', dryRun: true }));
    assert.deepEqual([dry.rows, dry.interactions, dry.skipped, dry.errors.map((e) => e.line)], [LINES.length, 3, BAD.length, BAD.slice(0, 10).map((b) => b.line)]);
  });

  it('a skipped first row does not fix the time unit for the rows after it', async () => {
    const odd = join(dir, 'odd-first.csv');
    writeFileSync(odd, 'uid,vid,ts\na,x,9223372036854775808\nb,y,1700000000\nc,z,1700000100\n');
    const r = await importDataset(db, { files: [odd], preset: 'csv', name: 'odd-first', map: { user: 'uid', item: 'vid', time: 'ts' }, onError: 'skip' });
    assert.deepEqual([r.interactions, r.skipped, r.errors[0]?.line], [2, 1, 2]);
    assert.deepEqual(
      storedInteractions(db, r.datasetId ?? -1).map((s) => s.time),
      [1_700_000_000_000, 1_700_000_100_000],
      'read as seconds',
    );
  });

  it('skips bad WeChat rows in feed_info and user_action alike', async () => {
    const feedInfo = join(dir, 'feed_info.csv');
    writeFileSync(feedInfo, 'feedid,authorid,videoplayseconds,description\n1,2,1,a\n2.5,2,1,b\n3,2,slow,c\n');
    const actions = join(dir, 'user_action.csv');
    const row = (u: string, f: string): string => `${u},${f},1,1,0,0,0,2000,3000,0,0,0,0`;
    writeFileSync(actions, [ACTION_HEADER.join(','), row('1', '1'), row('1e3', '1'), row('2', '+1'), row('3', '1')].join('\n') + '\n');
    const r = await importDataset(db, { files: [actions, feedInfo], preset: 'wechat', name: 'wechat-skip', onError: 'skip' });
    assert.deepEqual(
      r.errors.map((e) => [e.file.endsWith('feed_info.csv') ? 'feed_info' : 'user_action', e.line, e.column]),
      [
        ['feed_info', 3, 1],
        ['feed_info', 4, 3],
        ['user_action', 3, 1],
        ['user_action', 4, 2],
      ],
    );
    assert.deepEqual([r.rows, r.interactions, r.skipped], [4, 2, 4], 'rows counts the interaction file, skipped both files');
  });

  it('still fails on file-level errors', async () => {
    const before_ = fingerprint(db);
    const quoted = join(dir, 'quote.csv');
    writeFileSync(quoted, 'uid,vid,ts,rating,watch\na,x,1700000000,4,10\nb,"y,1700000100,4,10\n');
    await assert.rejects(importDataset(db, req({ name: 'q', onError: 'skip', files: [quoted] })), /unterminated quoted field/);
    const noColumn = join(dir, 'nocol.csv');
    writeFileSync(noColumn, 'uid,vid,ts,stars,watch\na,x,1700000000,4,10\n');
    await assert.rejects(importDataset(db, req({ name: 'c', onError: 'skip', files: [noColumn] })), (err: unknown) => err instanceof RuleError);
    await assert.rejects(importDataset(db, req({ name: 'm', onError: 'skip', files: [join(dir, 'missing.csv')] })), /file not found/);
    const allBad = join(dir, 'all-bad.csv');
    writeFileSync(allBad, 'uid,vid,ts,rating,watch\na,x\nb,y\n');
    await assert.rejects(importDataset(db, req({ name: 'b', onError: 'skip', files: [allBad] })), /all 2 rows were skipped as malformed \(first: all-bad\.csv:2:3: /);
    await assert.rejects(importDataset(db, req({ name: 'o', onError: 'sometimes' as 'skip' })), /bad onError "sometimes"/);
    assert.equal(fingerprint(db), before_);
  });

  it('the CLI takes --on-error skip and reports the skipped rows in text and --json', async () => {
    const dbPath = join(dir, 'cli.sqlite');
    const args = ['import', path, '--preset', 'csv', '--map', 'user=uid,item=vid,time=ts', '--positive', 'rating >= 3', '--keep', 'watch', '--db', dbPath];
    const json = await cli([...args, '--name', 'j', '--on-error', 'skip', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { skipped: number; errors: Array<{ line: number; message: string }>; interactions: number };
    assert.deepEqual([out.interactions, out.skipped, out.errors.length, out.errors[0].line], [3, BAD.length, 10, BAD[0].line]);
    const text = await cli([...args, '--name', 't', '--on-error', 'skip']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${BAD.length} malformed rows skipped, the first 10:\\n  log\\.csv:3:5: field 5: expected 5 fields`));
    const strict = await cli([...args, '--name', 's']);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /log\.csv:3:5: field 5: expected 5 fields like the header, got 4/);
    const bad = await cli([...args, '--name', 'b', '--on-error', 'ignore']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad --on-error 'ignore'/);
  });
});
