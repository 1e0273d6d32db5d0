// Dataset import: plan (check files, mapping and rule), stream the positives into the store in
// one transaction, number the days, store the id maps, build the index, commit. On any error or
// cancellation the transaction rolls back; a killed process leaves only uncommitted WAL frames,
// which SQLite ignores, so the store is exactly as before either way.
import { resolve } from 'node:path';
import type { ImportProgress, ImportRequest, ImportResult } from '../../shared/types.ts';
import type { Db } from '../store/db.ts';
import { beginImmediate } from '../store/busy.ts';
import { checkDatasetName, getDataset, insertDataset, setDatasetCounts } from '../store/datasets.ts';
import type { ItemImportResult } from '../../shared/attributes.ts';
import { ImportAbortedError } from './errors.ts';
import { attachItemAttributes } from './items.ts';
import { planImport, type ImportPlan } from './plan.ts';
import { readPositives, type PositiveBatch, type ReadResult } from './reader.ts';
import { DiskFullError, SpaceGuard, storeName } from './space.ts';
import { InteractionWriter } from './writer.ts';

export { ImportAbortedError, ImportError, RuleError } from './errors.ts';
export { detectPreset, presetRule } from './presets.ts';
export { checkRule, validateRule } from './rule.ts';
export { previewFile } from './preview.ts';

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

/** Bytes per stored interaction we expect at most from a file: decides index drop vs update. */
const BYTES_PER_POSITIVE = 50;
/** Page cache for the import: the inserted pages stay in memory until the commit. */
const IMPORT_CACHE_KIB = 256 << 10;

function counts(r: ReadResult): Omit<ImportResult, 'name' | 'dryRun' | 'seconds'> {
  const errors = r.errors.map((e) => ({ file: e.file, line: e.line, column: e.column, columnKind: e.columnKind, message: e.message }));
  return { rows: r.rows, interactions: r.interactions, users: r.usersRaw.length, items: r.itemsRaw.length, days: r.dayKeys.length, skipped: r.skipped, errors };
}

/** The store's own write failures (a full disk, an I/O error), told as such and naming the store. */
function storeError(db: Db, err: unknown): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return err;
  const where = storeName(db);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return new DiskFullError(where, code);
  if (code.startsWith('SQLITE_IOERR')) {
    return new Error(`cannot write to ${where} (${code}: ${(err as Error).message}); nothing was imported, the store is as it was`, { cause: err });
  }
  return err;
}

/**
 * Speed settings for the duration of the import, restored after. synchronous=OFF skips fsyncs
 * (a kill still rolls back: the commit record is what makes the rows visible); the big cache
 * keeps the pages in memory; two sorter threads build the index.
 */
function tuneForBulk(db: Db): () => void {
  const before = {
    synchronous: db.pragma('synchronous', { simple: true }) as number,
    cache_size: db.pragma('cache_size', { simple: true }) as number,
    threads: db.pragma('threads', { simple: true }) as number,
  };
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = -${IMPORT_CACHE_KIB}`);
  db.pragma('threads = 2');
  return () => {
    for (const [key, value] of Object.entries(before)) db.pragma(`${key} = ${value}`);
  };
}

async function write(db: Db, plan: ImportPlan, req: ImportRequest, opts: ImportOptions): Promise<ReadResult & { datasetId: number; itemAttributes?: ItemImportResult }> {
  const datasetId = insertDataset(db, {
    name: plan.name,
    preset: plan.preset,
    positiveRule: plan.rule.rule,
    timeKind: plan.timeKind,
    files: req.files.map((f) => resolve(f)),
    columns: plan.actions[0].header,
    keptColumns: plan.keep,
    mapping: plan.mapping,
  });
  const dropped = InteractionWriter.prepareIndex(db, plan.totalBytes / BYTES_PER_POSITIVE);
  const writer = new InteractionWriter(db, datasetId, plan.keep.length);
  const space = new SpaceGuard(db);
  const onBatch = (b: PositiveBatch): void => {
    writer.write(b);
    space.check();
  };
  const read = await readPositives(plan, { onBatch, onProgress: opts.onProgress, signal: opts.signal });
  if (read.interactions === 0) {
    if (read.goodRows === 0) throw new Error(`all ${read.rows} rows were skipped as malformed (first: ${read.errors[0]?.message}); nothing imported`);
    const skipped = read.rows - read.goodRows;
    throw new Error(`the positive rule \`${plan.rule.rule}\` matched none of the ${read.goodRows} rows${skipped ? ` (${skipped} skipped)` : ''}; nothing imported`);
  }
  // A cancel that arrives after the last read still wins, up to the commit.
  const checkAbort = (): void => {
    if (opts.signal?.aborted) throw new ImportAbortedError();
  };
  checkAbort();
  writer.numberDays(read.dayKeys, plan.timeKind === 'day');
  writer.writeIdMaps(read.usersRaw, read.itemsRaw);
  checkAbort();
  if (dropped) InteractionWriter.rebuildIndex(db);
  space.check();
  setDatasetCounts(db, datasetId, counts(read));
  checkAbort();
  // After the counts: the attribute import reports the dataset items without a row.
  const itemAttributes = plan.feedInfoPath ? await attachItemAttributes(db, { datasetId, file: plan.feedInfoPath }, plan.skipBadRows) : undefined;
  checkAbort();
  return { ...read, datasetId, ...(itemAttributes ? { itemAttributes } : {}) };
}

/**
 * Imports `req.files` as dataset `req.name`, or with `dryRun` only counts what it would import.
 * Throws ImportError (file:line:column) for bad input, RuleError for a bad rule, and
 * ImportAbortedError when `signal` fires; the store is unchanged in all three cases.
 */
export async function importDataset(db: Db, req: ImportRequest, opts: ImportOptions = {}): Promise<ImportResult> {
  const started = performance.now();
  const plan = await planImport({ ...req, name: checkDatasetName(req.name) });
  if (getDataset(db, plan.name)?.name === plan.name) throw new Error(`a dataset named '${plan.name}' already exists`);
  const seconds = (): number => (performance.now() - started) / 1000;

  if (req.dryRun) {
    const read = await readPositives(plan, opts);
    return { name: plan.name, dryRun: true, seconds: seconds(), ...counts(read) };
  }

  // Another import holds the write lock for its whole transaction: wait for it, saying so.
  const waiting: ImportProgress = { phase: 'waiting', file: req.files[0], bytesRead: 0, bytesTotal: plan.totalBytes, rows: 0, rowsPerSecond: 0, fraction: 0 };
  // The bulk settings go on outside any transaction (SQLite refuses synchronous inside one).
  let restore: (() => void) | undefined;
  try {
    const locked = await beginImmediate(db, {
      onWait: () => opts.onProgress?.(waiting),
      aborted: () => opts.signal?.aborted === true,
      beforeBegin: () => void (restore ??= tuneForBulk(db)),
    });
    if (!locked) throw new ImportAbortedError();
    try {
      const done = await write(db, plan, req, opts);
      db.exec('COMMIT');
      return { name: plan.name, dryRun: false, datasetId: done.datasetId, seconds: seconds(), ...counts(done), ...(done.itemAttributes ? { itemAttributes: done.itemAttributes } : {}) };
    } catch (err) {
      // SQLite may have rolled back already (SQLITE_FULL can end the transaction).
      if (db.inTransaction) db.exec('ROLLBACK');
      throw storeError(db, err);
    }
  } finally {
    restore?.();
  }
}
