// Item attributes onto a dataset: WeChat's feed_info.csv (generated with the real columns) and
// the sample's attribute file, each value checked against an independent parse of the file
// (papaparse); malformed files fail at file:line:column and leave the store as it was.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Papa from 'papaparse';
import { importDataset } from '../../src/main/import/index.ts';
import { cellLabel, columnKind, FEED_INFO_ATTRIBUTES, importItemAttributes } from '../../src/main/import/items.ts';
import type { ItemImportResult } from '../../src/shared/attributes.ts';
import type { Db } from '../../src/main/store/db.ts';
import { attributeLabels, itemAttributeValues, listItemAttributes } from '../../src/main/store/item-attributes.ts';
import { rawIds } from '../../src/main/store/raw-ids.ts';
import { writeFeedInfo, writeUserActions } from './fixtures/wechat-gen.ts';
import { freshDb, SAMPLE, tempDir } from './helpers.ts';

const SAMPLE_ATTRIBUTES = resolve('resources/sample/kuairand_video_attributes.tsv');

/** The file's rows as header-keyed records, parsed independently of the importer. */
function records(path: string, delimiter: string): Record<string, string>[] {
  return Papa.parse<Record<string, string>>(readFileSync(path, 'utf8'), { header: true, delimiter, skipEmptyLines: true }).data;
}

/** iid -> raw for the dataset, inverted. */
function iidOf(db: Db, datasetId: number): Map<string, number> {
  const m = new Map<string, number>();
  rawIds(db, datasetId).items.forEach((raw, iid) => iid > 0 && m.set(raw, iid));
  return m;
}

