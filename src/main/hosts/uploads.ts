// Where the browser host keeps dropped files, and how one upload is received. Each host owns one
// folder named `cmi-studio-uploads-<pid>-XXXXXX`: the pid in the name tells a live host's folder
// from one a crashed host left behind, with no window between creating the folder and marking
// it (a lock file written after mkdtemp would leave one). A new host removes the folders of dead
// pids; two hosts running at once never touch each other's.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, statfs, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const PREFIX = 'cmi-studio-uploads-';
const OWNED = /^cmi-studio-uploads-(\d+)-[A-Za-z0-9]{6}$/;

/** 20 GiB: far above any log the studio imports, well below a runaway or hostile stream. */
export const DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 ** 3;

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes upload folders under `parent` whose owning host is gone; returns their names. */
export async function sweepDeadUploads(parent: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const m = OWNED.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    // Another user's folder, or one removed meanwhile by a second new host: not ours to report.
    const gone = await rm(join(parent, name), { recursive: true, force: true }).then(() => true, () => false);
    if (gone) removed.push(name);
  }
  return removed;
}

/** Sweeps the dead hosts' folders, then makes this host's own. */
export async function createUploadRoot(parent: string): Promise<{ root: string; swept: string[] }> {
  const swept = await sweepDeadUploads(parent);
  return { root: await mkdtemp(join(parent, `${PREFIX}${process.pid}-`)), swept };
}

/** An upload refused for its size or the disk; the status is the HTTP answer. */
export class UploadRefused extends Error {
  constructor(
    readonly status: 413 | 507,
    message: string,
    readonly code: 'upload-too-large' | 'disk-full',
  ) {
    super(message);
  }
}

const GiB = 1024 ** 3;
const size = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.ceil(n / 1024)} KiB`);

function tooLarge(limit: number): UploadRefused {
  return new UploadRefused(413, `the upload is larger than the host's limit of ${size(limit)} (cmi-studio serve --max-upload)`, 'upload-too-large');
}

/** Counts bytes through the pipe and fails once past the limit (a chunked body states no size). */
class SizeLimit extends Transform {
  seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(tooLarge(this.limit));
    else done(null, chunk);
  }
}

/**
 * Streams the request body to `path`. Refuses up front a stated size over `limit` or over the
 * free space of the disk; stops a body that grows past `limit`. On any failure the partial file
 * is removed before the error is thrown. Returns the bytes written.
 */
export async function receiveUpload(req: IncomingMessage, path: string, limit: number): Promise<number> {
  const stated = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (stated !== null && stated > limit) throw tooLarge(limit);
  if (stated !== null) {
    // Cheap, and says "disk full" before the copy rather than after hours of it.
    const fs = await statfs(join(path, '..')).catch(() => null);
    const free = fs ? fs.bavail * fs.bsize : Infinity;
    if (stated > free) throw new UploadRefused(507, `not enough free disk space for the upload (${size(stated)} asked, ${size(free)} free)`, 'disk-full');
  }
  const counter = new SizeLimit(limit);
  try {
    await pipeline(req, counter, createWriteStream(path));
  } catch (err) {
    await unlink(path).catch(() => undefined);
    throw err;
  }
  return counter.seen;
}
