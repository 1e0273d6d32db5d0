// Nothing a client sends stops the browser host: broken WebSocket frames, unparsable request
// lines, garbage bytes. Uploads have a size limit (413, the partial file removed), and a new host
// removes the upload folders that crashed hosts left behind, never a live host's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Reply, StudioEvent } from '../../src/shared/api.ts';
import type { ImportResult } from '../../src/shared/types.ts';
import { createApi, type StudioService } from '../../src/main/api.ts';
import { startHttpHost, type HttpHost } from '../../src/main/hosts/http.ts';
import { exchange } from './raw-http.ts';

function handshake(port: number, path: string): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
}

const SAMPLE = resolve('resources/sample/kuairand_likes_hates.tsv');
const MASK = [0x11, 0x22, 0x33, 0x44];
const masked = (payload: number[]) => payload.map((b, i) => b ^ MASK[i % 4]);

/** Frames a client must never send; each broke the host before. */
const BAD_FRAMES: Record<string, Buffer> = {
  'an unmasked text frame': Buffer.from([0x81, 0x02, 0x68, 0x69]),
  'RSV bits set': Buffer.from([0xf1, 0x82, ...MASK, ...masked([0x68, 0x69])]),
  'a reserved opcode': Buffer.from([0x83, 0x82, ...MASK, ...masked([0x68, 0x69])]),
  'a length over the limit': Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, ...MASK]),
  'a length over 2^53': Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...MASK]),
};

