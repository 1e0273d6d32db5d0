// Item attributes onto an existing dataset: WeChat's feed_info.csv (its item fields) or any
// CSV/TSV with an item id column and attribute columns. Every row is checked (field count, id,
// duplicates, weighted lists) before anything is written; one transaction replaces the
// attributes of the same names. Rows of items the dataset does not know are counted, not fatal.
import { resolve } from 'node:path';
import type { AttributeKind, ItemAttribute, ItemImportRequest, ItemImportResult } from '../../shared/attributes.ts';
import type { Db } from '../store/db.ts';
import { writeWhenFree } from '../store/busy.ts';
import { requireDataset } from '../store/datasets.ts';
import { datasetItemColumn, listItemAttributes, replaceItemAttributes, type AttributeColumn } from '../store/item-attributes.ts';
import { rawIds } from '../store/raw-ids.ts';
import { ImportError } from './errors.ts';
import { fieldText } from './fields.ts';
import { readHead } from './head.ts';
import { isFeedInfoHeader } from './presets.ts';
import { scanFile } from './scanner.ts';

/** The feed_info.csv fields kept as item attributes. The text fields (description, ocr, asr and
 *  their _char forms) are token streams, not attributes; they stay out. */
export const FEED_INFO_ATTRIBUTES = ['authorid', 'videoplayseconds', 'bgm_song_id', 'bgm_singer_id', 'manual_keyword_list', 'machine_keyword_list', 'manual_tag_list', 'machine_tag_list'];

