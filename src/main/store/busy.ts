// Waiting for SQLite's write lock without failing the job and without blocking the thread.
// One writer at a time holds the lock (an import holds it for its whole transaction, minutes on
// a large file); everyone else waits here in short, asynchronous attempts instead of sitting in
// busy_timeout and then failing with "database is locked".
import type { Db } from './db.ts';

/** How long one attempt waits inside SQLite: covers the brief writes of other connections. */
export const ATTEMPT_MS = 50;
const MAX_BACKOFF_MS = 1000;

export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Delay before attempt `attempt + 1`: doubles from 25 ms up to 1 s. */
export function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 25 * 2 ** attempt);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` with the connection's busy timeout set to `ms`, then restores it. */
export function withBusyTimeout<T>(db: Db, ms: number, fn: () => T): T {
  const before = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${ms}`);
  try {
    return fn();
  } finally {
    db.pragma(`busy_timeout = ${before}`);
  }
}

export interface WaitOptions {
  /** Called once, when the first attempt finds the lock taken. */
  onWait?: () => void;
  /** Polled between attempts; true gives up (the caller was cancelled). */
  aborted?: () => boolean;
}

export interface BeginOptions extends WaitOptions {
  /** Called before each attempt, outside any transaction (settings SQLite refuses inside one). */
  beforeBegin?: () => void;
}

/**
 * BEGIN IMMEDIATE on `db`, waiting as long as another writer holds the lock: another
 * connection, or another job's transaction on this same connection (two imports in one host).
 * Resolves true once the transaction is open, false when aborted while waiting.
 */
export async function beginImmediate(db: Db, opts: BeginOptions = {}): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    if (opts.aborted?.()) return false;
    if (!db.inTransaction) {
      opts.beforeBegin?.();
      try {
        withBusyTimeout(db, ATTEMPT_MS, () => db.exec('BEGIN IMMEDIATE'));
        return true;
      } catch (err) {
        if (!isBusy(err)) throw err;
      }
    }
    if (attempt === 0) opts.onWait?.();
    await sleep(backoff(attempt));
  }
}

/** Runs the write `fn` in an IMMEDIATE transaction, retrying while another writer holds the lock. */
export async function writeWhenFree<T>(db: Db, fn: () => T, opts: WaitOptions = {}): Promise<T | undefined> {
  const tx = db.transaction(fn);
  for (let attempt = 0; ; attempt++) {
    if (opts.aborted?.()) return undefined;
    // Another job's open transaction on this connection (an import in the same host) is waited
    // for too: joining it would tie this write to that job's commit or rollback.
    if (!db.inTransaction) {
      try {
        return withBusyTimeout(db, ATTEMPT_MS, () => tx.immediate());
      } catch (err) {
        if (!isBusy(err)) throw err;
      }
    }
    if (attempt === 0) opts.onWait?.();
    await sleep(backoff(attempt));
  }
}
