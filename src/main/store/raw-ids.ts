// Every raw (source) id of a dataset at once, for writing and reading files in raw ids.
import type { Db } from './db.ts';

export interface RawIds {
  /** users[uid] = raw user id ('' at 0, the padding id). */
  users: string[];
  /** items[iid] = raw item id. */
  items: string[];
}

export function rawIds(db: Db, datasetId: number): RawIds {
  const read = (table: 'users' | 'items', id: 'uid' | 'iid'): string[] => {
    const out: string[] = [''];
    const rows = db.prepare(`SELECT ${id}, raw FROM ${table} WHERE dataset_id = ? ORDER BY ${id}`).raw().iterate(datasetId) as IterableIterator<[number, string]>;
    for (const [dense, raw] of rows) out[dense] = raw;
    return out;
  };
  return { users: read('users', 'uid'), items: read('items', 'iid') };
}
