// WeChat-format files generated here (real header, value ranges, a feed_info.csv with quoted
// commas): each preset rule and a custom one, checked row by row against a count made from the
// generator's own values.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset, presetRule } from '../../src/main/import/index.ts';
import { getDataset } from '../../src/main/store/datasets.ts';
import type { Db } from '../../src/main/store/db.ts';
import { ACTION_HEADER, writeFeedInfo, writeUserActions } from './fixtures/wechat-gen.ts';
import { freshDb, storedInteractions, tempDir } from './helpers.ts';

type Row = Record<string, number>;

function expectedOf(rows: Row[], isPositive: (r: Row) => boolean) {
  const positives = rows.map((r, i) => ({ r, seq: i + 1 })).filter(({ r }) => isPositive(r));
  const stored = positives.map(({ r, seq }) => ({ user: String(r.userid), item: String(r.feedid), time: r.date_, day: r.date_, seq }));
  return {
    stored,
    users: new Set(stored.map((s) => s.user)).size,
    items: new Set(stored.map((s) => s.item)).size,
    days: new Set(stored.map((s) => s.day)).size,
  };
}

const FLAGS = ['read_comment', 'comment', 'like', 'click_avatar', 'forward', 'follow', 'favorite'];

describe('WeChat preset', () => {
  let dir: string;
  let cleanup: () => void;
  let db: Db;
  let actions: string;
  let feedInfo: string;
  const rows: Row[] = [];
  let vps: Map<number, number>;

  before(async () => {
    ({ dir, cleanup } = tempDir('wechat'));
    db = freshDb(dir);
    const opts = { users: 150, feeds: 2500, rows: 20000, seed: 42 };
    actions = join(dir, 'user_action.csv');
    feedInfo = join(dir, 'feed_info.csv');
    vps = await writeFeedInfo(feedInfo, opts);
    await writeUserActions(actions, opts, vps, (v) => rows.push(Object.fromEntries(ACTION_HEADER.map((h, i) => [h, v[i]]))));
  });
  after(() => {
    db.close();
    cleanup();
  });

  async function check(name: string, files: string[], isPositive: (r: Row) => boolean, positive?: string): Promise<void> {
    const r = await importDataset(db, { files, preset: 'wechat', name, positive });
    const want = expectedOf(rows, isPositive);
    assert.deepEqual(
      [r.rows, r.interactions, r.users, r.items, r.days],
      [rows.length, want.stored.length, want.users, want.items, want.days],
    );
    assert.ok(want.stored.length > 0 && want.stored.length < rows.length, 'the rule splits the rows');
    assert.deepEqual(storedInteractions(db, r.datasetId ?? -1), want.stored);
  }

  it('without feed_info: any satisfaction flag', async () => {
    await check('flags', [actions], (r) => FLAGS.some((f) => r[f] === 1));
    const d = getDataset(db, 'flags');
    assert.equal(d?.positiveRule, presetRule('wechat', false));
    assert.equal(d?.timeKind, 'day');
  });

  it('with feed_info (given after the actions): flags or a full play', async () => {
    await check('full-play', [actions, feedInfo], (r) => FLAGS.some((f) => r[f] === 1) || r.play >= (vps.get(r.feedid) ?? NaN) * 1000);
    assert.equal(getDataset(db, 'full-play')?.positiveRule, presetRule('wechat', true));
  });

  it('a custom rule over a row column and the joined video length', async () => {
    await check('custom', [feedInfo, actions], (r) => r.like === 1 || r.play >= 0.9 * (vps.get(r.feedid) ?? NaN) * 1000, 'like == 1 || play >= 0.9 * videoplayseconds * 1000');
  });

  it('two action files in a row read as one log; CRLF is accepted', async () => {
    const lines = readFileSync(actions, 'utf8').trimEnd().split('\n');
    const half = Math.floor(lines.length / 2);
    const a = join(dir, 'part1.csv');
    const b = join(dir, 'part2.csv');
    writeFileSync(a, lines.slice(0, half).join('\r\n') + '\r\n');
    writeFileSync(b, [lines[0], ...lines.slice(half)].join('\r\n'));
    await check('parts', [a, feedInfo, b], (r) => FLAGS.some((f) => r[f] === 1) || r.play >= (vps.get(r.feedid) ?? NaN) * 1000);
  });

  it('a dry run reports the counts of the real import', async () => {
    const dry = await importDataset(db, { files: [actions, feedInfo], preset: 'wechat', name: 'dry', dryRun: true });
    const real = getDataset(db, 'full-play');
    assert.deepEqual([dry.rows, dry.interactions, dry.users, dry.items, dry.days], [real?.rows, real?.interactions, real?.users, real?.items, real?.days]);
  });
});
