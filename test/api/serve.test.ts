// `cmi-studio serve` as a process: the upload limit from --max-upload, the upload folder a dead
// host left in the temp folder removed at start, its own removed when it stops.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseSize } from '../../src/main/cli/options.ts';
import { exchange } from './raw-http.ts';

describe('cmi-studio serve', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cmi-serve-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads upload sizes with binary units and refuses nonsense', () => {
    assert.equal(parseSize('1000'), 1000);
    assert.equal(parseSize('1K'), 1024);
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
    assert.equal(parseSize('20G'), 20 * 1024 ** 3);
    assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
    for (const bad of ['', '0', '-1', 'lots', '5X', '1e99']) assert.throws(() => parseSize(bad), /--max-upload expects a size/, bad);
  });

  it('applies --max-upload, sweeps a dead host\'s uploads at start and its own at stop', async () => {
    const temp = join(dir, 'tmp');
    mkdirSync(temp);
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid ?? 0));
    });
    const leftover = join(temp, `cmi-studio-uploads-${dead}-Qw12Er`);
    mkdirSync(join(leftover, 'b'), { recursive: true });
    writeFileSync(join(leftover, 'b', 'log.tsv'), 'user_id\tvideo_id\n');

    const child = spawn(process.execPath, ['bin/cmi-studio.mjs', 'serve', '--no-build', '--db', join(dir, 'studio.sqlite'), '--max-upload', '1K'], {
      env: { ...process.env, TMPDIR: temp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<URL>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += String(d);
          const line = /^(http:\/\/\S+)\n/m.exec(out);
          if (line) resolve(new URL(line[1]));
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
      });
      const port = Number(url.port);
      const token = url.searchParams.get('token') ?? '';
      assert.ok(!existsSync(leftover), 'the dead host\'s upload folder is gone');
      assert.match(stderr, new RegExp(`cmi-studio-uploads-${dead}-`), 'the sweep is logged');

      const upload = (size: number) =>
        exchange(
          port,
          [`POST /upload?batch=b&name=log.tsv HTTP/1.1`, `Host: 127.0.0.1:${port}`, `x-studio-token: ${token}`, `Content-Length: ${size}`, 'Connection: close', '', 'x'.repeat(Math.min(size, 100))].join('\r\n'),
        );
      const refused = await upload(5000);
      assert.match(refused, /^HTTP\/1\.1 413 /);
      assert.match(refused, /limit of 1 KiB/);
      const own = readdirSync(temp).filter((n) => n.startsWith('cmi-studio-uploads-'));
      assert.equal(own.length, 1, `the host made its own folder: ${own.join(', ')}`);
      assert.match(own[0], new RegExp(`^cmi-studio-uploads-${child.pid}-`));
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(readdirSync(temp).filter((n) => n.startsWith('cmi-studio-uploads-')), [], 'the host removed its upload folder when it stopped');
  });
});
