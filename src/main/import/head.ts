// The first lines of a file: delimiter, header and a few rows. Used to plan an import (check
// columns before any work is done) and by the import wizard's preview.
import { open } from 'node:fs/promises';
import { ImportError, fileOpenError } from './errors.ts';
import { fieldText } from './fields.ts';
import { detectDelimiter } from './presets.ts';
import { scanFile } from './scanner.ts';

export interface FileHead {
  path: string;
  delimiter: string;
  header: string[];
  /** Line of the header (blank lines before it are skipped). */
  headerLine: number;
  /** Up to the requested number of data rows, as text. */
  rows: string[][];
  /** The read stopped at `maxBytes` with rows still to come. */
  bytesCapped?: true;
}

/** Thrown from the scanner's chunk callback to stop a read at its byte budget. */
class ByteBudgetSpent extends Error {}

const SAMPLE = 64 << 10;

async function sampleText(path: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileOpenError(path, err);
  }
  try {
    const buf = Buffer.alloc(SAMPLE);
    const { bytesRead } = await fh.read(buf, 0, SAMPLE, 0);
    return buf.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '');
  } finally {
    await fh.close();
  }
}

/**
 * Reads the header and `rows` data rows. The delimiter is detected when not given. Header
 * names are trimmed; with `stripTypes`, RecBole's `name:type` becomes `name`. Empty or
 * duplicate header names are errors (the rule and the mapping refer to columns by name).
 */
export async function readHead(
  path: string,
  opts: { delimiter?: string; quoting: boolean; rows: number; stripTypes?: boolean; maxBytes?: number },
): Promise<FileHead> {
  const delimiter = opts.delimiter ?? detectDelimiter(await sampleText(path));
  const records: string[][] = [];
  let headerLine = 1;
  let bytesCapped = false;
  const maxBytes = opts.maxBytes ?? Infinity;
  const onChunk = (bytesRead: number) => {
    // Called after the chunk's records: only a read still short of its rows is cut.
    if (bytesRead > maxBytes && records.length <= opts.rows) throw new ByteBudgetSpent();
  };
  try {
    await scanFile(path, { delimiter, quoting: opts.quoting, chunkSize: SAMPLE, onChunk }, (rec) => {
      if (records.length === 0) headerLine = rec.line;
      const fields: string[] = [];
      for (let k = 0; k < rec.count; k++) fields.push(fieldText(rec.buf, rec.starts[k], rec.ends[k], rec.hasEscapes && rec.escaped[k] === 1));
      records.push(fields);
      return records.length <= opts.rows;
    });
  } catch (err) {
    if (!(err instanceof ByteBudgetSpent)) throw err;
    bytesCapped = true;
  }
  const raw = records.shift();
  if (!raw && bytesCapped) throw new ImportError(path, 1, 1, 'char', `no complete line in the first ${Math.round(maxBytes / 2 ** 20)} MiB (is this a delimited text file?)`);
  if (!raw) throw new ImportError(path, 1, 1, 'char', 'empty file: expected a header line');
  const header = raw.map((h) => {
    const name = h.trim();
    return opts.stripTypes && name.includes(':') ? name.slice(0, name.lastIndexOf(':')) : name;
  });
  const seen = new Map<string, number>();
  header.forEach((name, k) => {
    if (name === '') throw new ImportError(path, headerLine, k + 1, 'field', 'empty column name in the header');
    const before = seen.get(name);
    if (before !== undefined) throw new ImportError(path, headerLine, k + 1, 'field', `column '${name}' appears twice in the header (also field ${before + 1})`);
    seen.set(name, k);
  });
  return { path, delimiter, header, headerLine, rows: records, ...(bytesCapped ? { bytesCapped: true as const } : {}) };
}