const UNKNOWN_EXAMPLES = 5;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const WEIGHTED = /^(\S+)\s+([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

/** A cell's entries: split on ';' (and '|' unless it is the delimiter), trimmed, empty ones dropped. */
export function entries(cell: string, delimiter: string): string[] {
  const sep = delimiter === '|' ? /;/ : /[;|]/;
  return cell.split(sep).map((e) => e.trim()).filter((e) => e !== '');
}

/**
 * The kind of a column from its non-empty cells. A weighted list when most cells are `token
 * weight` entries (the others are then malformed, and named as such); a few cells that only
 * look weighted ("Rocky 2" among titles) do not make one.
 */
export function columnKind(cells: Iterable<string>, delimiter: string): AttributeKind {
  let list = false;
  let numbers = true;
  let weighted = 0;
  let plain = 0;
  for (const cell of cells) {
    const parts = entries(cell, delimiter);
    if (parts.length === 0) continue;
    if (parts.every((p) => WEIGHTED.test(p))) weighted++;
    else plain++;
    if (parts.length > 1) list = true;
    if (!NUMBER.test(cell.trim())) numbers = false;
  }
  if (weighted > plain) return 'weighted-list';
  return list ? 'list' : numbers && weighted + plain > 0 ? 'number' : 'text';
}

/** The label alignment groups a cell by: the value itself, a list's first entry, or a weighted
 *  list's highest-weight token (the first of equal weights). Undefined when malformed. */
export function cellLabel(cell: string, kind: AttributeKind, delimiter: string): string | undefined {
  if (kind === 'number' || kind === 'text') return cell.trim();
  const parts = entries(cell, delimiter);
  if (kind === 'list') return parts[0];
  let best: string | undefined;
  let weight = -Infinity;
  for (const p of parts) {
    const m = WEIGHTED.exec(p);
    if (!m) return undefined;
    if (Number(m[2]) > weight) {
      weight = Number(m[2]);
      best = m[1];
    }
  }
  return best;
}

interface Cell {
  text: string;
  line: number;
}

/** The dense id of a raw id: the text as stored, or an integer written with leading zeros. */
function itemLookup(db: Db, datasetId: number): (raw: string) => number | undefined {
  const byRaw = new Map<string, number>();
  rawIds(db, datasetId).items.forEach((raw, iid) => iid > 0 && byRaw.set(raw, iid));
  return (raw) => byRaw.get(raw) ?? (/^-?\d+$/.test(raw) ? byRaw.get(raw.replace(/^(-?)0+(?=\d)/, '$1')) : undefined);
}

type ReadItems = Omit<ItemImportResult, 'attributes' | 'replaced'> & { columns: AttributeColumn[] };

/** Reads and checks the whole file (ImportError at file:line:column); writes nothing. */
async function readItemFile(db: Db, req: ItemImportRequest, skipBadRows = false): Promise<ReadItems> {
  const dataset = requireDataset(db, req.datasetId);
  const file = resolve(req.file);
  if (req.delimiter !== undefined && (req.delimiter.length !== 1 || req.delimiter === '"' || req.delimiter.charCodeAt(0) > 127 || /[\r\n]/.test(req.delimiter))) {
    throw new Error(`bad delimiter ${JSON.stringify(req.delimiter)}: give one ASCII character such as , ; | or a TAB`);
  }
  const head = await readHead(file, { delimiter: req.delimiter, quoting: true, rows: 1 });
  const { header, headerLine, delimiter } = head;
  if (head.rows.length === 0) throw new ImportError(file, headerLine + 1, 1, 'char', 'no data rows after the header');
  const feedInfo = isFeedInfoHeader(header);
  const mapped = datasetItemColumn(db, dataset.id);
  const idColumn = req.idColumn ?? (feedInfo ? 'feedid' : header.includes(mapped) ? mapped : header[0]);
  const idAt = header.indexOf(idColumn);
  if (idAt < 0) throw new ImportError(file, headerLine, 1, 'field', `no item id column '${idColumn}' in the header (${header.join(', ')}); give it with --id-column`);
  const wanted = req.columns ? [...new Set(req.columns)] : (feedInfo ? FEED_INFO_ATTRIBUTES.filter((c) => header.includes(c)) : header.filter((c) => c !== idColumn));
  for (const c of wanted) {
    if (!header.includes(c)) throw new ImportError(file, headerLine, 1, 'field', `no column '${c}' in the header (${header.join(', ')})`);
    if (c === idColumn) throw new Error(`'${c}' is the item id column, not an attribute`);
  }
  if (wanted.length === 0) throw new ImportError(file, headerLine, 1, 'field', 'no attribute column besides the item id column');
  const at = wanted.map((c) => header.indexOf(c));

  const lookup = itemLookup(db, dataset.id);
  const firstLine = new Map<number, number>();
  const cells = wanted.map(() => new Map<number, Cell>());
  let rows = 0;
  let skipped = 0;
  /** A bad row: the error, or with skipBadRows a counted, dropped row (or cell). */
  const reject = (err: ImportError): void => {
    if (!skipBadRows) throw err;
    skipped++;
  };
  let unknown = 0;
  const unknownExamples: string[] = [];
  let isHeader = true;
  await scanFile(file, { delimiter, quoting: true }, (rec) => {
    if (isHeader) {
      isHeader = false;
      return;
    }
    rows++;
    if (rec.count !== header.length) {
      return reject(new ImportError(file, rec.line, Math.min(rec.count, header.length) + 1, 'field', `expected ${header.length} fields like the header, got ${rec.count}`));
    }
    const text = (k: number): string => fieldText(rec.buf, rec.starts[k], rec.ends[k], rec.hasEscapes && rec.escaped[k] === 1);
    const raw = text(idAt).trim();
    if (raw === '') return reject(new ImportError(file, rec.line, idAt + 1, 'field', `expected an item id in column '${idColumn}', got an empty field`));
    const iid = lookup(raw);
    if (iid === undefined) {
      unknown++;
      if (unknownExamples.length < UNKNOWN_EXAMPLES) unknownExamples.push(raw);
      return;
    }
    const before = firstLine.get(iid);
    if (before !== undefined) return reject(new ImportError(file, rec.line, idAt + 1, 'field', `item '${raw}' appears twice (also on line ${before})`));
    firstLine.set(iid, rec.line);
    at.forEach((k, j) => {
      const cell = text(k).trim();
      if (cell !== '') cells[j].set(iid, { text: cell, line: rec.line });
    });
  });

  const columns: AttributeColumn[] = wanted.map((name, j) => {
    const column = cells[j];
    const kind = columnKind(Array.from(column.values(), (c) => c.text), delimiter);
    const values: string[] = [];
    const labels: string[] = [];
    const kept: number[] = [];
    // In file order, so the first malformed cell reported is the earliest.
    for (const [iid, cell] of column) {
      const label = cellLabel(cell.text, kind, delimiter);
      if (label === undefined) {
        reject(new ImportError(file, cell.line, at[j] + 1, 'field', `expected 'token weight' entries separated by ';' in column '${name}' (a weighted list, as its other rows), got ${JSON.stringify(cell.text.slice(0, 60))}`));
        continue;
      }
      kept.push(iid);
      values.push(cell.text);
      labels.push(label);
    }
    return { name, kind, source: file, iids: Int32Array.from(kept), values, labels };
  });

  return { datasetId: dataset.id, file, idColumn, rows, skipped, matched: firstLine.size, unknown, unknownExamples, missing: dataset.items - firstLine.size, columns };
}

function stored(db: Db, read: ReadItems, replaced: string[]): ItemImportResult {
  const { columns, ...counts } = read;
  const byName = new Map(listItemAttributes(db, read.datasetId).map((a) => [a.name, a]));
  return { ...counts, attributes: columns.map((c) => byName.get(c.name) as ItemAttribute), replaced };
}

/**
 * Imports the attribute columns of `req.file` onto dataset `req.datasetId`, in one write
 * transaction of its own. Throws ImportError (file:line:column) for a malformed row; nothing is
 * written then.
 */
export async function importItemAttributes(db: Db, req: ItemImportRequest): Promise<ItemImportResult> {
  const read = await readItemFile(db, req);
  const replaced = (await writeWhenFree(db, () => replaceItemAttributes(db, read.datasetId, read.columns))) ?? [];
  return stored(db, read, replaced);
}

/** The same inside a transaction the caller holds: a WeChat import stores feed_info.csv's item
 *  fields with the dataset it creates, so both commit or neither does. With `skipBadRows` (the
 *  import's onError 'skip') a bad row is dropped and counted instead of failing the import. */
export async function attachItemAttributes(db: Db, req: ItemImportRequest, skipBadRows: boolean): Promise<ItemImportResult> {
  const read = await readItemFile(db, req, skipBadRows);
  return stored(db, read, replaceItemAttributes(db, read.datasetId, read.columns));
}
