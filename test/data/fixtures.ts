// Test helper: a dataset written straight into the store tables, as the importer would leave it.
import type { Db } from '../../src/main/store/db.ts';
import { countItems, type SplitData } from '../../src/main/data/split.ts';

export interface Positive {
  user: number;
  item: number;
  day: number;
  /** Defaults to the day (a dataset that only knows days). */
  time?: number;
}

/** Inserts a dataset with these positives (seq = array order) and returns its id. */
export function insertDataset(db: Db, name: string, positives: readonly Positive[]): number {
  const users = [...new Set(positives.map((p) => p.user))];
  const items = [...new Set(positives.map((p) => p.item))];
  const days = new Set(positives.map((p) => p.day));
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO datasets (name, preset, positive_rule, time_kind, files, columns, kept_columns, mapping, rows, interactions, users, items, days)
       VALUES (?, 'csv', 'true', ?, '[]', '[]', '[]', '{}', ?, ?, ?, ?, ?)`,
    )
    .run(name, positives.some((p) => p.time !== undefined) ? 'timestamp' : 'day', positives.length, positives.length, users.length, items.length, days.size);
  const id = Number(lastInsertRowid);
  const insUser = db.prepare('INSERT INTO users (dataset_id, uid, raw) VALUES (?, ?, ?)');
  const insItem = db.prepare('INSERT INTO items (dataset_id, iid, raw) VALUES (?, ?, ?)');
  const insPos = db.prepare('INSERT INTO interactions (dataset_id, user, item, time, day, seq) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const u of users) insUser.run(id, u, `u${u}`);
    for (const i of items) insItem.run(id, i, `v${i}`);
    positives.forEach((p, seq) => insPos.run(id, p.user, p.item, p.time ?? p.day, p.day, seq));
  })();
  return id;
}

/** Tiny deterministic generator for test data (not the code under test's RNG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A random dataset of `users` users over `days` days and `items` items. */
export function randomPositives(seed: number, users: number, items: number, days: number, perUserMax: number): Positive[] {
  const r = lcg(seed);
  const out: Positive[] = [];
  for (let u = 1; u <= users; u++) {
    const n = 1 + Math.floor(r() * perUserMax);
    for (let k = 0; k < n; k++) {
      const day = 1 + Math.floor(r() * days);
      out.push({ user: u, item: 1 + Math.floor(r() * items), day, time: day * 86_400_000 + Math.floor(r() * 86_400_000) });
    }
  }
  return out;
}

/** A SplitData built in memory (no store), for sampler and evaluation tests. */
export function splitOf(numItems: number, train: number[][], valid: number[][] = [], test: number[][] = []): SplitData {
  const seqs = train.map((t) => Int32Array.from(t));
  return {
    id: 1,
    datasetId: 1,
    params: { kind: 'day', minTrainDays: 4, minTrainItems: 4, maxlen: 100 },
    numItems,
    vocab: Int32Array.from({ length: numItems }, (_, i) => i),
    users: Int32Array.from(train, (_, u) => 100 + u),
    train: seqs,
    valid: train.map((_, u) => Int32Array.from(valid[u] ?? [])),
    test: train.map((_, u) => Int32Array.from(test[u] ?? [])),
    itemCounts: countItems(numItems, seqs),
  };
}

/** A run row with only the required columns. */
export function insertRun(db: Db, datasetId: number, splitId: number, label = 'run'): number {
  const { lastInsertRowid } = db
    .prepare(`INSERT INTO runs (dataset_id, split_id, model, label, config, seed, status) VALUES (?, ?, 'pop', ?, '{}', 1, 'done')`)
    .run(datasetId, splitId, label);
  return Number(lastInsertRowid);
}
