// The streaming pass: reads feed_info.csv (when the rule needs it), then every interaction file
// record by record; checks each row, evaluates the positive rule, and hands the positives out in
// fixed-size batches of typed arrays with dense user/item ids (1..n in order of first
// appearance among positives). Memory stays bounded by the id maps and one batch. A bad row is
// an error, or with onError 'skip' a counted, skipped row (the first few errors are kept).
import { basename } from 'node:path';
import type { ImportPhase, ImportProgress } from '../../shared/types.ts';
import { ImportError } from './errors.ts';
import {
  BIG_ID,
  TIME_END_MS,
  dayOfTime,
  detectDayFormat,
  detectTimeFormat,
  fieldText,
  intIdText,
  parseDayKey,
  parseIntId,
  parseNumber,
  parseTimeMs,
  timeFloorMs,
  timeRangeReason,
  type DayFormat,
  type TimeFormat,
} from './fields.ts';
import { DenseIds, IntKeyedNumbers } from './idmap.ts';
import { JOINED_COLUMN, type ImportPlan, type SourceFile } from './plan.ts';
import { scanFile, type FileRecord, type RecordHandler } from './scanner.ts';

export const BATCH_ROWS = 1 << 16;
/** Skipped rows whose errors are reported (the rest are only counted). */
export const REPORTED_ERRORS = 10;

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
  /** Bad rows skipped, of all files (onError 'skip'; always 0 otherwise). */
  skipped: number;
  /** Interaction rows that passed every check (rows minus their skipped ones). */
  goodRows: number;
  /** The first REPORTED_ERRORS of them. */
  errors: ImportError[];
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
  /** Epoch-ms floor of the fixed time unit, and where the unit was fixed (file:line). */
  private timeFloor = 0;
  private timeFixedAt = '';
  private skipped = 0;
  private skippedRows = 0;
  /** Interaction rows are being read (not feed_info). */
  private inActions = false;
  private readonly errors: ImportError[] = [];
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
    this.inActions = true;
    for (const file of plan.actions) await this.scan(file, this.actionHandler(file));
    this.flush();
    this.report(plan.actions[plan.actions.length - 1].path, this.plan.totalBytes, 'finishing');
    return {
      rows: this.rows,
      interactions: this.interactions,
      usersRaw: this.users.raw,
      itemsRaw: this.items.raw,
      dayKeys: [...this.days].sort((a, b) => a - b),
      skipped: this.skipped,
      goodRows: this.rows - this.skippedRows,
      errors: this.errors,
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
    const opts = { delimiter: file.delimiter, quoting: file.quoting, signal: this.opts.signal, onChunk, expectBytes: file.bytes };
    await scanFile(file.path, opts, handler);
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

  /** A row-level data error: thrown, or with onError 'skip' counted (the row is dropped). */
  private reject(err: ImportError): void {
    if (!this.plan.skipBadRows) throw err;
    this.skipped++;
    if (this.inActions) this.skippedRows++;
    if (this.errors.length < REPORTED_ERRORS) this.errors.push(err);
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
      if (rec.count !== ncols) return this.reject(this.countError(file, rec, ncols));
      const b = rec.buf;
      const feed = parseIntId(b, rec.starts[fi], rec.ends[fi]);
      if (Number.isNaN(feed)) return this.reject(this.fieldError(file, rec, fi, 'an integer id'));
      const seconds = parseNumber(b, rec.starts[vi], rec.ends[vi]);
      if (Number.isNaN(seconds) && rec.starts[vi] !== rec.ends[vi]) return this.reject(this.fieldError(file, rec, vi, 'a number'));
      if (feed === BIG_ID) this.videoSeconds.setText(intIdText(b, rec.starts[fi], rec.ends[fi]), seconds);
      else this.videoSeconds.set(feed, seconds);
    };
  }

  private countError(file: SourceFile, rec: FileRecord, ncols: number): ImportError {
    return new ImportError(file.path, rec.line, Math.min(rec.count, ncols) + 1, 'field', `expected ${ncols} fields like the header, got ${rec.count}`);
  }

  private fieldError(file: SourceFile, rec: FileRecord, k: number, what: string): ImportError {
    const got = rec.starts[k] === rec.ends[k] ? 'an empty field' : quote(rec, k);
    return new ImportError(file.path, rec.line, k + 1, 'field', `expected ${what} in column '${file.header[k]}', got ${got}`);
  }

  /** Fixes the day and time formats from the first row that has them; the error when it cannot. */
  private detectFormats(file: SourceFile, rec: FileRecord, di: number, ti: number): ImportError | undefined {
    const text = (k: number): string => fieldText(rec.buf, rec.starts[k], rec.ends[k], rec.hasEscapes && rec.escaped[k] === 1);
    if (di >= 0 && this.dayFormat === undefined) {
      this.dayFormat = detectDayFormat(text(di));
      if (!this.dayFormat) return this.fieldError(file, rec, di, 'a day (an integer, yyyymmdd or yyyy-mm-dd)');
    }
    if (ti >= 0 && this.timeFormat === undefined) {
      this.timeFormat = detectTimeFormat(text(ti));
      if (!this.timeFormat) return this.fieldError(file, rec, ti, 'a time (epoch seconds or ms, or an ISO date-time)');
      this.timeFloor = timeFloorMs(this.timeFormat);
      this.timeFixedAt = `${basename(file.path)}:${rec.line}`;
      // A first value out of range must not fix the unit for the rows after it.
      const ms = parseTimeMs(rec.buf, rec.starts[ti], rec.ends[ti], this.timeFormat);
      if (!(ms >= this.timeFloor && ms < TIME_END_MS)) {
        const err = this.timeError(file, rec, ti, ms);
        this.timeFormat = undefined;
        return err;
      }
    }
    return undefined;
  }

  private timeError(file: SourceFile, rec: FileRecord, k: number, ms: number): ImportError {
    const format = this.timeFormat as TimeFormat;
    if (Number.isNaN(ms)) return this.fieldError(file, rec, k, `a time (${format})`);
    const reason = timeRangeReason(ms, format, this.timeFixedAt);
    return new ImportError(file.path, rec.line, k + 1, 'field', `time ${quote(rec, k)} in column '${file.header[k]}' ${reason}`);
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
      this.rows++;
      if (rec.count !== ncols) return this.reject(this.countError(file, rec, ncols));
      const b = rec.buf;
      const st = rec.starts;
      const en = rec.ends;

      let userNum = 0;
      let itemNum = 0;
      if (intIds) {
        userNum = parseIntId(b, st[ui], en[ui]);
        if (userNum !== userNum) return this.reject(this.fieldError(file, rec, ui, 'an integer id'));
        itemNum = parseIntId(b, st[ii], en[ii]);
        if (itemNum !== itemNum) return this.reject(this.fieldError(file, rec, ii, 'an integer id'));
      } else {
        if (st[ui] === en[ui]) return this.reject(this.fieldError(file, rec, ui, 'a user id'));
        if (st[ii] === en[ii]) return this.reject(this.fieldError(file, rec, ii, 'an item id'));
      }

      if ((this.dayFormat === undefined && di >= 0) || (this.timeFormat === undefined && ti >= 0)) {
        const err = this.detectFormats(file, rec, di, ti);
        if (err) return this.reject(err);
      }
      let day = 0;
      if (di >= 0) {
        day = parseDayKey(b, st[di], en[di], this.dayFormat as DayFormat);
        if (day !== day) return this.reject(this.fieldError(file, rec, di, `a day written as ${this.dayFormat}`));
      }
      let time: number;
      if (ti >= 0) {
        time = parseTimeMs(b, st[ti], en[ti], this.timeFormat as TimeFormat);
        // One comparison pair per row: NaN, another unit and an absurd date all fail it.
        if (!(time >= this.timeFloor && time < TIME_END_MS)) return this.reject(this.timeError(file, rec, ti, time));
        if (di < 0) day = dayOfTime(time);
      } else {
        time = day;
      }

      for (let k = 0; k < nr; k++) {
        const f = ruleIdx[k];
        if (f < 0) {
          row[k] = itemNum === BIG_ID ? videoSeconds.getText(intIdText(b, st[ii], en[ii])) : videoSeconds.get(itemNum);
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
        if (v !== v && s0 !== e0) return this.reject(this.fieldError(file, rec, f, 'a number'));
        row[k] = v;
      }
      if (!test(row)) return;

      // Kept values first: a row skipped for a bad one must not leave its ids behind.
      const n = batch.count;
      for (let k = 0; k < nk; k++) {
        const f = keepIdx[k];
        const v = parseNumber(b, st[f], en[f]);
        if (v !== v && st[f] !== en[f]) return this.reject(this.fieldError(file, rec, f, 'a number'));
        batch.feedback[n * nk + k] = v;
      }
      let uid: number;
      let iid: number;
      if (intIds) {
        uid = userNum === BIG_ID ? users.ofText(intIdText(b, st[ui], en[ui])) : users.ofInt(userNum);
        iid = itemNum === BIG_ID ? items.ofText(intIdText(b, st[ii], en[ii])) : items.ofInt(itemNum);
      } else {
        uid = users.ofField(b, st[ui], en[ui], rec.hasEscapes && rec.escaped[ui] === 1);
        iid = items.ofField(b, st[ii], en[ii], rec.hasEscapes && rec.escaped[ii] === 1);
      }
      if (day !== lastDay) {
        this.days.add(day);
        lastDay = day;
      }

      batch.user[n] = uid;
      batch.item[n] = iid;
      batch.time[n] = time;
      batch.day[n] = day;
      batch.seq[n] = this.rows;
      this.interactions++;
      batch.count = n + 1;
      if (batch.count === BATCH_ROWS) this.flush();
    };
  }
}

/**
 * Streams the plan's files; positives go to `onBatch`. Throws ImportError on the first bad row,
 * or (plan.skipBadRows) skips bad rows and reports them in the result.
 */
export function readPositives(plan: ImportPlan, opts: ReadOptions = {}): Promise<ReadResult> {
  return new Reader(plan, opts).run();
}
