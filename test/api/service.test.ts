// createApi itself, the one implementation both hosts call: the dataset charts agree with the
// stored positives, the file browser lists folders first, and bad requests fail with a reason
// before they reach the store.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ComparisonTable, DatasetCharts } from '../../src/shared/api.ts';
import { createApi, type StudioService } from '../../src/main/api.ts';
import { dispatch } from '../../src/main/hosts/dispatch.ts';
import { computeSplitStats } from '../../src/main/data/stats.ts';
import { openDb, type Db } from '../../src/main/store/db.ts';
import { loadSplit } from '../../src/main/store/splits.ts';
import { insertDataset, randomPositives, type Positive } from '../data/fixtures.ts';

const SAMPLE = resolve('resources/sample/kuairand_likes_hates.tsv');

/** The charts as plain whole-table SQL computes them (what the API did in one blocking go). */
function chartsBySql(db: Db, datasetId: number): Pick<DatasetCharts, 'perDay' | 'items'> & { lengths: number[]; popularity: number[] } {
  return {
    perDay: db
      .prepare('SELECT day, COUNT(*) AS interactions, COUNT(DISTINCT user) AS users FROM interactions WHERE dataset_id = ? GROUP BY day ORDER BY day')
      .all(datasetId) as DatasetCharts['perDay'],
    lengths: db.prepare('SELECT COUNT(*) FROM interactions WHERE dataset_id = ? GROUP BY user').pluck().all(datasetId) as number[],
    popularity: db.prepare('SELECT COUNT(*) AS n FROM interactions WHERE dataset_id = ? GROUP BY item ORDER BY n DESC').pluck().all(datasetId) as number[],
    items: db.prepare('SELECT COUNT(DISTINCT item) FROM interactions WHERE dataset_id = ?').pluck().get(datasetId) as number,
  };
}

