// createApi itself, the one implementation both hosts call: the dataset charts agree with the
// stored positives, the file browser lists folders first, and bad requests fail with a reason
// before they reach the store.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ComparisonTable } from '../../src/shared/api.ts';
import { createApi, type StudioService } from '../../src/main/api.ts';

const SAMPLE = resolve('resources/sample/kuairand_likes_hates.tsv');

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

  it('refuses a dataset id that is not an integer or not there', async () => {
    await assert.rejects(api.datasetCharts('1' as unknown as number), /dataset id must be an integer/);
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
    await assert.rejects(api.importDefaults('excel' as 'csv', [SAMPLE]), /unknown preset/);
  });

  it('rejects malformed training, comparison and export requests', async () => {
    await assert.rejects(api.compareRuns({ runIds: [], metrics: ['recall'], ks: [50], significance: 'none' }), /at least one run/);
    await assert.rejects(api.compareRuns({ runIds: [1], metrics: ['precision' as 'recall'], ks: [50], significance: 'none' }), /metrics must list/);
    await assert.rejects(api.compareRuns({ runIds: [12345], metrics: ['recall'], ks: [50], significance: 'none' }), /no run with id 12345/);
    const empty: ComparisonTable = { title: null, columns: [], rows: [], summary: [], significance: 'none', alpha: 0.05, digits: 4, focus: null, notes: [] };
    await assert.rejects(api.exportTable(empty, 'pdf' as 'md'), /format must be/);
    await assert.rejects(api.startTraining({ datasetId, model: 'cmi', config: {}, seeds: [1.5] }), /seed must be an integer/);
    await assert.rejects(api.startTraining({ datasetId, model: 'no-such-model', config: {}, seeds: [1] }), /unknown model 'no-such-model'/);
    assert.deepEqual(await api.listRuns({ datasetId }), [], 'a refused request creates no run');
    assert.deepEqual(await api.trainingQueue(), { active: [], queued: [], concurrency: 2 });
  });
});
