// A corpus of broken inputs: each must be rejected with the right file:line:column and leave
// the store exactly as it was (a fingerprint of every table before and after). Several errors
// sit after more than one batch of positives, so rows were already inserted when they hit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportError, importDataset, RuleError } from '../../src/main/import/index.ts';
import { BATCH_ROWS } from '../../src/main/import/reader.ts';
import type { Db } from '../../src/main/store/db.ts';
import type { ImportRequest } from '../../src/shared/types.ts';
import { ACTION_HEADER } from './fixtures/wechat-gen.ts';
import { SAMPLE, fingerprint, freshDb, tempDir } from './helpers.ts';

const HEADER = ACTION_HEADER.join(',');
/** A valid WeChat row whose `like` is 1, so every row is a positive under the preset rule. */
const row = (i: number): string => `${8 + (i % 997)},${1 + (i % 5003)},${1 + (i % 14)},1,0,0,1,${1000 + i},${2000 + i},0,0,0,0`;
/** More positives than one batch: the error comes after rows were inserted. */
const LATE = BATCH_ROWS + 4000;
const bigBody = Array.from({ length: LATE }, (_, i) => row(i)).join('\n') + '\n';
/** Line number of the row appended after the big body. */
const AFTER_BIG = LATE + 2;

const kuairandLines = readFileSync(SAMPLE, 'utf8').split('\n').slice(0, 6);
const kuairandWith = (line: number, col: number, value: string): string =>
  kuairandLines.map((l, i) => (i === line - 1 ? l.split('\t').map((f, k) => (k === col - 1 ? value : f)).join('\t') : l)).join('\n') + '\n';

interface Case {
  name: string;
  files: Record<string, string | Buffer>;
  req?: Partial<ImportRequest>;
  /** Expected location: file, line, column and what the column counts. */
  at: [string, number, number, 'field' | 'char'];
  message: RegExp;
}

const CSV_MAP = { map: { user: 'uid', item: 'vid', time: 'ts' }, preset: 'csv' as const };

