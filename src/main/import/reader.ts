// The streaming pass: reads feed_info.csv (when the rule needs it), then every interaction file
// record by record; checks each row, evaluates the positive rule, and hands the positives out in
// fixed-size batches of typed arrays with dense user/item ids (1..n in order of first
// appearance among positives). Memory stays bounded by the id maps and one batch.
import type { ImportPhase, ImportProgress } from '../../shared/types.ts';
import { ImportError } from './errors.ts';
import {
  dayOfTime,
  detectDayFormat,
  detectTimeFormat,
  fieldText,
  parseDayKey,
  parseNumber,
  parseTimeMs,
  type DayFormat,
  type TimeFormat,
} from './fields.ts';
import { DenseIds, IntKeyedNumbers } from './idmap.ts';
import { JOINED_COLUMN, type ImportPlan, type SourceFile } from './plan.ts';
import { scanFile, type FileRecord, type RecordHandler } from './scanner.ts';

export const BATCH_ROWS = 1 << 16;

/** Positive interactions, columns as typed arrays; rows [0, count) are valid. */
export interface PositiveBatch {
  count: number;
  user: Int32Array;
  item: Int32Array;
  /** Epoch ms, or the day key for day-only datasets. */
  time: Float64Array;
  /** Day key: calendar order, not yet numbered 1..h (see dayKeys). */
  day: Float64Array;
  seq: Float64Array;
  /** `kept` values per row, row-major. */
  feedback: Float64Array;
  kept: number;
}

export interface ReadResult {
  rows: number;
  interactions: number;
  usersRaw: string[];
  itemsRaw: string[];
  /** Distinct day keys of the positives, ascending: day index = position + 1. */
  dayKeys: number[];
}

export interface ReadOptions {
  /** Receives each full batch (and the last one); must consume it before returning. */
  onBatch?: (batch: PositiveBatch) => void;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

function newBatch(kept: number): PositiveBatch {
  return {
    count: 0,
    user: new Int32Array(BATCH_ROWS),
    item: new Int32Array(BATCH_ROWS),
    time: new Float64Array(BATCH_ROWS),
    day: new Float64Array(BATCH_ROWS),
    seq: new Float64Array(BATCH_ROWS),
    feedback: new Float64Array(BATCH_ROWS * kept),
    kept,
  };
}

function quote(rec: FileRecord, k: number): string {
  const text = rec.buf.toString('utf8', rec.starts[k], Math.min(rec.ends[k], rec.starts[k] + 40));
  return JSON.stringify(rec.ends[k] - rec.starts[k] > 40 ? `${text}…` : text);
}

class Reader {
  private readonly batch: PositiveBatch;
  private rows = 0;
  private interactions = 0;
  private readonly users = new DenseIds();
  private readonly items = new DenseIds();
  private readonly days = new Set<number>();
  private readonly videoSeconds = new IntKeyedNumbers();
  private dayFormat: DayFormat | undefined;
  private timeFormat: TimeFormat | undefined;
  private bytesBefore = 0;
  private readonly started = performance.now();
  private lastReport = 0;

  constructor(
    private readonly plan: ImportPlan,
    private readonly opts: ReadOptions,
  ) {
    this.batch = newBatch(plan.keep.length);
    this.dayFormat = plan.spec.dayFormat;
  }

  async run(): Promise<ReadResult> {
    const { plan } = this;
    if (plan.feedInfo) await this.scan(plan.feedInfo, this.feedInfoHandler(plan.feedInfo));
    for (const file of plan.actions) await this.scan(file, this.actionHandler(file));
    this.flush();
    this.report(plan.actions[plan.actions.length - 1].path, this.plan.totalBytes, 'finishing');
    return {
      rows: this.rows,
      interactions: this.interactions,
      usersRaw: this.users.raw,
      itemsRaw: this.items.raw,
      dayKeys: [...this.days].sort((a, b) => a - b),
    };
  }

