// Per-user metric values of a run (table run_user_metrics), kept for significance tests.
import { float32s, int32s, toBlob, type Db } from './db.ts';
import type { Phase } from '../eval/sets.ts';

/** Stores every metric of `perUser` (each aligned with `users`); a re-evaluation replaces them. */
export function saveUserMetrics(db: Db, runId: number, phase: Phase, users: Int32Array, perUser: Record<string, Float32Array>): void {
  const put = db.prepare('INSERT OR REPLACE INTO run_user_metrics (run_id, phase, metric, users, vals) VALUES (?, ?, ?, ?, ?)');
  const usersBlob = toBlob(users);
  db.transaction(() => {
    for (const [metric, vals] of Object.entries(perUser)) {
      if (vals.length !== users.length) throw new Error(`per-user '${metric}' has ${vals.length} values for ${users.length} users`);
      put.run(runId, phase, metric, usersBlob, toBlob(vals));
    }
  })();
}

export function loadUserMetrics(db: Db, runId: number, phase: Phase, metric: string): { users: Int32Array; values: Float32Array } | undefined {
  const row = db.prepare('SELECT users, vals FROM run_user_metrics WHERE run_id = ? AND phase = ? AND metric = ?').get(runId, phase, metric) as
    | { users: Buffer; vals: Buffer }
    | undefined;
  return row && { users: int32s(row.users), values: float32s(row.vals) };
}

/** Names of the metrics stored for a run and phase. */
export function userMetricNames(db: Db, runId: number, phase: Phase): string[] {
  return (db.prepare('SELECT metric FROM run_user_metrics WHERE run_id = ? AND phase = ? ORDER BY metric').all(runId, phase) as { metric: string }[]).map((r) => r.metric);
}