describe('the API service', () => {
  let dir: string;
  let api: StudioService;
  let datasetId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-service-'));
    api = createApi({ dbPath: join(dir, 'studio.sqlite') });
    const imported = await api.importDataset({ files: [SAMPLE], preset: 'kuairand', name: 'sample' }, 'import-1');
    assert.ok(imported.datasetId);
    datasetId = imported.datasetId;
  });

  after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws the dataset charts from the stored positives', async () => {
    const d = await api.getDataset(datasetId);
    const charts = await api.datasetCharts(datasetId);
    assert.equal(charts.perDay.length, d.days);
    assert.equal(charts.perDay.reduce((s, p) => s + p.interactions, 0), d.interactions);
    assert.ok(charts.perDay.every((p, i) => i === 0 || p.day > charts.perDay[i - 1].day));
    assert.equal(charts.seqLengths.reduce((s, b) => s + b.users, 0), d.users);
    assert.ok(charts.seqLengths.every((b, i) => b.from <= b.to && (i === 0 || b.from === charts.seqLengths[i - 1].to + 1)));
    assert.equal(charts.items, d.items);
    // Under 2,000 items every rank is drawn: the counts add up and never increase.
    assert.equal(charts.itemPopularity.length, d.items);
    assert.equal(charts.itemPopularity.reduce((s, p) => s + p.count, 0), d.interactions);
    assert.ok(charts.itemPopularity.every((p, i) => i === 0 || p.count <= charts.itemPopularity[i - 1].count));
  });

  it('computes statistics in steps: other calls complete meanwhile, and the results match whole-table SQL', async () => {
    const db = openDb(join(dir, 'studio.sqlite'));
    // Some 100,000 positives: several chunks of reading.
    const big = insertDataset(db, 'big', randomPositives(11, 3000, 2500, 10, 66));
    try {
      const order: string[] = [];
      const charts = api.datasetCharts(big).then((c) => (order.push('charts'), c));
      const listed = api.listDatasets().then(() => order.push('listDatasets'));
      await Promise.all([charts, listed]);
      assert.deepEqual(order, ['listDatasets', 'charts'], 'another call completes before the charts return');

      const c = await charts;
      const ref = chartsBySql(db, big);
      assert.deepEqual(c.perDay, ref.perDay);
      assert.equal(c.items, ref.items);
      assert.equal(c.seqLengths.reduce((n, b) => n + b.users, 0), ref.lengths.length);
      for (const b of c.seqLengths) assert.equal(b.users, ref.lengths.filter((n) => n >= b.from && n <= b.to).length, `users with ${b.from}..${b.to} positives`);
      assert.ok(c.itemPopularity.length > 0 && c.itemPopularity.length <= 2000, 'log-spaced ranks');
      for (const p of c.itemPopularity) assert.equal(p.count, ref.popularity[p.rank - 1], `count at rank ${p.rank}`);
      assert.deepEqual(await api.datasetCharts(big), c, 'the cached charts are the computed ones');

      const split = await api.ensureSplit(big, {});
      const order2: string[] = [];
      const stats = api.splitStats(split.id).then((st) => (order2.push('splitStats'), st));
      const splits = api.listSplits(big).then(() => order2.push('listSplits'));
      await Promise.all([stats, splits]);
      assert.deepEqual(order2, ['listSplits', 'splitStats'], 'another call completes before the split statistics return');
      assert.deepEqual(await stats, computeSplitStats(loadSplit(db, split.id)), 'the same statistics as from the whole split in memory');
      assert.deepEqual(await api.splitStats(split.id), await stats, 'cached');

      await api.deleteDataset(big);
      assert.equal(db.prepare('SELECT count(*) FROM dataset_charts WHERE dataset_id = ?').pluck().get(big), 0, 'the cache goes with its dataset');
      assert.equal(db.prepare('SELECT count(*) FROM split_stats WHERE split_id = ?').pluck().get(split.id), 0, 'and with its split');
    } finally {
      db.close();
    }
  });

  it('refuses to queue training on a split without test users, saying why', async () => {
    const db = openDb(join(dir, 'studio.sqlite'));
    const positives: Positive[] = [];
    // Leave-last-out whose last two items per user occur nowhere else: out of the vocabulary.
    for (let u = 1; u <= 12; u++) {
      for (let k = 0; k < 6; k++) positives.push({ user: u, item: 1 + ((u + k) % 9), day: 1 + k, time: k + 1 });
      positives.push({ user: u, item: 500 + 2 * u, day: 7, time: 7 }, { user: u, item: 501 + 2 * u, day: 8, time: 8 });
    }
    const id = insertDataset(db, 'new-last-items', positives);
    db.close();
    await assert.rejects(
      api.startTraining({ datasetId: id, model: 'cmi', config: {}, seeds: [1], split: { kind: 'leave-last-out' } }),
      /0 validation and 0 test users of 12.*outside the training vocabulary.*Try a day or time-quantile split/s,
    );
    assert.deepEqual(await api.listRuns({ datasetId: id }), [], 'nothing queued');
    await api.deleteDataset(id);
  });

  it('checks a dataset name before importing, and reports a taken one plainly', async () => {
    const before = (await api.listDatasets()).length;
    const attempt = (name: string) => api.importDataset({ files: [SAMPLE], preset: 'kuairand', name }, `name-${name.length}`);
    await assert.rejects(attempt('x'.repeat(10_000)), /10000 characters long; at most 100/);
    await assert.rejects(attempt('two\nlines'), /control character \(U\+000A\) at character 4/);
    await assert.rejects(attempt('\u202Egnp.exe'), /control character \(U\+202E\) at character 1/);
    await assert.rejects(attempt('   '), /needs a name/);
    await assert.rejects(attempt('sample'), /a dataset named 'sample' already exists/);
    assert.equal((await api.listDatasets()).length, before, 'nothing imported');
    const trimmed = await attempt('  spaced  ');
    assert.equal(trimmed.name, 'spaced');
    assert.equal((await api.getDataset(trimmed.datasetId!)).name, 'spaced');
    await api.deleteDataset(trimmed.datasetId!);
  });

  /** A call as a host makes it: through dispatch(), which checks the arguments' shapes. */
  async function call(method: string, ...args: unknown[]): Promise<unknown> {
    const reply = await dispatch(api, method, args);
    if (!reply.ok) throw new Error(reply.error.message);
    return reply.result;
  }

  it('refuses a dataset id that is not an integer or not there', async () => {
    await assert.rejects(call('datasetCharts', '1'), /dataset id must be an integer/);
    await assert.rejects(api.getDataset(999), /no dataset with id 999/);
  });

  it('lists a folder with sub-folders first and a parent', async () => {
    const root = join(dir, 'browse');
    mkdirSync(join(root, 'b-dir'), { recursive: true });
    mkdirSync(join(root, 'z-dir'));
    writeFileSync(join(root, 'a.csv'), 'x\n');
    const listing = await api.listDir(root);
    assert.equal(listing.parent, dir);
    assert.deepEqual(listing.entries.map((e) => [e.name, e.kind, e.size]), [
      ['b-dir', 'dir', null],
      ['z-dir', 'dir', null],
      ['a.csv', 'file', 2],
    ]);
    assert.equal((await api.listDir('/')).parent, null);
  });

  it('gives the preset defaults, including the feed_info column WeChat rules may use', async () => {
    const wechat = join(dir, 'wechat');
    mkdirSync(wechat);
    writeFileSync(join(wechat, 'user_action.csv'), 'userid,feedid,date_,device,read_comment,comment,like,play,stay,click_avatar,forward,follow,favorite\n8,1,1,1,0,0,1,1000,1200,0,0,0,0\n');
    writeFileSync(join(wechat, 'feed_info.csv'), 'feedid,authorid,videoplayseconds\n1,5,10\n');
    const withFeed = await api.importDefaults('wechat', [join(wechat, 'feed_info.csv'), join(wechat, 'user_action.csv')]);
    assert.ok(withFeed.columns.includes('videoplayseconds'));
    assert.match(withFeed.rule, /videoplayseconds/);
    assert.deepEqual(await api.validateRule(withFeed.rule, withFeed.columns), { ok: true });
    const alone = await api.importDefaults('wechat', [join(wechat, 'user_action.csv')]);
    assert.doesNotMatch(alone.rule, /videoplayseconds/);
    assert.equal(alone.mapping.user, 'userid');
    await assert.rejects(call('importDefaults', 'excel', [SAMPLE]), /preset must be one of wechat, kuairand, csv, recbole, got "excel"/);
  });

  it('rejects malformed training, comparison and export requests', async () => {
    await assert.rejects(api.compareRuns({ runIds: [], metrics: ['recall'], ks: [50], significance: 'none' }), /at least one run/);
    await assert.rejects(call('compareRuns', { runIds: [1], metrics: ['bogus'], ks: [50], significance: 'none' }), /req\.metrics\[0\] must be one of/);
    await assert.rejects(api.compareRuns({ runIds: [1], metrics: [], ks: [50], significance: 'none' }), /at least one metric/);
    await assert.rejects(api.compareRuns({ runIds: [12345], metrics: ['recall'], ks: [50], significance: 'none' }), /no run with id 12345/);
    const empty: ComparisonTable = { title: null, columns: [], rows: [], summary: [], significance: 'none', alpha: 0.05, digits: 4, focus: null, notes: [] };
    await assert.rejects(call('exportTable', empty, 'pdf'), /format must be one of/);
    await assert.rejects(call('startTraining', { datasetId, model: 'cmi', config: {}, seeds: [1.5] }), /req\.seeds\[0\] must be an integer/);
    await assert.rejects(api.startTraining({ datasetId, model: 'no-such-model', config: {}, seeds: [1] }), /unknown model 'no-such-model'/);
    assert.deepEqual(await api.listRuns({ datasetId }), [], 'a refused request creates no run');
    assert.deepEqual(await api.trainingQueue(), { active: [], queued: [], concurrency: 2 });
  });
});
