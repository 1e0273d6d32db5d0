// The split aggregate: build a split once per (dataset, canonical params), store it (tables
// splits + split_users) and hand the same one back to every run that asks for it.
import type { SplitParams, SplitSummary } from '../../shared/types.ts';
import {
  buildSplit,
  buildSplitSteps,
  countItems,
  resolveSplitParams,
  splitParamsKey,
  unusableSplitReason,
  type BuiltSplit,
  type InteractionColumns,
  type SplitData,
} from '../data/split.ts';
import type { SplitStats } from '../../shared/stats.ts';
import { SplitStatsBuilder } from '../data/stats.ts';
import { writeWhenFree, type WaitOptions } from './busy.ts';
import { CHUNK_ROWS, DAY_SHIFT, readCache, writeCache, yieldToLoop } from './cache.ts';
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
  valid_target_users: number | null;
  test_target_users: number | null;
  created_at: string;
}

function summaryOf(r: SplitRow): SplitSummary {
  const params = JSON.parse(r.params) as SplitParams;
  const usersWithTargets = r.valid_target_users !== null && r.test_target_users !== null ? { valid: r.valid_target_users, test: r.test_target_users } : undefined;
  return {
    id: r.id,
    datasetId: r.dataset_id,
    params,
    users: r.users,
    items: r.items,
    trainInteractions: r.train_interactions,
    validUsers: r.valid_users,
    testUsers: r.test_users,
    problem: unusableSplitReason({ users: r.users, validUsers: r.valid_users, testUsers: r.test_users, ...(usersWithTargets ? { usersWithTargets } : {}) }, params) ?? null,
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

/** readInteractions in user-range chunks with a pause between them (cache.ts says why): per
 *  chunk each user's count, then item and day packed in one value, then the time, all in the
 *  covering index's (user, time, seq) order. */
export async function readInteractionsInSteps(db: Db, datasetId: number): Promise<InteractionColumns> {
  const estimate = (db.prepare('SELECT interactions FROM datasets WHERE id = ?').pluck().get(datasetId) as number | undefined) ?? 0;
  const maxUser = db.prepare('SELECT coalesce(max(uid), 0) FROM users WHERE dataset_id = ?').pluck().get(datasetId) as number;
  const range = 'FROM interactions WHERE dataset_id = ? AND user >= ? AND user < ?';
  const order = 'ORDER BY user, time, seq';
  const lengths = db.prepare(`SELECT user, count(*) ${range} GROUP BY user ORDER BY user`).raw();
  const itemDays = db.prepare(`SELECT item + day * ${DAY_SHIFT} ${range} ${order}`).pluck();
  const times = db.prepare(`SELECT time ${range} ${order}`).pluck();
  const chunks: Array<{ lengths: [number, number][]; itemDay: number[]; time: number[] }> = [];
  const usersPerChunk = Math.max(1, Math.floor((CHUNK_ROWS * maxUser) / Math.max(1, estimate)));
  let n = 0;
  for (let lo = 1; lo <= maxUser; lo += usersPerChunk) {
    const args = [datasetId, lo, lo + usersPerChunk];
    const chunk = { lengths: lengths.all(...args) as [number, number][], itemDay: itemDays.all(...args) as number[], time: times.all(...args) as number[] };
    const rows = chunk.lengths.reduce((c, [, k]) => c + k, 0);
    if (chunk.itemDay.length !== rows || chunk.time.length !== rows) throw new Error(`dataset ${datasetId} changed while its positives were read`);
    chunks.push(chunk);
    n += rows;
    await yieldToLoop();
  }
  const cols: InteractionColumns = { user: new Int32Array(n), item: new Int32Array(n), time: new Float64Array(n), day: new Int32Array(n) };
  let i = 0;
  for (const chunk of chunks) {
    await yieldToLoop();
    let r = 0;
    for (const [user, k] of chunk.lengths) {
      for (const end = r + k; r < end; r++, i++) {
        const day = Math.floor(chunk.itemDay[r] / DAY_SHIFT);
        cols.user[i] = user;
        cols.item[i] = chunk.itemDay[r] - day * DAY_SHIFT;
        cols.day[i] = day;
        cols.time[i] = chunk.time[r];
      }
    }
  }
  return cols;
}

/** 4 values a row: well under SQLite's 32,766 variables. */
const USERS_PER_INSERT = 256;

const findSql = 'SELECT * FROM splits WHERE dataset_id = ? AND params_key = ?';

function findSplit(db: Db, datasetId: number, key: string): SplitRow | undefined {
  return db.prepare(findSql).get(datasetId, key) as SplitRow | undefined;
}

const nonEmpty = (seqs: Int32Array[]): number => seqs.reduce((c, s) => c + (s.length > 0 ? 1 : 0), 0);

/** A split with no user is refused outright; one without evaluated users is stored with its
 *  `problem` (the dataset screen shows it) and refused by training (requireUsableSplit). */
function checkBuilt(built: BuiltSplit, key: string): void {
  if (built.users.length === 0) throw new Error(`no user qualifies for this split (${key}); lower minTrainDays/minTrainItems`);
}

/** Inserts the built split; run inside an IMMEDIATE transaction, which takes the write lock
 *  first, so a split stored meanwhile by another process is found instead of failing on the
 *  UNIQUE key. */
function storeBuilt(db: Db, datasetId: number, params: SplitParams, key: string, built: BuiltSplit): SplitRow {
  const raced = findSplit(db, datasetId, key);
  if (raced) return raced;
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO splits (dataset_id, params, params_key, vocab, users, items, train_interactions, valid_users, test_users,
         valid_target_users, test_target_users)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      datasetId,
      JSON.stringify(params),
      key,
      toBlob(built.vocab),
      built.users.length,
      built.vocab.length - 1,
      built.train.reduce((c, s) => c + s.length, 0),
      nonEmpty(built.valid),
      nonEmpty(built.test),
      built.usersWithTargets.valid,
      built.usersWithTargets.test,
    );
  // Many rows per statement: binding is what costs, not SQLite (as in the import writer).
  const sql = (rows: number): string => `INSERT INTO split_users (split_id, uid, train, valid, test) VALUES ${Array(rows).fill(`(${Number(lastInsertRowid)},?,?,?,?)`).join(',')}`;
  const many = db.prepare(sql(USERS_PER_INSERT));
  const values: unknown[] = [];
  for (let u = 0; u < built.users.length; u++) {
    values.push(built.users[u], toBlob(built.train[u]), toBlob(built.valid[u]), toBlob(built.test[u]));
    if (values.length === 4 * USERS_PER_INSERT) many.run(values.splice(0));
  }
  if (values.length) db.prepare(sql(values.length / 4)).run(values);
  return findSplit(db, datasetId, key)!;
}

function requireDatasetRow(db: Db, datasetId: number): void {
  if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(datasetId)) throw new Error(`no dataset with id ${datasetId}`);
}

