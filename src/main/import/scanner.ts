// A streaming reader of delimited text (CSV/TSV) that hands out each record as byte ranges of
// its read buffer: no string per field, no array per row. It reads the file in big chunks,
// carries a partial record over to the next chunk, and checks every byte once for binary data
// (NUL, invalid UTF-8) with Node's native validator. Quoted fields (RFC 4180: "" escapes,
// delimiters and newlines inside quotes) are handled when `quoting` is on; a line without a
// quote takes a tight byte loop. Records end at LF; a CR right before it is dropped; a file whose
// first chunk has CRs but no LF (old Mac line endings) has its records end at CR instead. A BOM
// at the start is skipped; blank lines are skipped. A file whose size or modification time
// changes while it is read is an error (a truncated last row would otherwise pass as a short row).
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { ImportAbortedError, ImportError, fileOpenError } from './errors.ts';

const LF = 10;
const CR = 13;
const QUOTE = 34;
const CHUNK = 4 << 20;
/** A record longer than this is an error rather than a reason to keep growing the buffer. */
const MAX_RECORD = 64 << 20;

/** One record of the file. Valid only during the onRecord callback: the buffer is reused. */
export class FileRecord {
  buf: Buffer = Buffer.alloc(0);
  /** Field k is buf[starts[k], ends[k]) (inside the quotes for a quoted field). */
  starts = new Int32Array(256);
  ends = new Int32Array(256);
  /** Field k was quoted and holds "" escapes (only meaningful when hasEscapes). */
  escaped = new Uint8Array(256);
  hasEscapes = false;
  count = 0;
  /** 1-based physical line on which the record starts. */
  line = 0;

  grow(): void {
    const n = this.starts.length * 2;
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    const escaped = new Uint8Array(n);
    starts.set(this.starts);
    ends.set(this.ends);
    escaped.set(this.escaped);
    this.starts = starts;
    this.ends = ends;
    this.escaped = escaped;
  }
}

export interface ScanOptions {
  /** Field delimiter, one ASCII character. */
  delimiter: string;
  /** Honour double quotes (CSV). Off for TSV layouts that never quote (KuaiRand, RecBole). */
  quoting: boolean;
  signal?: AbortSignal;
  /** After each chunk is parsed: bytes of the file read so far. */
  onChunk?: (bytesRead: number) => void;
  chunkSize?: number;
  /** The size the file had when the import was planned: a different size at open is an error. */
  expectBytes?: number;
}

/** Called per record; return false to stop reading (header or preview reads). */
export type RecordHandler = (rec: FileRecord) => boolean | void;

/** 1-based character position of byte `at` in the line starting at byte `lineStart`. */
function charColumn(buf: Buffer, lineStart: number, at: number): number {
  return [...buf.toString('utf8', lineStart, at)].length + 1;
}

/** Offset of the first NUL or invalid UTF-8 sequence in b (b is known to hold one). */
function firstBadByte(b: Buffer): number {
  const nul = b.indexOf(0);
  const limit = nul < 0 ? b.length : nul;
  let i = 0;
  while (i < limit) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    // Overlong forms, surrogates and code points above U+10FFFF are invalid too.
    if ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] > 0x9f)) return i;
    if ((c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] > 0x8f)) return i;
    i += n + 1;
  }
  return limit;
}

class Scanner {
  private buf: Buffer;
  private len = 0;
  /** Start of the first unconsumed record (always the start of a line). */
  private pos = 0;
  /** Line number at `pos`. */
  private line = 1;
  private eof = false;
  /** Bytes before this offset were checked for binary data. */
  private checked = 0;
  /** Offset of the first bad byte seen (NUL or invalid UTF-8), Infinity when none. */
  private badAt = Infinity;
  /** Offset of the next quote at or after `pos` (Infinity when none in the buffer). */
  private nextQuote = -1;
  private stopped = false;
  /** The record terminator: LF, or CR for a file with CR-only line endings. */
  private eol = LF;
  private readonly delim: number;
  private readonly rec = new FileRecord();

  constructor(
    private readonly path: string,
    private readonly opts: ScanOptions,
    private readonly onRecord: RecordHandler,
  ) {
    this.buf = Buffer.allocUnsafe(opts.chunkSize ?? CHUNK);
    this.delim = opts.delimiter.charCodeAt(0);
  }

