// A full disk reaches SQLite only when it writes dirty pages out: with the import's 256 MiB
// page cache that is often the COMMIT, after the whole file was read. So after each batch the
// pages the transaction has added are compared with the room the store's disk had when the
// import began (free space plus the existing WAL, whose frames can be reused), and the import
// stops as soon as they cannot fit. Every estimate here errs towards "fits": pages that are
// changed rather than added are not counted, so this never refuses an import that would fit;
// SQLite's own SQLITE_FULL still catches the rest.
import { existsSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Db } from '../store/db.ts';

/** Where a store lives, for messages: its resolved path, or "the in-memory store". */
export function storeName(db: Db): string {
  return db.memory || db.name === '' ? 'the in-memory store' : resolve(db.name);
}

export class DiskFullError extends Error {
  constructor(where: string, detail: string) {
    super(`the disk is full: cannot write to ${where} (${detail}); nothing was imported, the store is as it was`);
    this.name = 'DiskFullError';
  }
}

const MB = 1 << 20;

export class SpaceGuard {
  private readonly pageSize: number;
  private readonly startPages: number;
  /** Bytes the transaction may add; Infinity when unknown (in-memory store, no statfs). */
  private readonly room: number;

  /** `freeBytes` gives the free space of the store's disk (statfs unless a test says otherwise). */
  constructor(
    private readonly db: Db,
    freeBytes: (dir: string) => number = (dir) => {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
  ) {
    this.pageSize = db.pragma('page_size', { simple: true }) as number;
    this.startPages = db.pragma('page_count', { simple: true }) as number;
    let room = Infinity;
    if (!db.memory && db.name !== '') {
      const path = resolve(db.name);
      try {
        const wal = `${path}-wal`;
        room = freeBytes(dirname(path)) + (existsSync(wal) ? statSync(wal).size : 0);
      } catch {
        room = Infinity;
      }
    }
    this.room = room;
  }

  /** Throws DiskFullError when the pages added so far cannot be written out any more. */
  check(): void {
    if (this.room === Infinity) return;
    const added = ((this.db.pragma('page_count', { simple: true }) as number) - this.startPages) * this.pageSize;
    if (added > this.room) {
      throw new DiskFullError(storeName(this.db), `the import needs more than ${(added / MB).toFixed(1)} MB, the disk had ${(this.room / MB).toFixed(1)} MB free`);
    }
  }
}
