// Reads too heavy for one go on the host's thread (the statistics of a 2.6M-positive dataset
// take seconds) run as a series of small queries with a yield to the event loop between them,
// so every other API call goes on meanwhile; the result is cached in the store. Datasets and
// splits never change once stored, so a cached entry lives until its row is deleted (cascade).
import { isBusy, withBusyTimeout } from './busy.ts';
import type { Db } from './db.ts';

/** Rows one chunk reads: a few tens of milliseconds at most. */
export const CHUNK_ROWS = 20_000;

/** Item ids stay below 2^32 and day numbers below 2^21, so item + day * 2^32 is an exact
 *  double: one value per row, where a row array would cost twice the scan itself. */
export const DAY_SHIFT = 2 ** 32;

export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Cache kinds: each is one table keyed by the owning row's id. */
const TABLES = { charts: ['dataset_charts', 'dataset_id', 'charts'], splitStats: ['split_stats', 'split_id', 'stats'] } as const;
export type CacheKind = keyof typeof TABLES;

export function readCache<T>(db: Db, kind: CacheKind, id: number): T | undefined {
  const [table, key, col] = TABLES[kind];
  const json = db.prepare(`SELECT ${col} FROM ${table} WHERE ${key} = ?`).pluck().get(id) as string | undefined;
  return json === undefined ? undefined : (JSON.parse(json) as T);
}

/**
 * Stores a computed entry if the lock is free right now; a cache must never make its caller
 * wait for a long writer (an import) nor join another job's open transaction on this connection.
 */
export function writeCache(db: Db, kind: CacheKind, id: number, value: unknown): void {
  if (db.inTransaction) return;
  const [table, key, col] = TABLES[kind];
  try {
    withBusyTimeout(db, 0, () => db.prepare(`INSERT OR REPLACE INTO ${table} (${key}, ${col}) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM ${kind === 'charts' ? 'datasets' : 'splits'} WHERE id = ?)`).run(id, JSON.stringify(value), id));
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
}