describe('browser host under hostile input', () => {
  let dir: string;
  let uploads: string;
  let api: StudioService;
  let host: HttpHost;
  const logged: string[] = [];
  const listeners = new Set<(e: StudioEvent) => void>();
  const emit = (e: StudioEvent) => listeners.forEach((l) => l(e));
  // In `cmi-studio serve` an error that escapes an event handler stops the process; here the test
  // runner would catch it, so catch it first and fail the test that caused it.
  const escaped: string[] = [];
  const onEscape = (err: Error) => escaped.push(err.message);
  const nothingEscaped = () => assert.deepEqual(escaped.splice(0), [], 'no error escaped the host');

  before(async () => {
    process.on('uncaughtException', onEscape);
    dir = mkdtempSync(join(tmpdir(), 'cmi-hardening-'));
    uploads = join(dir, 'uploads');
    mkdirSync(uploads);
    api = createApi({ dbPath: join(dir, 'studio.sqlite') });
    const service: StudioService = Object.assign(Object.create(api) as StudioService, {
      onEvent(l: (e: StudioEvent) => void) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
    host = await startHttpHost({ api: service, staticDir: dir, uploadParent: uploads, maxUploadBytes: 4096, log: (l) => logged.push(l) });
  });

  after(async () => {
    process.off('uncaughtException', onEscape);
    await host.close();
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function appInfoWorks(): Promise<void> {
    const res = await fetch(`${host.origin}/api/appInfo`, { method: 'POST', headers: { 'x-studio-token': host.token }, body: '[]' });
    const reply = (await res.json()) as Reply<{ dbPath: string }>;
    assert.ok(reply.ok, 'the API still answers');
    nothingEscaped();
  }

  async function eventsStillFlow(): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/events?token=${encodeURIComponent(host.token)}`);
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    const received = new Promise<StudioEvent>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)) as StudioEvent)));
    const event: StudioEvent = { type: 'import-progress', jobId: 'j', progress: { file: 'f.tsv', bytesRead: 1, bytesTotal: 2, rows: 3, rowsPerSecond: 4, fraction: 0.5 } };
    emit(event);
    assert.deepEqual(await received, event);
    ws.close();
  }

  for (const [what, frame] of Object.entries(BAD_FRAMES)) {
    it(`survives a WebSocket frame with ${what}, and keeps serving the API and other sockets`, async () => {
      const watcher = new WebSocket(`ws://127.0.0.1:${host.port}/events?token=${encodeURIComponent(host.token)}`);
      await new Promise<void>((resolve, reject) => (watcher.once('open', () => resolve()), watcher.once('error', reject)));
      const reply = await exchange(host.port, handshake(host.port, `/events?token=${encodeURIComponent(host.token)}`), { afterHandshake: frame });
      assert.match(reply, /^HTTP\/1\.1 101 /, 'the handshake succeeded before the bad frame');
      // The host closes the offender with a protocol-error close frame (0x88) or just drops it.
      await appInfoWorks();
      const onWatcher = new Promise<StudioEvent>((resolve) => watcher.once('message', (d) => resolve(JSON.parse(String(d)) as StudioEvent)));
      const event: StudioEvent = { type: 'train', event: { type: 'progress', runId: 1, step: 2, losses: { main: 1 }, stepsPerSecond: 1, seconds: 2, time: 0, etaSeconds: null } };
      emit(event);
      assert.deepEqual(await onWatcher, event, 'a socket opened before the bad frame still gets events');
      watcher.close();
      await eventsStillFlow();
    });
  }

  it('finishes an import that runs while a client sends broken frames', async () => {
    const running = fetch(`${host.origin}/api/importDataset`, {
      method: 'POST',
      headers: { 'x-studio-token': host.token },
      body: JSON.stringify([{ files: [SAMPLE], preset: 'kuairand', name: 'sample', dryRun: true }, 'dry-under-fire']),
    }).then((r) => r.json() as Promise<Reply<ImportResult>>);
    await Promise.all(
      Object.values(BAD_FRAMES).map((frame) => exchange(host.port, handshake(host.port, `/events?token=${encodeURIComponent(host.token)}`), { afterHandshake: frame })),
    );
    const reply = await running;
    assert.ok(reply.ok, `the import finished: ${reply.ok ? '' : reply.error.message}`);
    assert.equal(reply.result.rows, 41828);
    nothingEscaped();
  });

  it('answers 400 to a request line whose URL cannot be parsed, plain or as an upgrade', async () => {
    const plain = await exchange(host.port, `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nConnection: close\r\n\r\n`);
    assert.match(plain, /^HTTP\/1\.1 400 /);
    const upgrade = await exchange(host.port, handshake(host.port, 'http://['));
    assert.match(upgrade, /^HTTP\/1\.1 400 /);
    await appInfoWorks();
    await eventsStillFlow();
  });

  it('answers 400 to bytes that are not HTTP at all', async () => {
    const reply = await exchange(host.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
    assert.match(reply, /^HTTP\/1\.1 400 /);
    await appInfoWorks();
  });

  const uploadRequest = (head: string[], body: string) =>
    [`POST /upload?batch=b&name=log.tsv HTTP/1.1`, `Host: 127.0.0.1:${host.port}`, `x-studio-token: ${host.token}`, ...head, '', body].join('\r\n');
  const hostFolder = () => {
    const mine = readdirSync(uploads).filter((n) => n.startsWith(`cmi-studio-uploads-${process.pid}-`));
    assert.equal(mine.length, 1, `one upload folder for this host, got ${mine.join(', ')}`);
    return join(uploads, mine[0]);
  };

  it('refuses an upload whose stated size is over the limit with 413, writing nothing', async () => {
    const reply = await exchange(host.port, uploadRequest(['Content-Length: 5000', 'Connection: close'], 'x'.repeat(100)));
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.match(reply, /upload-too-large/);
    assert.ok(!existsSync(join(hostFolder(), 'b', 'log.tsv')), 'no file for a refused upload');
    await appInfoWorks();
  });

  it('stops a chunked upload that grows past the limit with 413 and removes the partial file', async () => {
    const chunk = 'y'.repeat(1500);
    const body = [1, 2, 3, 4].map(() => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
    const reply = await exchange(host.port, uploadRequest(['Transfer-Encoding: chunked'], body));
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.ok(!existsSync(join(hostFolder(), 'b', 'log.tsv')), 'the partial file is gone');
    await appInfoWorks();
  });

  it('still takes an upload within the limit', async () => {
    const content = 'user_id\tvideo_id\n1\t2\n';
    const res = await fetch(`${host.origin}/upload?batch=ok&name=log.tsv`, { method: 'POST', headers: { 'x-studio-token': host.token }, body: content });
    const reply = (await res.json()) as Reply<{ path: string }>;
    assert.ok(reply.ok, 'a small upload is accepted');
    assert.equal(reply.result.path, join(hostFolder(), 'ok', 'log.tsv'));
  });
});

describe('upload limits and leftovers', () => {
  let dir: string;
  let api: StudioService;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-uploads-'));
    api = createApi({ dbPath: join(dir, 'studio.sqlite') });
  });

  after(() => {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says the disk is too full for an upload larger than the free space (507)', async () => {
    const host = await startHttpHost({ api, staticDir: dir, uploadParent: dir, maxUploadBytes: Number.MAX_SAFE_INTEGER, log: () => undefined });
    try {
      const request = [
        'POST /upload?batch=b&name=big.tsv HTTP/1.1',
        `Host: 127.0.0.1:${host.port}`,
        `x-studio-token: ${host.token}`,
        `Content-Length: ${2 ** 52}`,
        '',
        'abc',
      ].join('\r\n');
      const reply = await exchange(host.port, request);
      assert.match(reply, /^HTTP\/1\.1 507 /);
      assert.match(reply, /free disk space/);
    } finally {
      await host.close();
    }
  });

  it('removes the upload folders of hosts that died, and keeps those of live ones', async () => {
    const parent = join(dir, 'tmp');
    mkdirSync(parent);
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid ?? 0));
    });
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const deadFolder = join(parent, `cmi-studio-uploads-${dead}-aB3dE9`);
      const liveFolder = join(parent, `cmi-studio-uploads-${live.pid}-Zz09aa`);
      const otherFolder = join(parent, 'cmi-studio-something-else');
      for (const f of [deadFolder, liveFolder, otherFolder]) {
        mkdirSync(join(f, 'batch'), { recursive: true });
        writeFileSync(join(f, 'batch', 'log.tsv'), 'a\tb\n');
      }
      const logged: string[] = [];
      const first = await startHttpHost({ api, staticDir: dir, uploadParent: parent, log: (l) => logged.push(l) });
      // A second host beside the first (same pid here, as two hosts in one process) keeps its folder.
      const second = await startHttpHost({ api, staticDir: dir, uploadParent: parent, log: () => undefined });
      try {
        assert.ok(!existsSync(deadFolder), 'the dead host\'s uploads are removed');
        assert.ok(existsSync(join(liveFolder, 'batch', 'log.tsv')), 'a live host\'s uploads stay');
        assert.ok(existsSync(otherFolder), 'folders that are not upload folders stay');
        assert.ok(logged.some((l) => l.includes(`cmi-studio-uploads-${dead}-`)), 'the sweep is logged');
        const mine = readdirSync(parent).filter((n) => n.startsWith(`cmi-studio-uploads-${process.pid}-`));
        assert.equal(mine.length, 2, 'both hosts have their folder');
      } finally {
        await second.close();
        await first.close();
      }
      assert.deepEqual(readdirSync(parent).filter((n) => n.startsWith(`cmi-studio-uploads-${process.pid}-`)), [], 'a host removes its own folder when it stops');
    } finally {
      live.kill();
    }
  });
});