  private async scan(file: SourceFile, handler: RecordHandler): Promise<void> {
    const onChunk = (bytes: number): void => {
      const now = performance.now();
      if (now - this.lastReport >= 100) {
        this.lastReport = now;
        this.report(file.path, this.bytesBefore + bytes, 'reading');
      }
    };
    await scanFile(file.path, { delimiter: file.delimiter, quoting: file.quoting, signal: this.opts.signal, onChunk }, handler);
    this.bytesBefore += file.bytes;
  }

  private report(file: string, bytesRead: number, phase: ImportPhase): void {
    if (!this.opts.onProgress) return;
    const seconds = (performance.now() - this.started) / 1000;
    this.opts.onProgress({
      phase,
      file,
      bytesRead,
      bytesTotal: this.plan.totalBytes,
      rows: this.rows,
      rowsPerSecond: seconds > 0 ? this.rows / seconds : 0,
      fraction: this.plan.totalBytes > 0 ? Math.min(1, bytesRead / this.plan.totalBytes) : 1,
    });
  }

  private flush(): void {
    if (this.batch.count === 0) return;
    this.opts.onBatch?.(this.batch);
    this.batch.count = 0;
  }

  private feedInfoHandler(file: SourceFile): RecordHandler {
    const ncols = file.header.length;
    const fi = file.header.indexOf('feedid');
    const vi = file.header.indexOf(JOINED_COLUMN);
    let header = true;
    return (rec) => {
      if (header) {
        header = false;
        return;
      }
      if (rec.count !== ncols) throw this.countError(file, rec, ncols);
      const b = rec.buf;
      const feed = parseNumber(b, rec.starts[fi], rec.ends[fi]);
      if (!Number.isInteger(feed)) throw this.fieldError(file, rec, fi, 'an integer id');
      const seconds = parseNumber(b, rec.starts[vi], rec.ends[vi]);
      if (Number.isNaN(seconds) && rec.starts[vi] !== rec.ends[vi]) throw this.fieldError(file, rec, vi, 'a number');
      this.videoSeconds.set(feed, seconds);
    };
  }

  private countError(file: SourceFile, rec: FileRecord, ncols: number): ImportError {
    return new ImportError(file.path, rec.line, Math.min(rec.count, ncols) + 1, 'field', `expected ${ncols} fields like the header, got ${rec.count}`);
  }

  private fieldError(file: SourceFile, rec: FileRecord, k: number, what: string): ImportError {
    const got = rec.starts[k] === rec.ends[k] ? 'an empty field' : quote(rec, k);
    return new ImportError(file.path, rec.line, k + 1, 'field', `expected ${what} in column '${file.header[k]}', got ${got}`);
  }

  private detectFormats(file: SourceFile, rec: FileRecord, di: number, ti: number): void {
    const text = (k: number): string => fieldText(rec.buf, rec.starts[k], rec.ends[k], rec.hasEscapes && rec.escaped[k] === 1);
    if (di >= 0 && this.dayFormat === undefined) {
      this.dayFormat = detectDayFormat(text(di));
      if (!this.dayFormat) throw this.fieldError(file, rec, di, 'a day (an integer, yyyymmdd or yyyy-mm-dd)');
    }
    if (ti >= 0 && this.timeFormat === undefined) {
      this.timeFormat = detectTimeFormat(text(ti));
      if (!this.timeFormat) throw this.fieldError(file, rec, ti, 'a time (epoch seconds or ms, or an ISO date-time)');
    }
  }

