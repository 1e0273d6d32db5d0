// The browser host: token on every API call, upload and WebSocket; loopback Host and Origin
// only; the API served as POST /api/<method> with the same envelope as IPC; events streamed.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Reply, StudioEvent } from '../../src/shared/api.ts';
import { createApi, type StudioService } from '../../src/main/api.ts';
import { isLoopbackAddress, startHttpHost, type HttpHost } from '../../src/main/hosts/http.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch: fetch will not send a forged Host header. */
function raw(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('browser host (HTTP + WebSocket)', () => {
  let dir: string;
  let api: StudioService;
  let host: HttpHost;
  const listeners = new Set<(e: StudioEvent) => void>();
  const emit = (e: StudioEvent) => listeners.forEach((l) => l(e));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-http-'));
    const staticDir = join(dir, 'static');
    await import('node:fs/promises').then((fs) => fs.mkdir(staticDir));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>studio page</title>');
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    api = createApi({ dbPath: join(dir, 'studio.sqlite') });
    // The real service, with an event source the test can drive: the host must forward whatever
    // the service emits to every authorised socket.
    const service: StudioService = Object.assign(Object.create(api) as StudioService, {
      onEvent(l: (e: StudioEvent) => void) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
    host = await startHttpHost({ api: service, staticDir });
  });

  after(async () => {
    await host.close();
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: string, args: unknown[], headers: Record<string, string> = {}) =>
    raw(host.port, {
      method: 'POST',
      path: `/api/${method}`,
      headers: { 'content-type': 'application/json', host: `127.0.0.1:${host.port}`, ...headers },
      body: JSON.stringify(args),
    });

  it('prints a loopback address that carries the token', () => {
    assert.equal(host.url, `http://127.0.0.1:${host.port}/?token=${host.token}`);
    assert.ok(host.token.length >= 32);
  });

  it('keeps an idle keep-alive socket open past Node\'s 5 s default, so a reused socket is not reset', async () => {
    // A browser or undici reuses idle sockets; with Node's default the server closed them after
    // 5 s and a request racing that close failed with ECONNRESET (a flaky UI test showed it).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean; port: number | undefined }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: host.port, path: '/', agent, headers: { host: `127.0.0.1:${host.port}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, port: req.socket?.localPort }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const first = await get();
      await new Promise((r) => setTimeout(r, 6_000));
      const second = await get();
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.ok(second.reused, 'the second request reused the idle socket');
      assert.equal(second.port, first.port);
    } finally {
      agent.destroy();
    }
  });

  it('refuses API calls without the token or with a wrong one', async () => {
    const missing = await call('appInfo', []);
    assert.equal(missing.status, 401);
    assert.equal((JSON.parse(missing.body) as Reply<unknown>).ok, false);
    const wrong = await call('appInfo', [], { 'x-studio-token': host.token.slice(0, -1) + (host.token.endsWith('A') ? 'B' : 'A') });
    assert.equal(wrong.status, 401);
  });

  it('serves the API with the token', async () => {
    const res = await call('appInfo', [], { 'x-studio-token': host.token });
    assert.equal(res.status, 200);
    const reply = JSON.parse(res.body) as Reply<{ dbPath: string; schemaVersion: number }>;
    assert.ok(reply.ok);
    assert.equal(reply.result.dbPath, join(dir, 'studio.sqlite'));
    assert.ok(reply.result.schemaVersion >= 1);

    const runs = JSON.parse((await call('listRuns', [{}], { 'x-studio-token': host.token })).body) as Reply<unknown[]>;
    assert.deepEqual(runs, { ok: true, result: [] });
  });

  it('returns the core error in the envelope', async () => {
    const res = await call('getRun', [4242], { 'x-studio-token': host.token });
    const reply = JSON.parse(res.body) as Reply<unknown>;
    assert.equal(reply.ok, false);
    if (!reply.ok) assert.match(reply.error.message, /no run with id 4242/);
    const badArg = JSON.parse((await call('getRun', ['1; DROP TABLE runs'], { 'x-studio-token': host.token })).body) as Reply<unknown>;
    assert.equal(badArg.ok, false);
    if (!badArg.ok) assert.match(badArg.error.message, /run id must be an integer/);
  });

  it('exposes only the contract\'s methods', async () => {
    for (const name of ['close', 'onEvent', 'constructor', '__proto__', 'toString']) {
      const res = await call(name, [], { 'x-studio-token': host.token });
      assert.equal(res.status, 404, name);
      const reply = JSON.parse(res.body) as Reply<unknown>;
      assert.ok(!reply.ok && reply.error.code === 'unknown-method', name);
    }
  });

  it('refuses foreign Host headers (DNS rebinding) even with the token', async () => {
    const res = await call('appInfo', [], { 'x-studio-token': host.token, host: `evil.example:${host.port}` });
    assert.equal(res.status, 403);
    assert.match(res.body, /foreign Host/);
    const page = await raw(host.port, { path: '/', headers: { host: 'evil.example' } });
    assert.equal(page.status, 403);
    const localhost = await raw(host.port, { path: '/', headers: { host: `localhost:${host.port}` } });
    assert.equal(localhost.status, 200);
  });

  it('refuses cross-origin requests', async () => {
    const res = await call('appInfo', [], { 'x-studio-token': host.token, origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    assert.match(res.body, /foreign Origin/);
  });

  it('accepts loopback peers only', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(a), a);
    for (const a of ['192.168.1.5', '10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', undefined]) assert.ok(!isLoopbackAddress(a), String(a));
  });

  it('serves the page with a Content-Security-Policy, and nothing outside its folder', async () => {
    const page = await raw(host.port, { path: '/', headers: { host: `127.0.0.1:${host.port}` } });
    assert.equal(page.status, 200);
    assert.match(page.body, /studio page/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    const escape = await raw(host.port, { path: '/%2e%2e/secret.txt', headers: { host: `127.0.0.1:${host.port}` } });
    assert.equal(escape.status, 404);
    assert.doesNotMatch(escape.body, /not for the web/);
  });

  it('streams an upload to a server-side file, with the token only', async () => {
    const content = 'user_id\tvideo_id\n1\t2\n';
    const denied = await raw(host.port, { method: 'POST', path: '/upload?batch=b1&name=log.tsv', headers: { host: `127.0.0.1:${host.port}` }, body: content });
    assert.equal(denied.status, 401);
    const res = await raw(host.port, {
      method: 'POST',
      path: '/upload?batch=b1&name=..%2Flog.tsv',
      headers: { host: `127.0.0.1:${host.port}`, 'x-studio-token': host.token },
      body: content,
    });
    const reply = JSON.parse(res.body) as Reply<{ path: string }>;
    assert.ok(reply.ok);
    assert.match(reply.result.path, /b1[/\\]log\.tsv$/);
    assert.equal(readFileSync(reply.result.path, 'utf8'), content);
  });

  it('streams events to sockets that present the token, and refuses others', async () => {
    const base = `ws://127.0.0.1:${host.port}/events`;
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(base);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    assert.equal(refused, 401);

    const ws = new WebSocket(`${base}?token=${encodeURIComponent(host.token)}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const received = new Promise<StudioEvent>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)) as StudioEvent)));
    const event: StudioEvent = {
      type: 'train',
      event: { type: 'progress', runId: 3, step: 10, losses: { main: 1.5 }, stepsPerSecond: 2, seconds: 5, time: 0, etaSeconds: null },
    };
    emit(event);
    assert.deepEqual(await received, event);
    ws.close();
  });
});
