// Another system's test-day lists (columns user, item, rank; raw ids; CSV or TSV), checked
// against a stored split and evaluated with our metrics as a run of model 'external'.
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import type { Metrics } from '../../shared/types.ts';
import type { SplitData } from '../data/split.ts';
import { ImportError } from '../import/errors.ts';
import type { Db } from '../store/db.ts';
import { createExternalRun, findExternalRun } from '../store/external-runs.ts';
import { rawIds } from '../store/raw-ids.ts';
import { defaultKs, scoreLists } from './metrics.ts';
import { listRecord, storeLists } from './record-lists.ts';
import { evalSet } from './sets.ts';
import { saveUserMetrics } from '../store/user-metrics.ts';

export const RESULT_COLUMNS = ['user', 'item', 'rank'] as const;

export interface ParsedLists {
  /** Dataset uids in the split's test-user order. */
  users: Int32Array;
  width: number;
  /** [users, width] split item ids; slot r-1 holds the item at rank r, 0 where no rank. */
  items: Int32Array;
  rows: number;
  /** Lists holding an item of the user's own test history (kept: the list is scored as given). */
  withHistoryItems: number;
}

/**
 * Reads the file into lists aligned with the split's test users. Errors name file, line and
 * field: unknown users or items, users or items outside the split, bad or duplicate ranks,
 * repeated items, and test users without a list. Ranks are positions (1 = best); ranks past
 * max(K) (200) are not needed by any metric and are dropped.
 */
export function parseResultLists(db: Db, split: SplitData, file: string): ParsedLists {
  const text = readFileSync(file, 'utf8');
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delimiter = firstLine.includes('\t') ? '\t' : ',';
  const parsed = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: true });
  const bad = parsed.errors[0];
  if (bad) throw new ImportError(file, (bad.row ?? 0) + 1, 1, 'field', bad.message);
  const [header, ...records] = parsed.data;
  if (!header) throw new ImportError(file, 1, 1, 'field', `empty file: expected a header with columns ${RESULT_COLUMNS.join(', ')}`);
  const names = header.map((h) => h.trim().toLowerCase());
  const col = RESULT_COLUMNS.map((c) => {
    const at = names.indexOf(c);
    if (at < 0) throw new ImportError(file, 1, 1, 'field', `no '${c}' column (the header is ${header.join(delimiter === '\t' ? ' TAB ' : ',')}; expected ${RESULT_COLUMNS.join(', ')})`);
    return at;
  });
  const ids = rawIds(db, split.datasetId);
  const userOf = new Map<string, number>();
  ids.users.forEach((raw, uid) => uid > 0 && userOf.set(raw, uid));
  const itemOf = new Map<string, number>();
  ids.items.forEach((raw, iid) => iid > 0 && itemOf.set(raw, iid));
  const toSplit = new Map<number, number>();
  split.vocab.forEach((iid, sid) => sid > 0 && toSplit.set(iid, sid));
  const set = evalSet(split, 'test', split.params.maxlen);
  const rowOf = new Map<number, number>();
  set.users.forEach((uid, r) => rowOf.set(uid, r));

  const width = Math.max(...defaultKs);
  const n = set.users.length;
  const items = new Int32Array(n * width);
  const rankLine = new Map<string, number>(); // `${row}:${rank}` -> line
  const itemLine = new Map<string, number>(); // `${row}:${item}` -> line
  const listed = new Uint8Array(n);
  let used = 0;
  records.forEach((rec, i) => {
    const line = i + 2;
    const field = (c: number): string => (rec[col[c]] ?? '').trim();
    const fail = (c: number, reason: string): never => {
      throw new ImportError(file, line, col[c] + 1, 'field', reason);
    };
    const rawUser = field(0);
    const uid = userOf.get(rawUser);
    if (uid === undefined) fail(0, `unknown user '${rawUser}': not a user of this dataset`);
    const row = rowOf.get(uid!);
    if (row === undefined) fail(0, `user '${rawUser}' is not evaluated on split ${split.id}'s test day (no test target, or dropped by the split)`);
    const rawItem = field(1);
    const iid = itemOf.get(rawItem);
    if (iid === undefined) fail(1, `unknown item '${rawItem}': not an item of this dataset`);
    const sid = toSplit.get(iid!);
    if (sid === undefined) fail(1, `item '${rawItem}' is not in split ${split.id}'s item vocabulary (it never occurs in the training part)`);
    const rankText = field(2);
    const rank = Number(rankText);
    if (!/^\d+$/.test(rankText) || rank < 1) fail(2, `rank '${rankText}' is not a positive integer`);
    const rankKey = `${row}:${rank}`;
    if (rankLine.has(rankKey)) fail(2, `duplicate rank ${rank} for user '${rawUser}' (also on line ${rankLine.get(rankKey)})`);
    rankLine.set(rankKey, line);
    const itemKey = `${row}:${sid}`;
    if (itemLine.has(itemKey)) fail(1, `item '${rawItem}' listed twice for user '${rawUser}' (also on line ${itemLine.get(itemKey)})`);
    itemLine.set(itemKey, line);
    listed[row!] = 1;
    if (rank <= width) {
      items[row! * width + rank - 1] = sid!;
      used = Math.max(used, rank);
    }
  });
  const missing = Array.from(set.users).filter((_, r) => !listed[r]);
  if (missing.length) {
    const shown = missing.slice(0, 5).map((uid) => `'${ids.users[uid]}'`).join(', ');
    throw new Error(`${file}: ${missing.length} of ${n} test users of split ${split.id} have no list (${shown}${missing.length > 5 ? ', ...' : ''})`);
  }
  // Keep only the columns some rank filled.
  const w = Math.max(1, used);
  const out = new Int32Array(n * w);
  let withHistoryItems = 0;
  for (let r = 0; r < n; r++) {
    out.set(items.subarray(r * width, r * width + w), r * w);
    const history = new Set(set.histories.subarray(r * set.maxlen, (r + 1) * set.maxlen));
    if (out.subarray(r * w, (r + 1) * w).some((x) => x > 0 && history.has(x))) withHistoryItems++;
  }
  return { users: set.users, width: w, items: out, rows: records.length, withHistoryItems };
}

export interface ImportedResults extends ParsedLists {
  runId: number;
  test: Metrics;
}

/** Parses, evaluates and stores the lists as a run labelled `label`, in one transaction. */
export function importResults(db: Db, split: SplitData, file: string, label: string): ImportedResults {
  if (!label.trim()) throw new Error('--label must name the system (it becomes the row of compare)');
  const existing = findExternalRun(db, split.id, label);
  if (existing !== undefined) throw new Error(`imported results labelled '${label}' already exist for split ${split.id} (run ${existing}); delete that run first (cmi-studio runs --delete ${existing})`);
  const lists = parseResultLists(db, split, file);
  const set = evalSet(split, 'test', split.params.maxlen);
  const scored = scoreLists(lists.items, lists.width, set.targets);
  const runId = db.transaction(() => {
    const id = createExternalRun(db, { datasetId: split.datasetId, splitId: split.id, label, source: file, test: scored.metrics });
    saveUserMetrics(db, id, 'test', lists.users, scored.perUser);
    // No item embeddings: intra-list diversity is not available for imported lists.
    storeLists(db, id, listRecord(split, lists.users, lists.width, lists.items));
    return id;
  }).immediate();
  return { ...lists, runId, test: scored.metrics };
}
