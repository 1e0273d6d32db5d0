// The import wizard's first look at a file: delimiter, header, preset guess and a few rows.
// It takes a path from the UI, so it must not hang on what is not a file (a FIFO's open waits
// for a writer and holds one of libuv's four threads; four of them stop every file call of the
// host) and must not load a huge file into a reply.
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { FilePreview } from '../../shared/types.ts';
import { readHead } from './head.ts';
import { PRESETS, detectPreset } from './presets.ts';

/** A preview shows at most this many rows, whatever it is asked. */
export const MAX_PREVIEW_ROWS = 1000;
/** ... and reads at most this many bytes (a file of one giant line must not load whole). */
export const MAX_PREVIEW_BYTES = 16 << 20;

function kindOf(info: Stats): string | null {
  if (info.isFile()) return null;
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function notAFile(path: string, kind: string): Error {
  return Object.assign(new Error(`${path} is ${kind}, not a regular file: only files can be previewed or imported`), { code: 'not-a-file', file: path });
}

/**
 * Refuses anything but a regular file, without blocking: stat first (no open of a device or a
 * pipe at all), then open non-blocking and check the handle too, for a path swapped meanwhile.
 */
export async function requireRegularFile(path: string): Promise<void> {
  const kind = kindOf(await stat(path));
  if (kind) throw notAFile(path, kind);
  const fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const again = kindOf(await fh.stat());
    if (again) throw notAFile(path, again);
  } finally {
    await fh.close();
  }
}

/** Reads the header and the first `rows` rows (at most MAX_PREVIEW_ROWS) of `path` and guesses its preset. */
export async function previewFile(path: string, rows = 20): Promise<FilePreview> {
  await requireRegularFile(path);
  const wanted = Math.max(0, rows);
  const limit = Math.min(wanted, MAX_PREVIEW_ROWS);
  // First with quoting (the safe guess for an unknown file), then with the detected preset's own
  // reading rules, which is how the import will read it.
  const probe = await readHead(path, { quoting: true, rows: 0, maxBytes: MAX_PREVIEW_BYTES });
  const preset = detectPreset(probe.header, path);
  const spec = PRESETS[preset];
  // One row past the limit tells whether the file has more than the preview shows.
  const head = await readHead(path, {
    delimiter: spec.delimiter ?? probe.delimiter,
    quoting: spec.quoting,
    rows: wanted > limit ? limit + 1 : limit,
    stripTypes: spec.stripTypes,
    maxBytes: MAX_PREVIEW_BYTES,
  });
  const preview: FilePreview = { file: path, detectedPreset: preset, delimiter: head.delimiter, header: head.header, rows: head.rows.slice(0, limit) };
  if (head.rows.length > limit) {
    preview.capped = { by: 'rows', limit, message: `showing the first ${limit} rows (the preview's limit)` };
  } else if (head.bytesCapped) {
    preview.capped = { by: 'bytes', limit: MAX_PREVIEW_BYTES, message: `showing the rows in the first ${MAX_PREVIEW_BYTES >> 20} MiB of the file (the preview's limit)` };
  }
  return preview;
}