  async run(): Promise<void> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      throw fileOpenError(this.path, err);
    }
    try {
      const before = await fh.stat();
      if (this.opts.expectBytes !== undefined && before.size !== this.opts.expectBytes) this.changed(this.opts.expectBytes, before.size);
      let filePos = 0;
      let first = true;
      while (!this.stopped) {
        this.compact();
        if (!this.eof) {
          if (this.len === this.buf.length) this.growBuffer();
          const { bytesRead } = await fh.read(this.buf, this.len, this.buf.length - this.len, filePos);
          if (this.opts.signal?.aborted) throw new ImportAbortedError();
          if (bytesRead === 0) {
            this.eof = true;
            // Checked before the last record is parsed: a cut-off row is not reported as a short row.
            const now = await fh.stat();
            if (filePos !== before.size || now.size !== before.size || now.mtimeMs !== before.mtimeMs) this.changed(before.size, now.size);
          }
          this.len += bytesRead;
          filePos += bytesRead;
        }
        if (first && (this.len >= 3 || this.eof)) {
          first = false;
          if (this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.pos = this.checked = 3;
          const head = this.buf.subarray(this.pos, this.len);
          if (head.indexOf(LF) < 0 && head.indexOf(CR) >= 0) this.eol = CR;
        }
        this.checkBinary();
        // -1: look for the next quote; Infinity: quotes are plain data.
        this.nextQuote = this.opts.quoting ? -1 : Infinity;
        this.parse();
        this.opts.onChunk?.(filePos);
        if (this.eof) break;
      }
    } finally {
      await fh.close();
    }
  }

  private changed(was: number, now: number): never {
    throw new Error(`${this.path}: the file changed while it was read (${was} bytes at first, ${now} bytes now); import it again once it is complete`);
  }

  private compact(): void {
    if (this.pos === 0) return;
    this.buf.copy(this.buf, 0, this.pos, this.len);
    this.len -= this.pos;
    this.checked -= this.pos;
    this.badAt -= this.pos;
    this.pos = 0;
  }

  private growBuffer(): void {
    if (this.buf.length >= MAX_RECORD) {
      const quote = this.opts.quoting ? this.buf.indexOf(QUOTE) : -1;
      if (quote >= 0 && quote < this.len) {
        this.fail(quote, 'unterminated quoted field (no closing quote within 64 MiB)');
      }
      this.fail(0, 'a line longer than 64 MiB (is this a delimited text file?)');
    }
    const bigger = Buffer.allocUnsafe(this.buf.length * 2);
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  /** Checks the newly read complete lines (a cut after LF never splits a UTF-8 sequence). */
  private checkBinary(): void {
    if (this.badAt !== Infinity) return;
    const end = this.eof ? this.len : this.buf.lastIndexOf(this.eol, this.len - 1) + 1;
    if (end <= this.checked) return;
    const region = this.buf.subarray(this.checked, end);
    if (region.indexOf(0) >= 0 || !isUtf8(region)) this.badAt = this.checked + firstBadByte(region);
    this.checked = end;
  }

  /** Raises an ImportError at byte `at`, which lies in the record starting at `pos`. */
  private fail(at: number, reason: string): never {
    let line = this.line;
    let lineStart = this.pos;
    for (let i = this.pos; i < at; i++) {
      if (this.buf[i] === this.eol) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new ImportError(this.path, line, charColumn(this.buf, lineStart, at), 'char', reason);
  }

  private failBinary(): never {
    const at = this.badAt;
    this.fail(at, this.buf[at] === 0 ? 'binary data: a NUL byte (is this a text file?)' : 'binary data: invalid UTF-8 (is this a text file in UTF-8?)');
  }

  /** Hands out every complete record in the buffer; leaves `pos` at the first incomplete one. */
  private parse(): void {
    const b = this.buf;
    const d = this.delim;
    const eol = this.eol;
    const len = this.len;
    const rec = this.rec;
    rec.buf = b;
    while (this.pos < len) {
      const pos = this.pos;
      if (this.opts.quoting && this.nextQuote < pos) {
        const q = b.indexOf(QUOTE, pos);
        this.nextQuote = q < 0 || q >= len ? Infinity : q;
      }
      const stop = Math.min(len, this.nextQuote);
      let n = 0;
      let fs = pos;
      let i = pos;
      let starts = rec.starts;
      let ends = rec.ends;
      for (; i < stop; i++) {
        const c = b[i];
        if (c === d) {
          if (n === starts.length - 1) {
            rec.grow();
            starts = rec.starts;
            ends = rec.ends;
          }
          starts[n] = fs;
          ends[n] = i;
          n++;
          fs = i + 1;
        } else if (c === eol) {
          break;
        }
      }
      if (i === this.nextQuote) {
        if (!this.parseQuoted()) return;
        if (this.stopped) return;
        continue;
      }
      if (i === len && !this.eof) return;
      if (i >= this.badAt) this.failBinary();
      let end = i;
      if (end > fs && b[end - 1] === CR) end--;
      if (n === 0 && end === pos) {
        // A blank line.
        this.pos = i + 1;
        this.line++;
        continue;
      }
      starts[n] = fs;
      ends[n] = end;
      rec.count = n + 1;
      rec.hasEscapes = false;
      rec.line = this.line;
      this.pos = i + 1;
      this.line++;
      if (this.onRecord(rec) === false) {
        this.stopped = true;
        return;
      }
    }
  }

  /**
   * The record at `pos` holds a quote: the careful, field-by-field path. Returns false when the
   * record is not complete in the buffer yet.
   */
  private parseQuoted(): boolean {
    const b = this.buf;
    const d = this.delim;
    const eol = this.eol;
    const crlf = eol === LF;
    const len = this.len;
    const eof = this.eof;
    const rec = this.rec;
    let i = this.pos;
    let n = 0;
    rec.hasEscapes = false;
    for (;;) {
      if (n === rec.starts.length - 1) rec.grow();
      let next: number;
      let fieldEnd: number;
      if (i < len && b[i] === QUOTE) {
        const open = i;
        let j = i + 1;
        let escaped = false;
        let close: number;
        for (;;) {
          const q = b.indexOf(QUOTE, j);
          if (q < 0 || q >= len) {
            if (!eof) return false;
            this.fail(open, 'unterminated quoted field (a " opens here and is never closed)');
          }
          if (q + 1 < len && b[q + 1] === QUOTE) {
            escaped = true;
            j = q + 2;
            continue;
          }
          if (q + 1 >= len && !eof) return false;
          close = q;
          break;
        }
        rec.starts[n] = open + 1;
        rec.ends[n] = close;
        rec.escaped[n] = escaped ? 1 : 0;
        if (escaped) rec.hasEscapes = true;
        const k = close + 1;
        if (crlf && k < len && b[k] === CR && k + 1 >= len && !eof) return false;
        if (k >= len || b[k] === eol || (crlf && b[k] === CR && (k + 1 >= len || b[k + 1] === LF))) {
          next = k >= len ? len : b[k] === eol ? k : k + 1;
          fieldEnd = -1;
        } else if (b[k] === d) {
          next = k;
          fieldEnd = -1;
        } else {
          this.fail(k, `unexpected character after a closing quote (expected the delimiter or the end of the line)`);
        }
      } else {
        // Unquoted field: a quote inside it is data, as in most CSV readers.
        let j = i;
        while (j < len && b[j] !== d && b[j] !== eol) j++;
        if (j === len && !eof) return false;
        fieldEnd = j;
        if (j < len && b[j] === eol && j > i && b[j - 1] === CR) fieldEnd = j - 1;
        else if (j === len && j > i && b[j - 1] === CR) fieldEnd = j - 1;
        rec.starts[n] = i;
        rec.ends[n] = fieldEnd;
        rec.escaped[n] = 0;
        next = j;
      }
      n++;
      if (next < len && b[next] === d) {
        i = next + 1;
        continue;
      }
      // End of the record: `next` is its LF (or the end of the file).
      if (next >= this.badAt) this.failBinary();
      rec.count = n;
      rec.line = this.line;
      for (let k = this.pos; k < next; k++) if (b[k] === eol) this.line++;
      this.line++;
      this.pos = next + 1;
      if (this.onRecord(rec) === false) this.stopped = true;
      return true;
    }
  }
}

/** Reads `path` record by record. Throws ImportError for structural problems (quotes, binary data). */
export async function scanFile(path: string, opts: ScanOptions, onRecord: RecordHandler): Promise<void> {
  await new Scanner(path, opts, onRecord).run();
}