const cases: Case[] = [
  { name: 'empty file', files: { 'user_action.csv': '' }, at: ['user_action.csv', 1, 1, 'char'], message: /empty file/ },
  { name: 'a BOM and nothing else', files: { 'user_action.csv': '\uFEFF' }, at: ['user_action.csv', 1, 1, 'char'], message: /empty file/ },
  { name: 'blank lines only', files: { 'user_action.csv': '\n\r\n\n' }, at: ['user_action.csv', 1, 1, 'char'], message: /empty file/ },
  { name: 'header only', files: { 'user_action.csv': HEADER + '\r\n' }, at: ['user_action.csv', 2, 1, 'char'], message: /no data rows after the header/ },
  {
    name: 'a row with too few fields',
    files: { 'user_action.csv': [HEADER, row(1), row(2), '8,1,1,1,0,0,1,1000,2000,0,0,0'].join('\n') },
    at: ['user_action.csv', 4, 13, 'field'],
    message: /expected 13 fields like the header, got 12/,
  },
  {
    name: 'a row with too many fields, late',
    files: { 'user_action.csv': `${HEADER}\n${bigBody}${row(1)},7\n` },
    at: ['user_action.csv', AFTER_BIG, 14, 'field'],
    message: /expected 13 fields like the header, got 14/,
  },
  {
    name: 'a non-numeric userid',
    files: { 'user_action.csv': [HEADER, row(1), 'abc' + row(2).slice(row(2).indexOf(','))].join('\n') },
    at: ['user_action.csv', 3, 1, 'field'],
    message: /expected an integer id in column 'userid', got "abc"/,
  },
  {
    name: 'a non-numeric feedid, late',
    files: { 'user_action.csv': `${HEADER}\n${bigBody}8,f17,1,1,0,0,1,1000,2000,0,0,0,0\n` },
    at: ['user_action.csv', AFTER_BIG, 2, 'field'],
    message: /expected an integer id in column 'feedid', got "f17"/,
  },
  {
    name: 'a fractional day',
    files: { 'user_action.csv': [HEADER, row(1), '8,1,1.5,1,0,0,1,1000,2000,0,0,0,0'].join('\n') },
    at: ['user_action.csv', 3, 3, 'field'],
    message: /expected a day written as int in column 'date_', got "1.5"/,
  },
  {
    name: 'a flag that is not a number',
    files: { 'user_action.csv': [HEADER, row(1), '8,1,1,1,0,0,yes,1000,2000,0,0,0,0'].join('\n') },
    at: ['user_action.csv', 3, 7, 'field'],
    message: /expected a number in column 'like', got "yes"/,
  },
  {
    name: 'a header without a column the rule needs',
    files: { 'user_action.csv': HEADER.replace(',like,', ',liked,') + '\n' + row(1) },
    at: ['user_action.csv', 1, 1, 'char'],
    message: /missing column 'like' in the header \(used by the wechat preset's positive rule\)/,
  },
  {
    name: 'an unterminated quote, late',
    files: { 'user_action.csv': `${HEADER}\n${bigBody}8,"12,1,1,0,0,1,1000,2000,0,0,0,0\n${row(3)}\n` },
    at: ['user_action.csv', AFTER_BIG, 3, 'char'],
    message: /unterminated quoted field/,
  },
  {
    name: 'text after a closing quote',
    files: { 'user_action.csv': [HEADER, row(1), '8,"12"x,1,1,0,0,1,1000,2000,0,0,0,0'].join('\n') },
    at: ['user_action.csv', 3, 7, 'char'],
    message: /unexpected character after a closing quote/,
  },
  {
    name: 'a NUL byte, late',
    files: { 'user_action.csv': `${HEADER}\n${bigBody}8,1,\u0000,1,0,0,1,1000,2000,0,0,0,0\n` },
    at: ['user_action.csv', AFTER_BIG, 5, 'char'],
    message: /NUL byte/,
  },
  {
    name: 'invalid UTF-8',
    files: { 'user_action.csv': Buffer.concat([Buffer.from(`${HEADER}\n${row(1)}\n8,1,é`), Buffer.from([0xff, 0xfe]), Buffer.from(',1\n')]) },
    at: ['user_action.csv', 3, 6, 'char'],
    message: /invalid UTF-8/,
  },
  {
    name: 'a gzip file given by mistake',
    files: { 'user_action.csv': Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x12, 0x34, 0x56, 0x78, 0x00, 0x03, 0x0a, 0xcb, 0x48]) },
    at: ['user_action.csv', 1, 2, 'char'],
    message: /invalid UTF-8/,
  },
  {
    name: 'a rule with a syntax error',
    files: { 'user_action.csv': [HEADER, row(1)].join('\n') },
    req: { positive: 'like == 1 || ' },
    at: ['positive rule', 1, 14, 'char'],
    message: /ends where a value was expected/,
  },
  {
    name: 'a rule naming an unknown column',
    files: { 'user_action.csv': [HEADER, row(1)].join('\n') },
    req: { positive: 'like == 1 || likes == 1' },
    at: ['positive rule', 1, 14, 'char'],
    message: /unknown column 'likes' \(did you mean 'like'\?\)/,
  },
  {
    name: 'feed_info with a non-numeric feedid',
    files: { 'feed_info.csv': 'feedid,authorid,videoplayseconds,description\n1,2,30,"a, b"\nx12,3,40,c\n', 'user_action.csv': [HEADER, row(1)].join('\n') },
    at: ['feed_info.csv', 3, 1, 'field'],
    message: /expected an integer id in column 'feedid', got "x12"/,
  },
  {
    name: 'feed_info with an unterminated quote',
    files: { 'feed_info.csv': 'feedid,authorid,videoplayseconds,description\n1,2,30,"a, b\n2,3,40,c\n', 'user_action.csv': [HEADER, row(1)].join('\n') },
    at: ['feed_info.csv', 2, 8, 'char'],
    message: /unterminated quoted field/,
  },
  {
    name: 'KuaiRand: a date that does not exist',
    files: { 'kr.tsv': kuairandWith(4, 3, '20220230') },
    req: { preset: 'kuairand' },
    at: ['kr.tsv', 4, 3, 'field'],
    message: /expected a day written as yyyymmdd in column 'date', got "20220230"/,
  },
  {
    name: 'KuaiRand: a time that is not a number',
    files: { 'kr.tsv': kuairandWith(5, 5, 'soon') },
    req: { preset: 'kuairand' },
    at: ['kr.tsv', 5, 5, 'field'],
    message: /expected a time \(epoch-ms\) in column 'time_ms', got "soon"/,
  },
  {
    name: 'csv: a duplicate header name',
    files: { 'x.csv': 'uid,vid,uid\n1,2,3\n' },
    req: CSV_MAP,
    at: ['x.csv', 1, 3, 'field'],
    message: /column 'uid' appears twice/,
  },
  {
    name: 'csv: an empty header name',
    files: { 'x.csv': 'uid,,ts\n1,2,3\n' },
    req: CSV_MAP,
    at: ['x.csv', 1, 2, 'field'],
    message: /empty column name/,
  },
  {
    name: 'csv: a mapped column missing from the header',
    files: { 'x.csv': 'user,vid,ts\n1,2,3\n' },
    req: CSV_MAP,
    at: ['x.csv', 1, 1, 'char'],
    message: /missing column 'uid' in the header \(mapped as user\)/,
  },
  {
    name: 'csv: an empty user id',
    files: { 'x.csv': 'uid,vid,ts\n1,2,1700000000\n,3,1700000001\n' },
    req: CSV_MAP,
    at: ['x.csv', 3, 1, 'field'],
    message: /expected a user id in column 'uid', got an empty field/,
  },
  {
    name: 'csv: a time that is neither a number nor ISO',
    files: { 'x.csv': 'uid,vid,ts\n1,2,yesterday\n' },
    req: CSV_MAP,
    at: ['x.csv', 2, 3, 'field'],
    message: /expected a time \(epoch seconds or ms, or an ISO date-time\)/,
  },
  {
    name: 'csv: days written two ways',
    files: { 'x.csv': 'uid,vid,d\n1,2,20240105\n1,3,2024-01-06\n' },
    req: { preset: 'csv', map: { user: 'uid', item: 'vid', day: 'd' } },
    at: ['x.csv', 3, 3, 'field'],
    message: /expected a day written as yyyymmdd in column 'd', got "2024-01-06"/,
  },
  {
    name: 'csv: a kept column that is not numeric',
    files: { 'x.csv': 'uid,vid,ts,rating\n1,2,1700000000,4\n1,3,1700000001,high\n' },
    req: { ...CSV_MAP, keep: ['rating'] },
    at: ['x.csv', 3, 4, 'field'],
    message: /expected a number in column 'rating', got "high"/,
  },
  {
    name: 'csv: a quoted field with a newline, then a short row',
    files: { 'x.csv': 'uid,vid,ts,note\n1,2,1700000000,"two\nlines"\n1,3\n' },
    req: CSV_MAP,
    at: ['x.csv', 4, 3, 'field'],
    message: /expected 4 fields like the header, got 2/,
  },
  {
    name: 'RecBole: a short row',
    files: { 'm.inter': 'user_id:token\titem_id:token\ttimestamp:float\n1\t2\t881250949\n1\t3\n' },
    req: { preset: 'recbole' },
    at: ['m.inter', 3, 3, 'field'],
    message: /expected 3 fields like the header, got 2/,
  },
  // Integer id columns take plain digits (an optional leading '-'), nothing a float parser accepts.
  ...(['1e3', '+7', ' 12', '1.0', '0x1f', '12 '] as const).map(
    (id, k): Case => ({
      name: `a WeChat ${k % 2 ? 'feedid' : 'userid'} written ${JSON.stringify(id)}`,
      files: { 'user_action.csv': [HEADER, row(1), k % 2 ? `8,${id},1,1,0,0,1,1000,2000,0,0,0,0` : `${id},1,1,1,0,0,1,1000,2000,0,0,0,0`].join('\n') },
      at: ['user_action.csv', 3, k % 2 ? 2 : 1, 'field'],
      message: new RegExp(`expected an integer id in column '${k % 2 ? 'feedid' : 'userid'}', got ${JSON.stringify(JSON.stringify(id)).slice(1, -1).replace(/[+.]/g, '\\$&')}`),
    }),
  ),
  {
    name: 'csv: a seconds column with one millisecond value',
    files: { 'x.csv': 'uid,vid,ts\n1,2,1700000000\n1,3,1700000100\n1,4,1700000200123\n1,5,1700000300\n' },
    req: CSV_MAP,
    at: ['x.csv', 4, 3, 'field'],
    message: /time "1700000200123" in column 'ts' looks like milliseconds, but the column's first value \(x\.csv:2\) fixed its unit as seconds/,
  },
  {
    name: 'csv: a time of 2^63 among seconds',
    files: { 'x.csv': 'uid,vid,ts\n1,2,1700000000\n1,3,9223372036854775808\n1,4,1700000300\n' },
    req: CSV_MAP,
    at: ['x.csv', 3, 3, 'field'],
    message: /looks like milliseconds/,
  },
  {
    name: 'csv: a first time of 2^63',
    files: { 'x.csv': 'uid,vid,ts\n1,2,9223372036854775808\n1,3,1700000000\n' },
    req: CSV_MAP,
    at: ['x.csv', 2, 3, 'field'],
    message: /time "9223372036854775808" in column 'ts' is outside 1970-01-01 \.\. 2099-12-31 \(read as milliseconds\)/,
  },
  {
    name: 'csv: seconds in the year 2500',
    files: { 'x.csv': 'uid,vid,ts\n1,2,1700000000\n1,3,16725225600\n' },
    req: CSV_MAP,
    at: ['x.csv', 3, 3, 'field'],
    message: /is outside 1970-01-01 \.\. 2099-12-31 \(read as seconds\)/,
  },
  {
    name: 'csv: a negative time',
    files: { 'x.csv': 'uid,vid,ts\n1,2,1700000000\n1,3,-5\n' },
    req: CSV_MAP,
    at: ['x.csv', 3, 3, 'field'],
    message: /time "-5" in column 'ts' is outside 1970-01-01/,
  },
  {
    name: 'csv: an ISO time in 2150',
    files: { 'x.csv': 'uid,vid,ts\n1,2,2024-01-05T10:00:00Z\n1,3,2150-01-05T10:00:00Z\n' },
    req: CSV_MAP,
    at: ['x.csv', 3, 3, 'field'],
    message: /is outside 1970-01-01 \.\. 2099-12-31 \(read as a date-time\)/,
  },
  {
    name: 'KuaiRand: a seconds value in a millisecond column',
    files: { 'kr.tsv': kuairandWith(4, 5, '1649664993') },
    req: { preset: 'kuairand' },
    at: ['kr.tsv', 4, 5, 'field'],
    message: /time "1649664993" in column 'time_ms' looks like seconds, but the column's first value \(kr\.tsv:2\) fixed its unit as milliseconds/,
  },
  {
    name: 'csv: CR-only line endings, then a short row',
    files: { 'x.csv': 'uid,vid,ts\r1,2,1700000000\r1,3\r1,4,1700000001\r' },
    req: CSV_MAP,
    at: ['x.csv', 3, 3, 'field'],
    message: /expected 3 fields like the header, got 2/,
  },
];