/** The stored split with identical canonical params, or a new one built and stored in one
 *  transaction. Defaults: DEFAULT_SPLIT_PARAMS (shared/defaults.ts). */
export function ensureSplit(db: Db, datasetId: number, params: Partial<SplitParams> = {}): SplitSummary {
  const resolved = resolveSplitParams(params);
  const key = splitParamsKey(resolved);
  const existing = findSplit(db, datasetId, key);
  if (existing) return summaryOf(existing);
  requireDatasetRow(db, datasetId);
  const built = buildSplit(readInteractions(db, datasetId), resolved);
  checkBuilt(built, key);
  return summaryOf(db.transaction(() => storeBuilt(db, datasetId, resolved, key, built)).immediate());
}

/**
 * ensureSplit for the host: reads and builds in steps with pauses between them, and waits for
 * the write lock without blocking, so other calls go on while a large split is built.
 */
export async function ensureSplitInSteps(db: Db, datasetId: number, params: Partial<SplitParams> = {}, wait: WaitOptions = {}): Promise<SplitSummary> {
  const resolved = resolveSplitParams(params);
  const key = splitParamsKey(resolved);
  const existing = findSplit(db, datasetId, key);
  if (existing) return summaryOf(existing);
  requireDatasetRow(db, datasetId);
  const steps = buildSplitSteps(await readInteractionsInSteps(db, datasetId), resolved);
  let step = steps.next();
  for (; !step.done; step = steps.next()) await yieldToLoop();
  const built = step.value;
  checkBuilt(built, key);
  const row = await writeWhenFree(db, () => storeBuilt(db, datasetId, resolved, key, built), { onWait: wait.onWait });
  return summaryOf(row!);
}

/** A stored split a run can be trained on; throws (saying why and what to try) otherwise. */
export function requireUsableSplit(split: SplitSummary): SplitSummary {
  if (split.problem) throw new Error(split.problem);
  return split;
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

/** The split's statistics, read in uid-range chunks (cache.ts says why) and cached. */
export async function splitStats(db: Db, splitId: number): Promise<SplitStats> {
  const cached = readCache<SplitStats>(db, 'splitStats', splitId);
  if (cached) return cached;
  const row = db.prepare('SELECT vocab FROM splits WHERE id = ?').get(splitId) as { vocab: Buffer } | undefined;
  if (!row) throw new Error(`no split with id ${splitId}`);
  const builder = new SplitStatsBuilder(int32s(row.vocab));
  const chunk = db.prepare('SELECT uid, train, valid, test FROM split_users WHERE split_id = ? AND uid > ? ORDER BY uid LIMIT ?').raw();
  for (let after = 0; ; ) {
    const rows = chunk.all(splitId, after, STATS_CHUNK_USERS) as Array<[number, Buffer, Buffer, Buffer]>;
    for (const [, train, valid, test] of rows) builder.addUser(int32s(train), int32s(valid), int32s(test));
    if (rows.length < STATS_CHUNK_USERS) break;
    after = rows[rows.length - 1][0];
    await yieldToLoop();
  }
  const stats = builder.result(splitId);
  writeCache(db, 'splitStats', splitId, stats);
  return stats;
}

/** Users per chunk: a user's training sequence holds up to a few hundred items. */
const STATS_CHUNK_USERS = Math.max(1, Math.floor(CHUNK_ROWS / 20));