describe('item attributes', () => {
  let dir: string;
  let cleanup: () => void;
  let db: Db;
  let wechatId: number;
  let sampleId: number;
  let feedInfo: string;
  let actions: string;
  let withFeedInfo: ItemImportResult | undefined;

  before(async () => {
    ({ dir, cleanup } = tempDir('items'));
    db = freshDb(dir);
    const opts = { users: 60, feeds: 800, rows: 6000, seed: 5 };
    feedInfo = join(dir, 'feed_info.csv');
    actions = join(dir, 'user_action.csv');
    const vps = await writeFeedInfo(feedInfo, opts);
    await writeUserActions(actions, opts, vps);
    const wechat = await importDataset(db, { files: [actions, feedInfo], preset: 'wechat', name: 'wechat' });
    wechatId = wechat.datasetId as number;
    withFeedInfo = wechat.itemAttributes;
    sampleId = (await importDataset(db, { files: [SAMPLE], preset: 'kuairand', name: 'sample' })).datasetId as number;
  });
  after(() => {
    db.close();
    cleanup();
  });

  it("imports feed_info.csv's item fields: values as written, lists by their first entry, weighted lists by their top token", async () => {
    // The WeChat import stored them with the dataset; importing the file again replaces them.
    assert.deepEqual(withFeedInfo?.attributes.map((a) => a.name), FEED_INFO_ATTRIBUTES);
    const r = await importItemAttributes(db, { datasetId: wechatId, file: feedInfo });
    assert.deepEqual(r.replaced, FEED_INFO_ATTRIBUTES);
    assert.deepEqual(r.attributes, withFeedInfo?.attributes);
    const rows = records(feedInfo, ',');
    const known = iidOf(db, wechatId);
    const mine = rows.filter((row) => known.has(row.feedid));
    assert.equal(r.idColumn, 'feedid');
    assert.deepEqual([r.rows, r.matched, r.unknown], [rows.length, mine.length, rows.length - mine.length]);
    assert.ok(r.unknown > 0, 'the generated feed_info.csv covers more videos than have positives');
    assert.deepEqual(r.attributes.map((a) => a.name), FEED_INFO_ATTRIBUTES);
    const kinds = Object.fromEntries(r.attributes.map((a) => [a.name, a.kind]));
    assert.equal(kinds.authorid, 'number');
    assert.equal(kinds.manual_keyword_list, 'list');
    assert.equal(kinds.machine_tag_list, 'weighted-list');
    for (const name of FEED_INFO_ATTRIBUTES) {
      const labels = attributeLabels(db, wechatId, name);
      const want = new Map<number, string>();
      for (const row of mine) {
        const cell = row[name].trim();
        if (cell === '') continue;
        // Independent reading of the three shapes: "a;b" -> a, "tag 0.9" -> tag, else the value.
        const first = cell.split(';')[0].trim();
        want.set(known.get(row.feedid) as number, name === 'machine_tag_list' ? first.split(' ')[0] : name === 'manual_keyword_list' ? first : cell);
      }
      assert.deepEqual(labels, want, name);
      assert.equal(r.attributes.find((a) => a.name === name)?.items, want.size);
    }
    // The whole cell is kept for display.
    const one = mine.find((row) => row.manual_keyword_list.includes(';')) as Record<string, string>;
    const iid = known.get(one.feedid) as number;
    assert.equal(itemAttributeValues(db, wechatId, [iid]).get(iid)?.manual_keyword_list, one.manual_keyword_list);
  });

  it('a WeChat import whose feed_info.csv lists a video twice fails at file:line and stores nothing', async () => {
    const lines = readFileSync(feedInfo, 'utf8').trimEnd().split('\n');
    const bad = join(dir, 'feed_info_twice.csv');
    writeFileSync(bad, [...lines, lines[1]].join('\n') + '\n');
    await assert.rejects(importDataset(db, { files: [actions, bad], preset: 'wechat', name: 'twice' }), new RegExp(`feed_info_twice\\.csv:${lines.length + 1}:1: field 1: item '\\d+' appears twice \\(also on line 2\\)`));
    assert.equal(db.prepare("SELECT count(*) FROM datasets WHERE name = 'twice'").pluck().get(), 0);
    // With onError 'skip' the repeated row is dropped and counted; the first one stands.
    const skipped = await importDataset(db, { files: [actions, bad], preset: 'wechat', name: 'twice', onError: 'skip' });
    assert.equal(skipped.itemAttributes?.skipped, 1);
    assert.deepEqual(skipped.itemAttributes?.attributes.map((a) => a.items), withFeedInfo?.attributes.map((a) => a.items));
  });

  it("imports the sample's attribute file on its id column; a second import replaces what it names", async () => {
    const r = await importItemAttributes(db, { datasetId: sampleId, file: SAMPLE_ATTRIBUTES });
    const rows = records(SAMPLE_ATTRIBUTES, '\t');
    const known = iidOf(db, sampleId);
    assert.equal(r.idColumn, 'video_id', "the dataset's item column");
    assert.equal(r.matched, rows.filter((row) => known.has(row.video_id)).length);
    assert.equal(r.unknown, rows.length - r.matched);
    assert.equal(r.missing, known.size - r.matched);
    assert.deepEqual(r.attributes.map((a) => [a.name, a.kind]), [['duration_class', 'text'], ['duration_s', 'number'], ['engagement', 'weighted-list']]);
    const values = itemAttributeValues(db, sampleId, known.values());
    for (const row of rows) {
      const iid = known.get(row.video_id);
      if (iid === undefined) continue;
      const want: Record<string, string> = {};
      for (const k of ['duration_class', 'duration_s', 'engagement']) if (row[k] !== '') want[k] = row[k];
      assert.deepEqual(values.get(iid), want, row.video_id);
    }
    const again = await importItemAttributes(db, { datasetId: sampleId, file: SAMPLE_ATTRIBUTES, columns: ['duration_class'] });
    assert.deepEqual(again.replaced, ['duration_class']);
    assert.deepEqual(listItemAttributes(db, sampleId).map((a) => a.name).sort(), ['duration_class', 'duration_s', 'engagement']);
  });

  it('labels a weighted list by its highest weight (the first of equal ones) and a list by its first entry', () => {
    assert.equal(cellLabel('a 0.2;b 0.9;c 0.9', 'weighted-list', ','), 'b');
    assert.equal(cellLabel(' x ; y', 'list', ','), 'x');
    assert.equal(cellLabel('x|y', 'list', '\t'), 'x');
    assert.equal(cellLabel('a 0.2;b', 'weighted-list', ','), undefined);
    assert.equal(columnKind(['Rocky 2', 'Star Wars', 'Alien'], ','), 'text', 'a title that looks weighted does not make a weighted list');
    assert.equal(columnKind(['a 0.5', 'b 0.1;c 0.2', 'broken'], ','), 'weighted-list');
    assert.equal(columnKind(['12', '7.5', ''], ','), 'number');
    assert.equal(columnKind(['', ' '], ','), 'text');
  });

  describe('malformed files', () => {
    const raw = (): string[] => [...iidOf(db, sampleId).keys()];
    const write = (name: string, lines: string[]): string => {
      const path = join(dir, name);
      writeFileSync(path, lines.join('\n') + '\n');
      return path;
    };
    async function rejects(path: string, pattern: RegExp, extra: { idColumn?: string } = {}): Promise<void> {
      // The attribute tables are all an item import writes (a full fingerprint of the store is slow).
      const state = () => JSON.stringify([listItemAttributes(db, sampleId), db.prepare('SELECT count(*), total(iid) FROM item_attribute_values').raw().get()]);
      const before = state();
      await assert.rejects(importItemAttributes(db, { datasetId: sampleId, file: path, ...extra }), pattern);
      assert.equal(state(), before, 'nothing was written');
    }

    it('a short row: file, line and the first missing field', async () => {
      const [a, b] = raw();
      const path = write('short.tsv', ['video_id\tgenre\tlength', `${a}\tdrama\t30`, `${b}\tcomedy`]);
      await rejects(path, new RegExp(`${basename(path)}:3:3: field 3: expected 3 fields like the header, got 2`));
    });

    it('an item listed twice, an empty id, a broken weighted list, a missing id column', async () => {
      const [a, b, c] = raw();
      await rejects(write('twice.csv', ['video_id,genre', `${a},drama`, `${b},news`, `${a},comedy`]), /twice\.csv:4:1: field 1: item '.+' appears twice \(also on line 2\)/);
      await rejects(write('empty-id.csv', ['video_id,genre', `${a},drama`, ',news']), /empty-id\.csv:3:1: field 1: expected an item id in column 'video_id'/);
      await rejects(write('weights.csv', ['video_id,tags', `${a},x 0.5;y 0.2`, `${b},y 0.1`, `${c},z 0.3;w`]), /weights\.csv:4:2: field 2: expected 'token weight' entries/);
      await rejects(write('no-id.csv', ['video_id,genre', `${a},drama`]), /no item id column 'nope'/, { idColumn: 'nope' });
      await rejects(write('quote.csv', ['video_id,genre', `${a},"drama`]), /quote\.csv:2:\d+: character \d+: unterminated quoted field/);
    });
  });
});
