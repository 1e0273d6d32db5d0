// What the UI may point the preview at: a FIFO, a socket, a device or a folder gets a clear
// error at once (a FIFO's open used to block a libuv thread for good; four of them stopped the
// host's file calls), and a huge file gives a bounded reply (rows capped, bytes read bounded).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { createApi, type StudioService } from '../../src/main/api.ts';
import { MAX_PREVIEW_BYTES, MAX_PREVIEW_ROWS } from '../../src/main/import/preview.ts';

/** Resolves with the promise's rejection, or fails when it settles otherwise or takes over 10 s. */
async function rejection(p: Promise<unknown>, what: string): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within 10 s (blocked?)`)), 10_000);
  });
  try {
    await Promise.race([p.then(() => assert.fail(`${what} should have been refused`)), hung]);
  } catch (err) {
    assert.ok(err instanceof Error, 'an Error');
    if (/did not answer|should have been refused/.test(err.message)) throw err;
    return err;
  } finally {
    clearTimeout(timer);
  }
  throw new Error('unreachable');
}

describe('previewFile on what is not a plain, small file', () => {
  let dir: string;
  let api: StudioService;
  let fifos: string[] = [];
  let socketServer: Server;
  let socketPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-preview-'));
    api = createApi({ dbPath: join(dir, 'studio.sqlite') });
    fifos = [0, 1, 2, 3, 4].map((i) => join(dir, `pipe${i}.tsv`));
    for (const f of fifos) execFileSync('mkfifo', [f]);
    socketPath = join(dir, 'listening.sock');
    socketServer = createServer().listen(socketPath);
    await once(socketServer, 'listening');
  });

  after(() => {
    // Release any reader the old code left blocked in open(), so the process can exit.
    for (const f of fifos) {
      try {
        closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    }
    socketServer.close();
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a FIFO at once, and five of them leave the host\'s file calls working', async () => {
    const errors = await Promise.all(fifos.map((f) => rejection(api.previewFile(f, 5), `previewFile(${f})`)));
    for (const err of errors) assert.match(err.message, /is a named pipe \(FIFO\), not a regular file/);
    assert.equal((errors[0] as Error & { code?: string }).code, 'not-a-file');
    // With libuv's four threads blocked these would hang.
    const listing = await api.listDir(dir);
    assert.ok(listing.entries.some((e) => e.name === 'studio.sqlite'), 'listDir still answers');
    writeFileSync(join(dir, 'small.tsv'), 'user_id\tvideo_id\n1\t2\n');
    const preview = await api.previewFile(join(dir, 'small.tsv'), 5);
    assert.deepEqual(preview.rows, [['1', '2']]);
  });

  it('refuses a FIFO in importDefaults too', async () => {
    const err = await rejection(api.importDefaults('kuairand', [fifos[0]]), 'importDefaults');
    assert.match(err.message, /named pipe/);
  });

  it('refuses a socket, a character device and a folder, naming what they are', async () => {
    assert.match((await rejection(api.previewFile(socketPath), 'socket')).message, /is a socket, not a regular file/);
    assert.match((await rejection(api.previewFile('/dev/null'), '/dev/null')).message, /is a character device, not a regular file/);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    assert.match((await rejection(api.previewFile(folder), 'folder')).message, /is a folder, not a regular file/);
  });

  it('caps the rows whatever it is asked, and says so', async () => {
    const path = join(dir, 'long.tsv');
    const lines = ['user_id\tvideo_id\tlabel'];
    for (let i = 0; i < 5000; i++) lines.push(`${i}\t${i * 7}\t1`);
    writeFileSync(path, lines.join('\n') + '\n');
    const preview = await api.previewFile(path, 5_000_000);
    assert.equal(preview.rows.length, MAX_PREVIEW_ROWS);
    assert.deepEqual(preview.rows[MAX_PREVIEW_ROWS - 1], [String(MAX_PREVIEW_ROWS - 1), String((MAX_PREVIEW_ROWS - 1) * 7), '1']);
    assert.equal(preview.capped?.by, 'rows');
    assert.match(preview.capped?.message ?? '', /first 1000 rows/);
    // Asked for no more than the file holds: nothing is capped.
    const all = await api.previewFile(path, 20);
    assert.equal(all.rows.length, 20);
    assert.equal(all.capped, undefined);
    const exact = join(dir, 'exact.tsv');
    writeFileSync(exact, lines.slice(0, MAX_PREVIEW_ROWS + 1).join('\n') + '\n');
    assert.equal((await api.previewFile(exact, 5_000_000)).capped, undefined, 'a file of exactly the limit is shown whole');
  });

  it('bounds the bytes read: a giant line after the header ends the preview there', async () => {
    const path = join(dir, 'giant.tsv');
    const out = createWriteStream(path);
    out.write('user_id\tvideo_id\n1\t2\n');
    const block = Buffer.alloc(1 << 20, 'x'.charCodeAt(0));
    for (let i = 0; i < (MAX_PREVIEW_BYTES >> 20) + 8; i++) out.write(block);
    out.end('\n3\t4\n');
    await once(out, 'close');
    const preview = await api.previewFile(path, 10);
    assert.deepEqual(preview.rows, [['1', '2']]);
    assert.equal(preview.capped?.by, 'bytes');
  });

  it('says a file whose first line exceeds the byte budget is not delimited text', async () => {
    const path = join(dir, 'one-line.bin');
    writeFileSync(path, Buffer.alloc(MAX_PREVIEW_BYTES + (4 << 20), 'y'.charCodeAt(0)));
    const err = await rejection(api.previewFile(path), 'one giant line');
    assert.match(err.message, /no complete line in the first 16 MiB/);
  });
});
