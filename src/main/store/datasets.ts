// The datasets aggregate: the dataset row, its id maps (dense id <-> raw id) and its
// interactions. The import writes through insertDataset/setDatasetCounts inside its own
// transaction; everything else reads.
import type { ColumnMapping, DatasetCounts, DatasetSummary, ImportPreset, TimeKind } from '../../shared/types.ts';
import type { Db } from './db.ts';

interface DatasetRow {
  id: number;
  name: string;
  preset: string;
  positive_rule: string;
  time_kind: string;
  files: string;
  columns: string;
  kept_columns: string;
  rows: number;
  interactions: number;
  users: number;
  items: number;
  days: number;
  created_at: string;
}

function summary(r: DatasetRow): DatasetSummary {
  return {
    id: r.id,
    name: r.name,
    preset: r.preset as ImportPreset,
    positiveRule: r.positive_rule,
    timeKind: r.time_kind as TimeKind,
    files: JSON.parse(r.files) as string[],
    columns: JSON.parse(r.columns) as string[],
    keptColumns: JSON.parse(r.kept_columns) as string[],
    rows: r.rows,
    interactions: r.interactions,
    users: r.users,
    items: r.items,
    days: r.days,
    createdAt: r.created_at,
  };
}

const SELECT = `SELECT id, name, preset, positive_rule, time_kind, files, columns, kept_columns,
  rows, interactions, users, items, days, created_at FROM datasets`;

export function listDatasets(db: Db): DatasetSummary[] {
  return (db.prepare(`${SELECT} ORDER BY id`).all() as DatasetRow[]).map(summary);
}

/** By name first; a string of digits that names no dataset is tried as an id. */
export function getDataset(db: Db, nameOrId: string | number): DatasetSummary | undefined {
  let row: DatasetRow | undefined;
  if (typeof nameOrId === 'string') {
    row = db.prepare(`${SELECT} WHERE name = ?`).get(nameOrId) as DatasetRow | undefined;
    if (!row && /^\d+$/.test(nameOrId)) row = db.prepare(`${SELECT} WHERE id = ?`).get(Number(nameOrId)) as DatasetRow | undefined;
  } else {
    row = db.prepare(`${SELECT} WHERE id = ?`).get(nameOrId) as DatasetRow | undefined;
  }
  return row ? summary(row) : undefined;
}

/** Deletes the dataset with everything that hangs off it (id maps, interactions, splits, runs). */
export function deleteDataset(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
}

export interface NewDataset {
  name: string;
  preset: ImportPreset;
  positiveRule: string;
  timeKind: TimeKind;
  files: string[];
  columns: string[];
  keptColumns: string[];
  mapping: ColumnMapping;
}

/** Inserts the dataset row with zero counts (the import fills them in at the end); returns its id. */
export function insertDataset(db: Db, d: NewDataset): number {
  const info = db
    .prepare(
      `INSERT INTO datasets (name, preset, positive_rule, time_kind, files, columns, kept_columns, mapping,
        rows, interactions, users, items, days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)`,
    )
    .run(d.name, d.preset, d.positiveRule, d.timeKind, JSON.stringify(d.files), JSON.stringify(d.columns), JSON.stringify(d.keptColumns), JSON.stringify(d.mapping));
  return Number(info.lastInsertRowid);
}

export function setDatasetCounts(db: Db, id: number, c: DatasetCounts): void {
  db.prepare('UPDATE datasets SET rows = ?, interactions = ?, users = ?, items = ?, days = ? WHERE id = ?').run(c.rows, c.interactions, c.users, c.items, c.days, id);
}

/** The raw (source) id of dense user id `uid`. */
export function rawUserId(db: Db, datasetId: number, uid: number): string | undefined {
  const row = db.prepare('SELECT raw FROM users WHERE dataset_id = ? AND uid = ?').get(datasetId, uid) as { raw: string } | undefined;
  return row?.raw;
}

/** The dense user id of raw id `raw`, for the inspector's user search. */
export function findUserByRaw(db: Db, datasetId: number, raw: string): number | undefined {
  const row = db.prepare('SELECT uid FROM users WHERE dataset_id = ? AND raw = ?').get(datasetId, raw) as { uid: number } | undefined;
  return row?.uid;
}

/** Raw user ids starting with `prefix` (at most `limit`), for search-as-you-type. */
export function searchUsersByRaw(db: Db, datasetId: number, prefix: string, limit = 20): Array<{ uid: number; raw: string }> {
  // A range on the (dataset_id, raw) index rather than LIKE, which could not use it.
  return db
    .prepare('SELECT uid, raw FROM users WHERE dataset_id = ? AND raw >= ? AND raw < ? ORDER BY raw LIMIT ?')
    .all(datasetId, prefix, `${prefix}\uffff`, limit) as Array<{ uid: number; raw: string }>;
}

/** Raw item ids of dense ids `iids`, in the same order (undefined where unknown). */
export function rawItemIds(db: Db, datasetId: number, iids: ArrayLike<number>): Array<string | undefined> {
  const stmt = db.prepare('SELECT raw FROM items WHERE dataset_id = ? AND iid = ?').pluck();
  return Array.from(iids, (iid) => stmt.get(datasetId, iid) as string | undefined);
}

/** One user's positives in time order (dense item ids), as the sequence index stores them. */
export function userInteractions(db: Db, datasetId: number, uid: number): Array<{ item: number; time: number; day: number }> {
  return db
    .prepare('SELECT item, time, day FROM interactions WHERE dataset_id = ? AND user = ? ORDER BY time, seq')
    .all(datasetId, uid) as Array<{ item: number; time: number; day: number }>;
}
