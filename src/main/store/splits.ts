// The split aggregate: build a split once per (dataset, canonical params), store it (tables
// splits + split_users) and hand the same one back to every run that asks for it.
import type { SplitParams, SplitSummary } from '../../shared/types.ts';
import { buildSplit, countItems, resolveSplitParams, splitParamsKey, type InteractionColumns, type SplitData } from '../data/split.ts';
import type { SplitStats } from '../../shared/stats.ts';
import { computeSplitStats } from '../data/stats.ts';
import { int32s, toBlob, type Db } from './db.ts';

interface SplitRow {
  id: number;
  dataset_id: number;
  params: string;
  users: number;
  items: number;
  train_interactions: number;
  valid_users: number;
  test_users: number;
  created_at: string;
}

function summaryOf(r: SplitRow): SplitSummary {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    params: JSON.parse(r.params) as SplitParams,
    users: r.users,
    items: r.items,
    trainInteractions: r.train_interactions,
    validUsers: r.valid_users,
    testUsers: r.test_users,
    createdAt: r.created_at,
  };
}

/** The dataset's positives sorted by user, time, then source row order. */
export function readInteractions(db: Db, datasetId: number): InteractionColumns {
  const { n } = db.prepare('SELECT count(*) AS n FROM interactions WHERE dataset_id = ?').get(datasetId) as { n: number };
  const cols: InteractionColumns = { user: new Int32Array(n), item: new Int32Array(n), time: new Float64Array(n), day: new Int32Array(n) };
  const rows = db
    .prepare('SELECT user, item, time, day FROM interactions WHERE dataset_id = ? ORDER BY user, time, seq')
    .raw()
    .iterate(datasetId) as IterableIterator<[number, number, number, number]>;
  let i = 0;
  for (const [user, item, time, day] of rows) {
    cols.user[i] = user;
    cols.item[i] = item;
    cols.time[i] = time;
    cols.day[i] = day;
    i++;
  }
  return cols;
}

/** The stored split with identical canonical params, or a new one built and stored in one
 *  transaction. Defaults: day split, minTrainDays 4, minTrainItems 4, maxlen 100. */
export function ensureSplit(db: Db, datasetId: number, params: Partial<SplitParams> = {}): SplitSummary {
  const resolved = resolveSplitParams(params);
  const key = splitParamsKey(resolved);
  const find = db.prepare('SELECT * FROM splits WHERE dataset_id = ? AND params_key = ?');
  const existing = find.get(datasetId, key) as SplitRow | undefined;
  if (existing) return summaryOf(existing);
  if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(datasetId)) throw new Error(`no dataset with id ${datasetId}`);

  const built = buildSplit(readInteractions(db, datasetId), resolved);
  if (built.users.length === 0) throw new Error(`no user qualifies for this split (${key}); lower minTrainDays/minTrainItems`);
  const nonEmpty = (seqs: Int32Array[]): number => seqs.reduce((c, s) => c + (s.length > 0 ? 1 : 0), 0);
  // IMMEDIATE takes the write lock first, so a split stored meanwhile by another process is
  // found here instead of failing on the UNIQUE key.
  const store = db.transaction((): SplitRow => {
    const raced = find.get(datasetId, key) as SplitRow | undefined;
    if (raced) return raced;
    const { lastInsertRowid } = db
      .prepare(
        `INSERT INTO splits (dataset_id, params, params_key, vocab, users, items, train_interactions, valid_users, test_users)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        datasetId,
        JSON.stringify(resolved),
        key,
        toBlob(built.vocab),
        built.users.length,
        built.vocab.length - 1,
        built.train.reduce((c, s) => c + s.length, 0),
        nonEmpty(built.valid),
        nonEmpty(built.test),
      );
    const insertUser = db.prepare('INSERT INTO split_users (split_id, uid, train, valid, test) VALUES (?, ?, ?, ?, ?)');
    built.users.forEach((uid, u) => insertUser.run(lastInsertRowid, uid, toBlob(built.train[u]), toBlob(built.valid[u]), toBlob(built.test[u])));
    return find.get(datasetId, key) as SplitRow;
  });
  return summaryOf(store.immediate());
}

export function listSplits(db: Db, datasetId: number): SplitSummary[] {
  return (db.prepare('SELECT * FROM splits WHERE dataset_id = ? ORDER BY id').all(datasetId) as SplitRow[]).map(summaryOf);
}

export function getSplitSummary(db: Db, splitId: number): SplitSummary {
  const row = db.prepare('SELECT * FROM splits WHERE id = ?').get(splitId) as SplitRow | undefined;
  if (!row) throw new Error(`no split with id ${splitId}`);
  return summaryOf(row);
}

export function loadSplit(db: Db, splitId: number): SplitData {
  const row = db.prepare('SELECT id, dataset_id, params, vocab FROM splits WHERE id = ?').get(splitId) as
    | { id: number; dataset_id: number; params: string; vocab: Buffer }
    | undefined;
  if (!row) throw new Error(`no split with id ${splitId}`);
  const vocab = int32s(row.vocab);
  const rows = db.prepare('SELECT uid, train, valid, test FROM split_users WHERE split_id = ? ORDER BY uid').raw().all(splitId) as Array<
    [number, Buffer, Buffer, Buffer]
  >;
  const train = rows.map((r) => int32s(r[1]));
  return {
    id: row.id,
    datasetId: row.dataset_id,
    params: JSON.parse(row.params) as SplitParams,
    numItems: vocab.length,
    vocab,
    users: Int32Array.from(rows, (r) => r[0]),
    train,
    valid: rows.map((r) => int32s(r[2])),
    test: rows.map((r) => int32s(r[3])),
    itemCounts: countItems(vocab.length, train),
  };
}

export function splitStats(db: Db, splitId: number): SplitStats {
  return computeSplitStats(loadSplit(db, splitId));
}
