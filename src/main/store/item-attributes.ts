// Item attributes of a dataset: one row per attribute (item_attributes) and one per item and
// attribute (item_attribute_values). Written by import/items.ts, read by the inspector and by
// interest alignment.
import type { AttributeKind, ItemAttribute } from '../../shared/attributes.ts';
import type { Db } from './db.ts';

export interface AttributeColumn {
  name: string;
  kind: AttributeKind;
  source: string;
  /** Dense item ids with their cell text and their alignment label. */
  iids: Int32Array;
  values: string[];
  labels: string[];
}

/** Stores the columns, replacing attributes of the same name; call inside a write transaction.
 *  Returns the names replaced. */
export function replaceItemAttributes(db: Db, datasetId: number, columns: AttributeColumn[]): string[] {
  const had = new Set(listItemAttributes(db, datasetId).map((a) => a.name));
  const drop = db.prepare('DELETE FROM item_attributes WHERE dataset_id = ? AND name = ?');
  const head = db.prepare('INSERT INTO item_attributes (dataset_id, name, kind, source, items, labels) VALUES (?, ?, ?, ?, ?, ?)');
  const row = db.prepare('INSERT INTO item_attribute_values (dataset_id, name, iid, value, label) VALUES (?, ?, ?, ?, ?)');
  const replaced: string[] = [];
  for (const c of columns) {
    if (had.has(c.name)) replaced.push(c.name);
    drop.run(datasetId, c.name);
    head.run(datasetId, c.name, c.kind, c.source, c.iids.length, new Set(c.labels).size);
    for (let i = 0; i < c.iids.length; i++) row.run(datasetId, c.name, c.iids[i], c.values[i], c.labels[i]);
  }
  return replaced;
}

export function listItemAttributes(db: Db, datasetId: number): ItemAttribute[] {
  return db
    .prepare('SELECT name, kind, source, items, labels FROM item_attributes WHERE dataset_id = ? ORDER BY created_at, rowid')
    .all(datasetId) as ItemAttribute[];
}

/** The attribute's alignment label of every item that has one: dense iid -> label. */
export function attributeLabels(db: Db, datasetId: number, name: string): Map<number, string> {
  const known = db.prepare('SELECT 1 FROM item_attributes WHERE dataset_id = ? AND name = ?').get(datasetId, name);
  if (!known) {
    const names = listItemAttributes(db, datasetId).map((a) => a.name);
    throw new Error(`the dataset has no item attribute '${name}' (${names.length ? `it has ${names.join(', ')}` : 'import an item file first: cmi-studio import-items'})`);
  }
  const out = new Map<number, string>();
  const rows = db.prepare('SELECT iid, label FROM item_attribute_values WHERE dataset_id = ? AND name = ?').raw().iterate(datasetId, name) as IterableIterator<[number, string]>;
  for (const [iid, label] of rows) out.set(iid, label);
  return out;
}

/** Every attribute value of the given items: dense iid -> attribute name -> cell text. */
export function itemAttributeValues(db: Db, datasetId: number, iids: Iterable<number>): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  const read = db.prepare('SELECT name, value FROM item_attribute_values WHERE dataset_id = ? AND iid = ?').raw();
  for (const iid of new Set(iids)) {
    if (out.has(iid)) continue;
    const values: Record<string, string> = {};
    for (const [name, value] of read.all(datasetId, iid) as [string, string][]) values[name] = value;
    out.set(iid, values);
  }
  return out;
}

/** The column the dataset's import read item ids from (an item file's default id column). */
export function datasetItemColumn(db: Db, datasetId: number): string {
  const row = db.prepare('SELECT mapping FROM datasets WHERE id = ?').get(datasetId) as { mapping: string } | undefined;
  return row ? (JSON.parse(row.mapping) as { item: string }).item : '';
}
