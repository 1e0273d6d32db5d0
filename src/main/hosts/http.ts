// The browser host: the same API as the Electron window, over HTTP (POST /api/<method>) and a
// WebSocket (/events), for a plain browser on this machine. It binds 127.0.0.1 only, refuses
// non-loopback peers and foreign Host headers (DNS rebinding), and wants a per-launch random
// token on every API call, upload and WebSocket, so other local pages and users cannot drive it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Reply } from '../../shared/api.ts';
import type { StudioService } from '../api.ts';
import { contentTypeOf } from './content-types.ts';
import { CONTENT_SECURITY_POLICY } from './csp.ts';
import { dispatch } from './dispatch.ts';
import { resolveStaticPath } from './static-path.ts';
import { createUploadRoot, DEFAULT_MAX_UPLOAD_BYTES, receiveUpload, UploadRefused } from './uploads.ts';

export const TOKEN_HEADER = 'x-studio-token';
const MAX_API_BODY = 8 * 1024 * 1024;

/** The page sends nothing on its socket; a peer that does gets cut off at this size. */
const MAX_WS_MESSAGE = 64 * 1024;

export function isLoopbackAddress(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export interface HttpHostOptions {
  api: StudioService;
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Fixed only in tests; a fresh random token otherwise. */
  token?: string;
  /** Largest accepted upload, in bytes (default 20 GiB). */
  maxUploadBytes?: number;
  /** Where the upload folder goes (default: the OS temp folder). */
  uploadParent?: string;
  /** Where the host reports what went wrong (a client's broken frame, a failed request). */
  log?: (line: string) => void;
}

export interface HttpHost {
  port: number;
  token: string;
  origin: string;
  /** The address to open: the origin with the token in the query. */
  url: string;
  close(): Promise<void>;
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(res: ServerResponse, status: number, body: Reply<unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, message: string, code: string): void {
  sendJson(res, status, { ok: false, error: { message, code } });
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startHttpHost(opts: HttpHostOptions): Promise<HttpHost> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const staticRoot = resolve(opts.staticDir);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const maxUpload = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const { root: uploadRoot, swept } = await createUploadRoot(opts.uploadParent ?? tmpdir());
  if (swept.length) log(`removed ${swept.length} upload folder(s) left by an earlier host that stopped: ${swept.join(', ')}`);
  // Node closes idle keep-alive sockets after 5 s; a client (a browser, undici's fetch) that
  // reuses one just as it closes gets ECONNRESET, which a busy event loop (an import or a
  // training worker's messages) makes likely. Loopback sockets are cheap: keep them a minute.
  // Node's default 5-minute limit on a whole request would cut a multi-GB upload to a slow
  // disk; the size limit bounds uploads instead, and headers still must arrive in time.
  const server = createServer({ keepAliveTimeout: 60_000, headersTimeout: 65_000, requestTimeout: 0 });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE });
  let port = 0;

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  /** The checks every request and upgrade passes: a loopback peer and our own Host. */
  function guard(req: IncomingMessage): { status: number; message: string; code: string } | null {
    if (!isLoopbackAddress(req.socket.remoteAddress)) return { status: 403, message: 'only loopback clients are served', code: 'forbidden-peer' };
    if (!allowedHosts().has(req.headers.host ?? '')) return { status: 403, message: 'foreign Host header', code: 'forbidden-host' };
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return { status: 403, message: 'foreign Origin', code: 'forbidden-origin' };
    return null;
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    let args: unknown;
    try {
      args = JSON.parse((await readBody(req, MAX_API_BODY)) || '[]');
    } catch (err) {
      refuse(res, 400, `bad request body: ${err instanceof Error ? err.message : String(err)}`, 'bad-request');
      return;
    }
    const reply = await dispatch(opts.api, method, args);
    sendJson(res, reply.ok || reply.error.code !== 'unknown-method' ? 200 : 404, reply);
  }

  /** Streams a dropped file to a temp folder; files of one drop (batch) share a folder, so a
   *  companion file (WeChat's feed_info.csv) sits beside the log as the importer expects. */
  async function handleUpload(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const batch = query.get('batch') ?? '';
    const name = basename(query.get('name') ?? '').replace(/[^\w.-]/g, '_');
    if (!/^[\w-]{1,64}$/.test(batch) || !name || name.startsWith('.')) {
      refuse(res, 400, 'upload needs ?batch=<id>&name=<file name>', 'bad-request');
      return;
    }
    const dir = join(uploadRoot, batch);
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    try {
      await receiveUpload(req, path, maxUpload);
    } catch (err) {
      if (!(err instanceof UploadRefused)) throw err;
      // The rest of the body is not read: answer, then close the connection it would arrive on.
      res.setHeader('connection', 'close');
      refuse(res, err.status, err.message, err.code);
      return;
    }
    sendJson(res, 200, { ok: true, result: { path } });
  }

  async function handleStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const file = resolveStaticPath(staticRoot, pathname);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      if (pathname === '/') {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`the renderer is not built (no ${file}); run \`npm run build\` or restart \`cmi-studio serve\``);
      } else res.writeHead(404).end();
      return;
    }
    const ext = extname(file);
    res.writeHead(200, {
      'content-type': contentTypeOf(file),
      'content-length': info.size,
      // The page is tiny and rebuilt often; hashed assets may be cached.
      'cache-control': ext === '.html' ? 'no-store' : 'max-age=3600',
    });
    if (req.method === 'HEAD') res.end();
    else await pipeline(createReadStream(file), res);
  }

  /** The request's URL, or null for a target `new URL` cannot parse (`GET http://[ HTTP/1.1`). */
  function target(req: IncomingMessage): URL | null {
    try {
      return new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return null;
    }
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    res.setHeader('x-content-type-options', 'nosniff');
    // The first page load carries the token in its query: keep it out of Referer headers.
    res.setHeader('referrer-policy', 'no-referrer');
    const denied = guard(req);
    if (denied) return refuse(res, denied.status, denied.message, denied.code);
    const url = target(req);
    if (!url) return refuse(res, 400, 'malformed request URL', 'bad-request');
    const handled = (async () => {
      const isApi = url.pathname.startsWith('/api/');
      if (isApi || url.pathname === '/upload') {
        if (req.method !== 'POST') return refuse(res, 405, 'use POST', 'method-not-allowed');
        const given = req.headers[TOKEN_HEADER];
        if (!sameToken(typeof given === 'string' ? given : null, token)) return refuse(res, 401, 'missing or wrong token', 'unauthorized');
        if (isApi) return handleApi(req, res, decodeURIComponent(url.pathname.slice('/api/'.length)));
        return handleUpload(req, res, url.searchParams);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed', 'method-not-allowed');
      return handleStatic(req, res, url.pathname);
    })();
    handled.catch((err: unknown) => {
      log(`request ${req.method} ${url.pathname} failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) refuse(res, 500, err instanceof Error ? err.message : String(err), 'internal');
      else res.destroy();
    });
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node hands the raw socket over without an error listener: a peer that resets it while
    // we answer would otherwise raise an unhandled 'error' and stop the host.
    socket.on('error', () => socket.destroy());
    const url = target(req);
    const denied = guard(req);
    const ok = !denied && url !== null && url.pathname === '/events' && sameToken(url.searchParams.get('token'), token);
    if (!ok) {
      const status = denied ? '403 Forbidden' : url === null ? '400 Bad Request' : '401 Unauthorized';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }

  // Whatever a client sends (a broken frame, a bad request line), an event handler must not
  // throw: an exception there would stop the host and every import and run it carries.
  const safely =
    <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        log(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
  server.on('request', safely('request', onRequest));
  server.on('upgrade', safely('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      onUpgrade(req, socket, head);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }));
  // A request Node cannot parse: answer 400 where the socket still takes it, as Node's default does.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const raw = socket as Socket;
    if (err.code !== 'ECONNRESET' && raw.writable && raw.bytesWritten === 0) raw.write('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    raw.destroy();
  });
  server.on('error', (err) => log(`browser host: ${err.message}`));
  // ws reports a peer's protocol errors (an unmasked frame, bad RSV bits, a reserved opcode, a
  // message over maxPayload) on the socket and closes it; unhandled, the error would stop the host.
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', (err) => {
      log(`event socket closed: ${err.message}`);
      ws.terminate();
    });
  });
  wss.on('error', (err) => log(`event sockets: ${err.message}`));

  const unsubscribe = opts.api.onEvent((event) => {
    const text = JSON.stringify(event);
    for (const client of wss.clients as Set<WebSocket>) if (client.readyState === client.OPEN) client.send(text, () => undefined);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    port,
    token,
    origin,
    url: `${origin}/?token=${token}`,
    async close() {
      unsubscribe();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(uploadRoot, { recursive: true, force: true });
    },
  };
}
