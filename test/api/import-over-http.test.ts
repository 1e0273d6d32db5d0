// The import through the browser host, as the wizard drives it: preview, defaults, live dry run
// with progress events on the WebSocket, the real import, cancel, and errors that keep their
// file:line:column across the transport.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ImportDefaults, Reply, StudioEvent } from '../../src/shared/api.ts';
import type { DatasetSummary, FilePreview, ImportRequest, ImportResult } from '../../src/shared/types.ts';
import { createApi, type StudioService } from '../../src/main/api.ts';
import { startHttpHost, type HttpHost } from '../../src/main/hosts/http.ts';

const SAMPLE = resolve('resources/sample/kuairand_likes_hates.tsv');

describe('import over the browser host', () => {
  let dir: string;
  let api: StudioService;
  let host: HttpHost;
  let ws: WebSocket;
  const events: StudioEvent[] = [];

  async function call<T>(method: string, ...args: unknown[]): Promise<Reply<T>> {
    const res = await fetch(`${host.origin}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-studio-token': host.token },
      body: JSON.stringify(args),
    });
    return (await res.json()) as Reply<T>;
  }

  async function ok<T>(method: string, ...args: unknown[]): Promise<T> {
    const reply = await call<T>(method, ...args);
    if (!reply.ok) assert.fail(`${method}: ${reply.error.message}`);
    return reply.result;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-import-http-'));
    api = createApi({ dbPath: join(dir, 'studio.sqlite') });
    host = await startHttpHost({ api, staticDir: dir });
    ws = new WebSocket(`ws://127.0.0.1:${host.port}/events?token=${host.token}`);
    ws.on('message', (data) => events.push(JSON.parse(String(data)) as StudioEvent));
    await new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j)));
  });

  after(async () => {
    ws.close();
    await host.close();
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('previews the sample and gives the preset defaults', async () => {
    const preview = await ok<FilePreview>('previewFile', SAMPLE, 5);
    assert.equal(preview.detectedPreset, 'kuairand');
    assert.equal(preview.delimiter, '\t');
    assert.equal(preview.rows.length, 5);
    assert.ok(preview.header.includes('label'));

    const defaults = await ok<ImportDefaults>('importDefaults', 'kuairand', [SAMPLE]);
    assert.equal(defaults.mapping.user, 'user_id');
    assert.equal(defaults.mapping.item, 'video_id');
    assert.deepEqual(defaults.columns, preview.header);
    assert.deepEqual(await ok('validateRule', defaults.rule, defaults.columns), { ok: true });
    const bad = await ok<{ ok: boolean; column?: number }>('validateRule', 'label = = 1', defaults.columns);
    assert.equal(bad.ok, false);
    assert.ok((bad.column ?? 0) > 0);
  });

  it('dry-runs with progress events tagged by job, then imports the same counts', async () => {
    const req: ImportRequest = { files: [SAMPLE], preset: 'kuairand', name: 'sample', dryRun: true };
    events.length = 0;
    const dry = await ok<ImportResult>('importDataset', req, 'dry-1');
    assert.equal(dry.dryRun, true);
    assert.equal(dry.datasetId, undefined);
    assert.equal(dry.rows, 41828);
    assert.ok(dry.interactions > 0 && dry.interactions < dry.rows);
    assert.deepEqual(await ok('listDatasets'), [], 'a dry run stores nothing');
    // The socket delivers asynchronously: wait until the job's progress has arrived.
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'import-progress'); i++) await new Promise((r) => setTimeout(r, 20));
    const progress = events.filter((e) => e.type === 'import-progress');
    assert.ok(progress.length > 0, 'progress events reach the socket');
    assert.ok(progress.every((e) => e.type === 'import-progress' && e.jobId === 'dry-1'));

    const real = await ok<ImportResult>('importDataset', { ...req, dryRun: false }, 'real-1');
    assert.equal(typeof real.datasetId, 'number');
    for (const k of ['rows', 'interactions', 'users', 'items', 'days'] as const) assert.equal(real[k], dry[k], k);
    const listed = await ok<DatasetSummary[]>('listDatasets');
    assert.deepEqual(listed.map((d) => [d.name, d.interactions]), [['sample', dry.interactions]]);
    const charts = await ok<{ perDay: { interactions: number }[]; items: number }>('datasetCharts', real.datasetId);
    assert.equal(charts.perDay.reduce((s, d) => s + d.interactions, 0), real.interactions);
    assert.equal(charts.items, real.items);
  });

  it('keeps file:line:column of a bad row in the error', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'user,item,day\n1,10,1\n2,11,x\n');
    const reply = await call('importDataset', { files: [bad], preset: 'csv', name: 'bad', map: { user: 'user', item: 'item', day: 'day' } }, 'bad-1');
    assert.equal(reply.ok, false);
    if (reply.ok) return;
    assert.equal(reply.error.file, bad);
    assert.equal(reply.error.line, 3);
    assert.equal(reply.error.column, 3);
    assert.match(reply.error.message, /bad\.csv:3:3/);
  });

  it('cancels a running import on request', async () => {
    const big = join(dir, 'big.csv');
    // Big enough (~30 MB) that the importer reads it in several chunks, checking for a cancel between them.
    const lines = ['user,item,day'];
    for (let i = 0; i < 2_000_000; i++) lines.push(`${i % 5000},${i % 7919},${1 + (i % 14)}`);
    writeFileSync(big, lines.join('\n') + '\n');
    events.length = 0;
    const firstProgress = new Promise<void>((resolveFirst) => {
      const onMessage = (data: WebSocket.RawData) => {
        const e = JSON.parse(String(data)) as StudioEvent;
        if (e.type === 'import-progress' && e.jobId === 'big-1') {
          ws.off('message', onMessage);
          resolveFirst();
        }
      };
      ws.on('message', onMessage);
    });
    const pending = call('importDataset', { files: [big], preset: 'csv', name: 'big', map: { user: 'user', item: 'item', day: 'day' } }, 'big-1');
    await firstProgress;
    assert.deepEqual(await call('cancelJob', 'big-1'), { ok: true });
    const reply = await pending;
    assert.equal(reply.ok, false);
    if (!reply.ok) assert.match(reply.error.message, /cancel/);
    assert.ok(!(await ok<DatasetSummary[]>('listDatasets')).some((d) => d.name === 'big'), 'nothing stored');
  });
});
