// The training worker's writes (curve points, checkpoints, run updates, metrics). Each is tried
// at once; while another process holds the write lock (an import can hold it for minutes) they
// wait here, in order, and training goes on. Every later call retries them, after a backoff, as
// one transaction, so a checkpoint and the run's step count land together.
import { ATTEMPT_MS, backoff, isBusy, sleep, withBusyTimeout } from './busy.ts';
import type { Db } from './db.ts';

interface Pending {
  key: string | undefined;
  write: () => void;
  done: (() => void) | undefined;
}

export interface WriteOptions {
  /** A queued write with the same key is replaced (a newer checkpoint supersedes the older). */
  key?: string;
  /** Called once the write is committed. */
  done?: () => void;
}

export class WriteQueue {
  private pending: Pending[] = [];
  private attempt = 0;
  private nextTry = 0;

  constructor(private readonly db: Db) {}

  /** Writes queued because the lock was taken. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Writes now if nothing is queued and the lock is free; queues otherwise. */
  write(write: () => void, opts: WriteOptions = {}): void {
    const entry: Pending = { key: opts.key, write, done: opts.done };
    const same = opts.key === undefined ? -1 : this.pending.findIndex((p) => p.key === opts.key);
    if (same >= 0) this.pending[same] = entry;
    else this.pending.push(entry);
    this.flush(this.pending.length === 1);
  }

  /**
   * Commits everything queued in one transaction. Between failed attempts it waits its backoff
   * (returns false at once) unless `now`. Errors other than a taken lock are thrown.
   */
  flush(now = false): boolean {
    if (!this.pending.length) return true;
    if (!now && Date.now() < this.nextTry) return false;
    const batch = this.pending;
    try {
      withBusyTimeout(this.db, ATTEMPT_MS, () => this.db.transaction(() => batch.forEach((p) => p.write())).immediate());
    } catch (err) {
      if (!isBusy(err)) throw err;
      this.nextTry = Date.now() + backoff(this.attempt++);
      return false;
    }
    this.pending = [];
    this.attempt = 0;
    for (const p of batch) p.done?.();
    return true;
  }

  /** Waits (without blocking the thread) until everything queued is committed. */
  async drain(): Promise<void> {
    while (!this.flush(true)) await sleep(backoff(this.attempt));
  }
}
