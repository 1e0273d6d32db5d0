// The experiments list on real runs of the bundled sample: tags and notes stored and searched,
// any column sorted, two runs diffed, a run's config and its trained item embeddings exported,
// the inspector's users filtered by hit or miss and found by raw id, and imported results
// refused by everything that needs a model. Through the API (what the UI calls) and the CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Papa from 'papaparse';
import { createApi, type StudioService } from '../../src/main/api.ts';
import { ensureDemoDataset } from '../../src/main/cli/demo-setup.ts';
import { dispatch } from '../../src/main/hosts/dispatch.ts';
import { openDb } from '../../src/main/store/db.ts';
import { createExternalRun } from '../../src/main/store/external-runs.ts';
import { loadCheckpoint } from '../../src/main/store/runs.ts';
import { getSplitSummary, loadSplit } from '../../src/main/store/splits.ts';
import { loadUserMetrics } from '../../src/main/store/user-metrics.ts';
import { unpackTensors } from '../../src/main/train/checkpoint.ts';
import type { RunSummary } from '../../src/shared/types.ts';
import { cli } from './helpers.ts';

const tiny = ['dim=16', 'batchSize=32', 'maxlen=20', 'historyPool=40', 'evalEvery=5'].flatMap((s) => ['--set', s]);

describe('runs: tags, notes, search, sort, diff and exports', () => {
  let dir: string;
  let dbPath: string;
  let api: StudioService;
  let a: number;
  let b: number;
  let external: number;
  const run = (args: string[]) => cli([...args, '--db', dbPath]);
  const train = async (interests: number, seed: number) => {
    const r = await run(['train', '--dataset', 'kuairand-demo', '--model', 'mind', '--interests', String(interests), '--seed', String(seed), '--max-steps', '6', '--json', ...tiny]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { run: number }).run;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-runs-notes-'));
    dbPath = join(dir, 'studio.sqlite');
    const db = openDb(dbPath);
    await ensureDemoDataset(db);
    db.close();
    a = await train(2, 42);
    b = await train(4, 7);
    api = createApi({ dbPath });
    const first = await api.getRun(a);
    // Imported results, as import-results stores them: a finished run with metrics, no model.
    const store = openDb(dbPath);
    external = createExternalRun(store, { datasetId: first.datasetId, splitId: first.splitId, label: 'Outside system', source: '/data/lists.tsv', test: { 'recall@50': 0.1 } });
    store.close();
  });
  after(() => {
    api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores tags and a note, searches them (any case) with the model, label and set, and filters by tag', async () => {
    const tagged = await api.setRunTags(a, ['baseline', ' short budget ', 'baseline']);
    assert.deepEqual(tagged.tags, ['baseline', 'short budget'], 'trimmed, duplicates dropped, sorted');
    assert.equal((await api.setRunNote(b, 'Four interests; seed 7 diverges early')).note, 'Four interests; seed 7 diverges early');
    const ids = async (q: Parameters<StudioService['listRuns']>[0]) => (await api.listRuns(q)).map((r) => r.id);
    assert.deepEqual(await ids({ tag: 'baseline' }), [a]);
    assert.deepEqual(await ids({ search: 'BUDGET' }), [a], 'a tag, in another case');
    assert.deepEqual(await ids({ search: 'diverges' }), [b], 'the note');
    assert.deepEqual(await ids({ search: 'outside' }), [external], 'the label');
    assert.deepEqual(await ids({ search: 'mind' }), [a, b], 'the model');
    assert.deepEqual(await ids({ search: '%' }), [], 'LIKE wildcards are taken literally');
    assert.deepEqual(await api.runTags(), [{ tag: 'baseline', runs: 1 }, { tag: 'short budget', runs: 1 }]);
    await assert.rejects(api.setRunTags(a, ['a,b']), /comma/);
    await assert.rejects(api.setRunTags(999, ['x']), /no run with id 999/);
    // Kept in the store: another connection (the CLI) sees them.
    const listed = JSON.parse((await run(['runs', '--tag', 'short budget', '--json'])).stdout) as { run: number; tags: string[] }[];
    assert.deepEqual(listed.map((r) => [r.run, r.tags]), [[a, ['baseline', 'short budget']]]);
  });

  it('sorts by any column and by a metric, either way, runs without the value last', async () => {
    const all = await api.listRuns({});
    const bySeed = (await api.listRuns({ sort: 'seed' })).map((r) => r.seed);
    assert.deepEqual(bySeed, [...bySeed].sort((x, y) => x - y));
    const metric = (r: RunSummary) => r.valid?.['recall@50'];
    const desc = await api.listRuns({ sort: 'valid:recall@50', desc: true });
    const withValue = all.filter((r) => metric(r) !== undefined).sort((x, y) => metric(y)! - metric(x)!);
    assert.deepEqual(desc.map((r) => r.id), [...withValue.map((r) => r.id), external], 'the imported run has no validation value: last');
    const asc = await api.listRuns({ sort: 'valid:recall@50' });
    assert.deepEqual(asc.map((r) => r.id), [...withValue.reverse().map((r) => r.id), external]);
    const reply = await dispatch(api, 'listRuns', [{ sort: 'bogus' }]);
    assert.equal(reply.ok, false);
    assert.match(!reply.ok ? reply.error.message : '', /query\.sort must be id, dataset/);
    const cliOrder = JSON.parse((await run(['runs', '--sort', 'test:recall@50', '--desc', '--json'])).stdout) as { run: number }[];
    assert.deepEqual(cliOrder.map((r) => r.run), (await api.listRuns({ sort: 'test:recall@50', desc: true })).map((r) => r.id));
  });

  it('diffs two runs: exactly the config keys that differ, and the seed', async () => {
    const [ra, rb] = [await api.getRun(a), await api.getRun(b)];
    const diff = await api.diffRuns(a, b);
    const keys = Object.keys(ra.config).filter((k) => ra.config[k] !== rb.config[k]);
    assert.ok(keys.includes('interests'));
    assert.deepEqual(diff.differences, [
      { section: 'run', key: 'seed', a: 42, b: 7 },
      ...keys.sort().map((k) => ({ section: 'config', key: k, a: ra.config[k], b: rb.config[k] })),
    ]);
    assert.equal(diff.sameConfigKeys, Object.keys(ra.config).length - keys.length);
    assert.deepEqual((await api.diffRuns(a, a)).differences, []);
    const text = (await run(['runs', 'diff', String(a), String(b)])).stdout;
    assert.match(text, /run\.seed\s+42\s+7/);
    assert.match(text, /interests\s+2\s+4/);
  });

  it('exports the config as JSON: the split parameters and the complete config', async () => {
    const r = await api.getRun(a);
    const exported = await api.runConfig(a);
    const db = openDb(dbPath);
    const split = getSplitSummary(db, r.splitId);
    db.close();
    assert.deepEqual(exported.config, r.config);
    assert.deepEqual(exported.split, { id: r.splitId, ...split.params });
    assert.equal(exported.seed, 42);
    assert.equal(exported.model, 'mind');
    const viaCli = await run(['runs', 'config', String(a)]);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.deepEqual(JSON.parse(viaCli.stdout), exported);
  });

  it('exports the trained item embeddings: one row per split item, raw ids, the checkpoint values', async () => {
    const text = await api.exportEmbeddings(a);
    const [header, ...rows] = Papa.parse<string[]>(text.trim(), { delimiter: '\t' }).data;
    const r = await api.getRun(a);
    const dim = Number(r.config.dim);
    assert.deepEqual(header, ['raw_item_id', ...Array.from({ length: dim }, (_, j) => `v${j}`)]);
    const db = openDb(dbPath);
    const split = loadSplit(db, r.splitId);
    const item = unpackTensors(loadCheckpoint(db, a, 'best')!.tensors).item;
    const raws = db.prepare('SELECT iid, raw FROM items WHERE dataset_id = ?').all(r.datasetId) as { iid: number; raw: string }[];
    db.close();
    const rawOf = new Map(raws.map((x) => [x.iid, x.raw]));
    assert.equal(rows.length, split.numItems - 1, 'every item of the vocabulary, not the padding row');
    rows.forEach((row, i) => {
      assert.equal(row[0], rawOf.get(split.vocab[i + 1]));
      for (let j = 0; j < dim; j++) assert.equal(Math.fround(Number(row[j + 1])), item.data[(i + 1) * dim + j], `item ${row[0]} v${j}`);
    });
    const out = join(dir, 'emb.csv');
    const viaCli = await run(['export-embeddings', '--run', String(a), '--out', out]);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.equal(readFileSync(out, 'utf8'), await api.exportEmbeddings(a, 'csv'), 'the .csv extension picks CSV');
  });

  it('lists the inspector users by hit or miss, ordered by a metric, and finds one by raw id', async () => {
    const db = openDb(dbPath);
    const hits = loadUserMetrics(db, a, 'test', 'hitrate@50')!;
    const ndcg = loadUserMetrics(db, a, 'test', 'ndcg@20')!;
    const raws = new Map((db.prepare('SELECT uid, raw FROM users').all() as { uid: number; raw: string }[]).map((u) => [u.uid, u.raw]));
    const split = loadSplit(db, (await api.getRun(a)).splitId);
    db.close();
    const hitUids = new Set(Array.from(hits.users).filter((_, i) => hits.values[i] > 0));
    const all = await api.inspectableUsers(a, { limit: 10_000 });
    assert.equal(all.total, hits.users.length, 'every evaluated test-day user');
    assert.equal(all.metric, 'recall@50');
    assert.ok(all.metrics.includes('ndcg@20'));
    const hit = await api.inspectableUsers(a, { filter: 'hit', limit: 10_000 });
    const miss = await api.inspectableUsers(a, { filter: 'miss', limit: 10_000 });
    assert.ok(hit.total > 0 && miss.total > 0);
    assert.deepEqual(new Set(hit.users.map((u) => u.uid)), hitUids);
    assert.equal(hit.total + miss.total, all.total);
    assert.ok(miss.users.every((u) => u.hit === false && u.value === 0), 'a miss has recall 0');

    const sorted = await api.inspectableUsers(a, { metric: 'ndcg@20', sort: 'metric-desc', limit: 20 });
    assert.equal(sorted.users.length, 20);
    assert.equal(sorted.total, all.total);
    const best = [...ndcg.values].sort((x, y) => y - x).slice(0, 20);
    assert.deepEqual(sorted.users.map((u) => u.value), best, 'the top 20 by the stored per-user NDCG@20');

    const someone = all.users[7];
    const prefix = someone.raw.slice(0, 2);
    const searched = await api.inspectableUsers(a, { search: prefix, limit: 10_000 });
    assert.deepEqual(searched.users.map((u) => u.uid).sort(), all.users.filter((u) => u.raw.startsWith(prefix)).map((u) => u.uid).sort());

    assert.deepEqual(await api.findInspectUser(a, ` ${someone.raw} `), someone);
    await assert.rejects(api.findInspectUser(a, 'no-such-user'), /no user with raw id 'no-such-user' in dataset kuairand-demo/);
    const evaluated = new Set(all.users.map((u) => u.uid));
    const notEvaluated = split.users.find((uid) => !evaluated.has(uid));
    assert.ok(notEvaluated !== undefined, 'the split keeps users with no test-day positive');
    await assert.rejects(api.findInspectUser(a, raws.get(notEvaluated)!), /is in dataset kuairand-demo but not evaluated on the test day/);
    await assert.rejects(api.inspectableUsers(a, { metric: 'recall@7' }), /no per-user 'recall@7'/);
  });

  it('refuses re-run, resume, inspect and embedding export of imported results, with the reason', async () => {
    const why = /holds results imported from \/data\/lists\.tsv with import-results: there is no model to/;
    await assert.rejects(api.rerun(external), why);
    await assert.rejects(api.resumeRun(external), why);
    await assert.rejects(api.inspectableUsers(external), why);
    await assert.rejects(api.inspectUser(external, 1), why);
    await assert.rejects(api.exportEmbeddings(external), why);
    assert.equal((await api.listRuns({})).length, 3, 'nothing was queued');
    const resume = await run(['train', '--resume', String(external)]);
    assert.equal(resume.code, 1);
    assert.match(resume.stderr, why);
    const emb = await run(['export-embeddings', '--run', String(external), '--out', join(dir, 'x.tsv')]);
    assert.equal(emb.code, 1);
    assert.match(emb.stderr, why);
  });

  it('tags, untags and annotates from the CLI, and lists them', async () => {
    assert.equal((await run(['runs', 'tag', String(b), 'wide', 'seed-7'])).code, 0);
    assert.equal((await run(['runs', 'untag', String(a), 'baseline'])).code, 0);
    assert.equal((await run(['runs', 'note', String(a), 'kept as the reference'])).code, 0);
    assert.deepEqual((await api.getRun(b)).tags, ['seed-7', 'wide']);
    assert.deepEqual((await api.getRun(a)).tags, ['short budget']);
    const text = (await run(['runs', '--search', 'reference'])).stdout;
    assert.match(text, new RegExp(`^\\s*${a}\\s.*tags: short budget\\s+note: kept as the reference$`, 'm'));
    assert.equal(text.trim().split('\n').length, 1);
    assert.equal((await run(['runs', 'note', String(a), ''])).code, 0);
    assert.equal((await api.getRun(a)).note, '');
    const bad = await run(['runs', 'tag', 'x', 'y']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /expected a run id, got 'x'/);
  });

  it('drops a run\'s tags with the run', async () => {
    await api.deleteRun(b);
    assert.deepEqual(await api.runTags(), [{ tag: 'short budget', runs: 1 }]);
  });
});
