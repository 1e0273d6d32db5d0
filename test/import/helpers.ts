// Shared by the import and CLI tests: temporary folders, fresh stores, and a fingerprint of a
// whole store to prove that a failed import changed nothing.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb, type Db } from '../../src/main/store/db.ts';

export const SAMPLE = resolve('resources/sample/kuairand_likes_hates.tsv');

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `cmi-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function freshDb(dir: string, name = 'studio.sqlite'): Db {
  return openDb(join(dir, name));
}

/** sha256 over every row of every table (in a fixed order), plus the schema version. */
export function fingerprint(db: Db): string {
  const hash = createHash('sha256');
  hash.update(String(db.pragma('user_version', { simple: true })));
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  for (const t of tables) {
    const cols = (db.prepare(`SELECT count(*) AS n FROM pragma_table_info(?)`).get(t) as { n: number }).n;
    const order = Array.from({ length: cols }, (_, i) => i + 1).join(',');
    hash.update(t);
    for (const row of db.prepare(`SELECT * FROM "${t}" ORDER BY ${order}`).raw().iterate()) {
      hash.update(JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
    }
  }
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name").pluck().all() as string[];
  hash.update(indexes.join(','));
  return hash.digest('hex');
}

export interface TsvTable {
  header: string[];
  rows: string[][];
}

/** A plain, independent reader for the simple TSV sample (no quotes in it). */
export function readTsv(path: string): TsvTable {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  return { header: lines[0].split('\t'), rows: lines.slice(1).map((l) => l.split('\t')) };
}

/** The stored interactions of a dataset as raw ids, in seq order. */
export function storedInteractions(db: Db, datasetId: number): Array<{ user: string; item: string; time: number; day: number; seq: number }> {
  return db
    .prepare(
      `SELECT u.raw AS user, i.raw AS item, x.time, x.day, x.seq FROM interactions x
       JOIN users u ON u.dataset_id = x.dataset_id AND u.uid = x.user
       JOIN items i ON i.dataset_id = x.dataset_id AND i.iid = x.item
       WHERE x.dataset_id = ? ORDER BY x.seq`,
    )
    .all(datasetId) as Array<{ user: string; item: string; time: number; day: number; seq: number }>;
}
