// A run's retrieved test-day lists (table run_lists) and its catalogue-level list metrics
// (table run_list_metrics): what beyond-accuracy metrics and breakdowns are computed from.
import type { Metrics } from '../../shared/types.ts';
import { int32s, toBlob, type Db } from './db.ts';

export type ListPhase = 'valid' | 'test';

export interface StoredLists {
  /** Dataset uids, one per list row. */
  users: Int32Array;
  /** List width. */
  k: number;
  /** [users, k] split item ids, best first; 0 = empty slot. */
  items: Int32Array;
}

/** Stores the lists of a run's phase; a re-evaluation replaces them. */
export function saveRunLists(db: Db, runId: number, phase: ListPhase, lists: StoredLists): void {
  if (lists.items.length !== lists.users.length * lists.k) throw new Error(`lists hold ${lists.items.length} ids for ${lists.users.length} users x ${lists.k}`);
  db.prepare('INSERT OR REPLACE INTO run_lists (run_id, phase, k, users, items) VALUES (?, ?, ?, ?, ?)').run(runId, phase, lists.k, toBlob(lists.users), toBlob(lists.items));
}

export function loadRunLists(db: Db, runId: number, phase: ListPhase): StoredLists | undefined {
  const row = db.prepare('SELECT k, users, items FROM run_lists WHERE run_id = ? AND phase = ?').get(runId, phase) as
    | { k: number; users: Buffer; items: Buffer }
    | undefined;
  return row && { k: row.k, users: int32s(row.users), items: int32s(row.items) };
}

/** Stores (replacing) metric values of a run's phase. */
export function saveListMetrics(db: Db, runId: number, phase: ListPhase, metrics: Metrics): void {
  const put = db.prepare('INSERT OR REPLACE INTO run_list_metrics (run_id, phase, metric, value) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const [metric, value] of Object.entries(metrics)) if (Number.isFinite(value)) put.run(runId, phase, metric, value);
  })();
}

export function loadListMetrics(db: Db, runId: number, phase: ListPhase): Metrics {
  const rows = db.prepare('SELECT metric, value FROM run_list_metrics WHERE run_id = ? AND phase = ?').all(runId, phase) as { metric: string; value: number }[];
  return Object.fromEntries(rows.map((r) => [r.metric, r.value]));
}