  /** The per-row work; everything the closure needs is hoisted into constants. */
  private actionHandler(file: SourceFile): RecordHandler {
    const { plan } = this;
    const h = file.header;
    const ncols = h.length;
    const ui = h.indexOf(plan.mapping.user);
    const ii = h.indexOf(plan.mapping.item);
    const ti = plan.mapping.time ? h.indexOf(plan.mapping.time) : -1;
    const di = plan.mapping.day ? h.indexOf(plan.mapping.day) : -1;
    const intIds = plan.spec.idKind === 'int';
    const ruleIdx = Int32Array.from(plan.rule.columns, (c) => (plan.joinsFeedInfo && c === JOINED_COLUMN ? -1 : h.indexOf(c)));
    const nr = ruleIdx.length;
    const keepIdx = Int32Array.from(plan.keep, (c) => h.indexOf(c));
    const nk = keepIdx.length;
    const row = new Float64Array(nr);
    const test = plan.rule.test;
    const videoSeconds = this.videoSeconds;
    const users = this.users;
    const items = this.items;
    const batch = this.batch;
    let header = true;
    let lastDay = NaN;

    return (rec) => {
      if (header) {
        header = false;
        return;
      }
      if (rec.count !== ncols) throw this.countError(file, rec, ncols);
      const b = rec.buf;
      const st = rec.starts;
      const en = rec.ends;
      this.rows++;

      let userNum = 0;
      let itemNum = 0;
      if (intIds) {
        userNum = parseNumber(b, st[ui], en[ui]);
        if (!Number.isInteger(userNum)) throw this.fieldError(file, rec, ui, 'an integer id');
        itemNum = parseNumber(b, st[ii], en[ii]);
        if (!Number.isInteger(itemNum)) throw this.fieldError(file, rec, ii, 'an integer id');
      } else {
        if (st[ui] === en[ui]) throw this.fieldError(file, rec, ui, 'a user id');
        if (st[ii] === en[ii]) throw this.fieldError(file, rec, ii, 'an item id');
      }

      if (this.dayFormat === undefined && di >= 0) this.detectFormats(file, rec, di, ti);
      if (this.timeFormat === undefined && ti >= 0) this.detectFormats(file, rec, di, ti);
      let day = 0;
      if (di >= 0) {
        day = parseDayKey(b, st[di], en[di], this.dayFormat as DayFormat);
        if (Number.isNaN(day)) throw this.fieldError(file, rec, di, `a day written as ${this.dayFormat}`);
      }
      let time: number;
      if (ti >= 0) {
        time = parseTimeMs(b, st[ti], en[ti], this.timeFormat as TimeFormat);
        if (Number.isNaN(time)) throw this.fieldError(file, rec, ti, `a time (${this.timeFormat})`);
        if (di < 0) day = dayOfTime(time);
      } else {
        time = day;
      }

      for (let k = 0; k < nr; k++) {
        const f = ruleIdx[k];
        if (f < 0) {
          row[k] = videoSeconds.get(itemNum);
          continue;
        }
        const s0 = st[f];
        const e0 = en[f];
        // Most rule columns are 0/1 flags: one digit, no call.
        const d = b[s0] - 48;
        if (e0 - s0 === 1 && d >= 0 && d <= 9) {
          row[k] = d;
          continue;
        }
        const v = parseNumber(b, s0, e0);
        // An empty cell is a missing value (NaN); anything else must be a number.
        if (v !== v && s0 !== e0) throw this.fieldError(file, rec, f, 'a number');
        row[k] = v;
      }
      if (!test(row)) return;

      const uid = intIds ? users.ofInt(userNum) : users.ofField(b, st[ui], en[ui], rec.hasEscapes && rec.escaped[ui] === 1);
      const iid = intIds ? items.ofInt(itemNum) : items.ofField(b, st[ii], en[ii], rec.hasEscapes && rec.escaped[ii] === 1);
      if (day !== lastDay) {
        this.days.add(day);
        lastDay = day;
      }

      const n = batch.count;
      batch.user[n] = uid;
      batch.item[n] = iid;
      batch.time[n] = time;
      batch.day[n] = day;
      batch.seq[n] = this.rows;
      for (let k = 0; k < nk; k++) {
        const f = keepIdx[k];
        const v = parseNumber(b, st[f], en[f]);
        if (v !== v && st[f] !== en[f]) throw this.fieldError(file, rec, f, 'a number');
        batch.feedback[n * nk + k] = v;
      }
      this.interactions++;
      batch.count = n + 1;
      if (batch.count === BATCH_ROWS) this.flush();
    };
  }
}

/** Streams the plan's files; positives go to `onBatch`. Throws ImportError on the first bad row. */
export function readPositives(plan: ImportPlan, opts: ReadOptions = {}): Promise<ReadResult> {
  return new Reader(plan, opts).run();
}
