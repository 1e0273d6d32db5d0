// Item attributes end to end on the bundled sample: `import-items` of the sample's attribute
// file, two trained runs (CMI, its implicit categories; GRU4Rec, one interest), the inspector
// showing each item's attributes, and `alignment` whose counts and baseline are recomputed
// here from the stored split and the file itself.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Papa from 'papaparse';
import type { AlignmentResult, ItemImportResult } from '../../src/shared/attributes.ts';
import { createApi, type StudioService } from '../../src/main/api.ts';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { evalSet } from '../../src/main/eval/sets.ts';
import { purity } from '../../src/main/eval/alignment.ts';
import { openDb } from '../../src/main/store/db.ts';
import { rawIds } from '../../src/main/store/raw-ids.ts';
import { requireRun } from '../../src/main/store/runs.ts';
import { loadSplit } from '../../src/main/store/splits.ts';
import { cli } from './helpers.ts';

const FILE = resolve('resources/sample/kuairand_video_attributes.tsv');
const tiny = ['dim=16', 'batchSize=32', 'maxlen=20', 'historyPool=40', 'evalEvery=5'];

describe('item attributes, the inspector and interest alignment (CLI and API)', () => {
  let dir: string;
  let dbPath: string;
  let datasetId: number;
  const runs: Record<string, number> = {};
  const run = (args: string[]) => cli([...args, '--db', dbPath]);
  /** video_id -> duration_class, from the file (empty cells left out). */
  const classes = new Map<string, string>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-align-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    datasetId = (await ensureDemoDataset(db)).id;
    db.close();
    for (const row of Papa.parse<Record<string, string>>(readFileSync(FILE, 'utf8'), { header: true, delimiter: '\t', skipEmptyLines: true }).data) {
      if (row.duration_class) classes.set(row.video_id, row.duration_class);
    }
    for (const [model, interests] of [['cmi', '2'], ['gru4rec', '1']] as const) {
      const r = await run(['train', '--dataset', 'kuairand-demo', '--model', model, '--interests', interests, '--max-steps', '6', '--json', ...tiny.flatMap((s) => ['--set', s])]);
      assert.equal(r.code, 0, r.stderr);
      runs[model] = (JSON.parse(r.stdout) as { run: number }).run;
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('import-items reports items matched, unknown and missing; a malformed file fails at file:line:column', async () => {
    const text = await run(['import-items', FILE, '--dataset', 'kuairand-demo']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /duration_class\s+text\s+\d+ items, 4 labels/);
    assert.match(text.stdout, /engagement\s+weighted-list/);
    assert.match(text.stdout, /note: \d+ rows name items the dataset does not know/);
    const json = await run(['import-items', FILE, '--dataset', 'kuairand-demo', '--json']);
    const r = JSON.parse(json.stdout) as ItemImportResult;
    assert.deepEqual(r.replaced.sort(), ['duration_class', 'duration_s', 'engagement']);
    assert.equal(r.matched + r.unknown, r.rows);

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'video_id,genre\n1,a\n2\n');
    const failed = await run(['import-items', bad, '--dataset', 'kuairand-demo']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /bad\.csv:3:2: field 2: expected 2 fields like the header, got 1/);
  });

  it('the API lists the attributes and the inspector shows them beside each item', async () => {
    const api: StudioService = createApi({ dbPath });
    try {
      assert.deepEqual((await api.itemAttributes(datasetId)).map((a) => a.name), ['duration_class', 'duration_s', 'engagement']);
      const [user] = (await api.inspectableUsers(runs.cmi)).users;
      const ins = await api.inspectUser(runs.cmi, user.uid, 20);
      assert.deepEqual(ins.attributeNames, ['duration_class', 'duration_s', 'engagement']);
      for (const item of [...ins.history, ...ins.retrieved, ...ins.targets]) {
        assert.equal(item.attributes.duration_class, classes.get(item.raw), `item ${item.raw}`);
      }
      assert.ok(ins.history.some((h) => h.attributes.duration_class !== undefined), 'some history item has a value');
    } finally {
      api.close();
    }
  });

  it('alignment: counts and the majority baseline match the split and the file; one interest aligns with nothing', async () => {
    const r = await run(['alignment', '--run', String(runs.cmi), '--run', String(runs.gru4rec), '--attribute', 'duration_class', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const [cmi, gru] = JSON.parse(r.stdout) as AlignmentResult[];

    // Independently: every (test user, history position) whose item has a class.
    const db = openDb(dbPath);
    const split = loadSplit(db, requireRun(db, runs.cmi).splitId);
    const raw = rawIds(db, datasetId).items;
    db.close();
    const set = evalSet(split, 'test', 20);
    const labels: string[] = [];
    let unlabelled = 0;
    for (const sid of set.histories) {
      if (sid === 0) continue;
      const c = classes.get(raw[split.vocab[sid]]);
      if (c === undefined) unlabelled++;
      else labels.push(c);
    }
    const index = [...new Set(labels)];
    const majority = purity(new Int32Array(labels.length), Int32Array.from(labels, (l) => index.indexOf(l)));
    for (const a of [cmi, gru]) {
      assert.deepEqual([a.attribute, a.items, a.unlabelled, a.labels], ['duration_class', labels.length, unlabelled, index.length]);
      assert.ok(Math.abs(a.majorityShare - majority) < 1e-12);
      for (const v of [a.pooled.nmi, a.pooled.purity, a.perUser.nmi, a.perUser.purity]) assert.ok(v >= 0 && v <= 1, String(v));
      assert.ok(a.pooled.purity >= a.majorityShare - 1e-12, 'purity is never below the one-group baseline');
    }
    assert.equal(cmi.assignment, 'category');
    assert.equal(cmi.numInterests, 2);
    assert.equal(gru.assignment, 'argmax-score');
    assert.deepEqual([gru.pooled.nmi, gru.perUser.nmi], [0, 0], 'a single interest carries no information');
    assert.ok(Math.abs(gru.pooled.purity - majority) < 1e-12);
    assert.deepEqual(gru.chance, { pooled: gru.pooled, perUser: { nmi: gru.perUser.nmi, purity: gru.perUser.purity } }, 'one interest is its own chance level');

    const text = await run(['alignment', '--dataset', 'kuairand-demo', '--attribute', 'engagement']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^run\s+label\s+model\s+attribute/);
    assert.equal(text.stdout.trim().split('\n').length, 3, 'a header and one line per finished run');
    const csv = await run(['alignment', '--run', String(runs.cmi), '--attribute', 'duration_class', '--csv']);
    const parsed = Papa.parse<string[]>(csv.stdout.trim()).data;
    assert.equal(parsed.length, 2);
    assert.equal(parsed[0][10], 'NMI');
    assert.equal(Number(parsed[1][10]).toFixed(4), cmi.pooled.nmi.toFixed(4));
    const unknown = await run(['alignment', '--run', String(runs.cmi), '--attribute', 'genre']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no item attribute 'genre' \(it has duration_class, duration_s, engagement\)/);
  });
});
