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

export function requireDataset(db: Db, id: number): DatasetSummary {
  const dataset = getDataset(db, id);
  if (!dataset) throw new Error(`no dataset with id ${id}`);
  return dataset;
}

/** Deletes the dataset with everything that hangs off it (id maps, interactions, splits, runs). */
export function deleteDataset(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
}

/** What an import stores about a new dataset: its summary's descriptive fields and the mapping. */
export type NewDataset = Pick<DatasetSummary, 'name' | 'preset' | 'positiveRule' | 'timeKind' | 'files' | 'columns' | 'keptColumns'> & {
  mapping: ColumnMapping;
};

export const MAX_DATASET_NAME = 100;

/** C0/C1 controls (newlines, tabs, escapes) and the bidi embedding, override and isolate
 *  controls, which make a name display as something else than it is. */
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * The dataset name as it is stored: trimmed, 1..100 characters, no control or bidi-control
 * characters. The CLI and the API both reach it through importDataset; the error says what to fix.
 */
export function checkDatasetName(raw: string): string {
  const name = raw.trim();
  if (name === '') throw new Error('the dataset needs a name (--name)');
  const length = [...name].length;
  if (length > MAX_DATASET_NAME) throw new Error(`the dataset name is ${length} characters long; at most ${MAX_DATASET_NAME} are allowed`);
  const bad = FORBIDDEN_IN_NAME.exec(name);
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new Error(`the dataset name contains a control character (${code}) at character ${[...name.slice(0, bad.index)].length + 1}; use printable text only`);
  }
  return name;
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Inserts the dataset row with zero counts (the import fills them in at the end); returns its id.
 *  A name taken meanwhile (two imports racing for one name) gets the same error as one taken before. */
export function insertDataset(db: Db, d: NewDataset): number {
  const name = checkDatasetName(d.name);
  try {
    const info = db
      .prepare(
        `INSERT INTO datasets (name, preset, positive_rule, time_kind, files, columns, kept_columns, mapping,
          rows, interactions, users, items, days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)`,
      )
      .run(name, d.preset, d.positiveRule, d.timeKind, JSON.stringify(d.files), JSON.stringify(d.columns), JSON.stringify(d.keptColumns), JSON.stringify(d.mapping));
    return Number(info.lastInsertRowid);
  } catch (err) {
    if (isUniqueViolation(err)) throw new Error(`a dataset named '${name}' already exists`);
    throw err;
  }
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