describe('malformed input', () => {
  let dir: string;
  let cleanup: () => void;
  let db: Db;
  let before_: string;

  before(async () => {
    ({ dir, cleanup } = tempDir('malformed'));
    db = freshDb(dir);
    // Something already in the store that a failed import must not touch.
    const base = join(dir, 'base.csv');
    writeFileSync(base, 'u,i,t\n' + Array.from({ length: 50 }, (_, k) => `u${k % 7},i${k % 13},${1700000000 + k * 3600}`).join('\n'));
    await importDataset(db, { files: [base], preset: 'csv', name: 'base', map: { user: 'u', item: 'i', time: 't' } });
    before_ = fingerprint(db);
  });
  after(() => {
    db.close();
    cleanup();
  });

  it(`has at least 20 cases (${cases.length})`, () => assert.ok(cases.length >= 20));

  cases.forEach((c, n) => {
    it(`rejects ${c.name} at ${c.at.slice(0, 3).join(':')}`, async () => {
      const caseDir = join(dir, `case${n}`);
      mkdirSync(caseDir);
      const files = Object.entries(c.files).map(([name, body]) => {
        const path = join(caseDir, name);
        writeFileSync(path, body);
        return path;
      });
      // The interaction file goes first, so a feed_info error proves feed_info is read first.
      files.reverse();
      const req: ImportRequest = { files, preset: 'wechat', name: `case-${n}`, ...c.req };
      const err = await importDataset(db, req).then(
        () => assert.fail('the import was accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ImportError, `expected an ImportError, got ${String(err)}`);
      const [file, line, column, kind] = c.at;
      assert.equal(err.file.endsWith(file), true, `file: ${err.message}`);
      assert.deepEqual([err.line, err.column, err.columnKind], [line, column, kind], err.message);
      assert.match(err.message, c.message);
      assert.ok(err.message.startsWith(`${file}:${line}:${column}: ${kind === 'field' ? 'field' : 'character'} ${column}: `), err.message);
      if (file === 'positive rule') assert.ok(err instanceof RuleError);
      assert.equal(db.inTransaction, false);
      assert.equal(fingerprint(db), before_, 'the store is unchanged');
    });
  });

  it('rejects a rule that matches no row, with the store unchanged', async () => {
    const path = join(dir, 'none.csv');
    writeFileSync(path, [HEADER, row(1), row(2)].join('\n'));
    await assert.rejects(importDataset(db, { files: [path], preset: 'wechat', name: 'none', positive: 'play < 0' }), /matched none of the 2 rows/);
    assert.equal(fingerprint(db), before_);
  });
});
