// Builds comparison-table rows from stored runs: runs that differ only by seed form one row
// (mean ± std), and per-user test values feed the significance test.
import type { RunSummary } from '../../shared/types.ts';
import { loadUserMetrics, userMetricNames } from '../eval/store.ts';
import type { Db } from '../store/db.ts';
import { meanPerUser, type PerUserValues, type TableRow } from './table.ts';

export interface RowSelection {
  /** Keep, per model label, only the configuration with the best mean validation metric (the
   *  papers report each competitor at its best number of interests). */
  bestPerLabel: boolean;
  /** Validation metric that picks the configuration, e.g. recall@50. */
  selectBy: string;
}

function configKey(run: RunSummary): string {
  const { maxSteps: _cap, ...rest } = run.config;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
}

function perUserOf(db: Db, run: RunSummary): PerUserValues | undefined {
  const names = userMetricNames(db, run.id, 'test');
  if (!names.length) return undefined;
  let users: Int32Array | undefined;
  const values: Record<string, Float32Array> = {};
  for (const name of names) {
    const m = loadUserMetrics(db, run.id, 'test', name);
    if (!m) continue;
    users ??= m.users;
    values[name] = m.values;
  }
  return users && { users, values };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Groups finished runs into table rows, in the order their first runs were made. Runs must share
 * one split: otherwise neither the numbers nor the per-user pairing would be comparable.
 */
export function rowsFromRuns(db: Db, runs: RunSummary[], sel: RowSelection): TableRow[] {
  const done = runs.filter((r) => r.status === 'done' && r.test);
  const splits = [...new Set(done.map((r) => r.splitId))];
  if (splits.length > 1) throw new Error(`the runs use different splits (${splits.join(', ')}); compare runs of one split`);
  const groups = new Map<string, RunSummary[]>();
  for (const r of done) {
    const key = `${r.label}\u0000${r.model}\u0000${configKey(r)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  let chosen = [...groups.values()];
  if (sel.bestPerLabel) {
    const byLabel = new Map<string, RunSummary[]>();
    for (const g of chosen) {
      const score = mean(g.map((r) => r.valid?.[sel.selectBy] ?? -Infinity));
      const current = byLabel.get(g[0].label);
      const currentScore = current ? mean(current.map((r) => r.valid?.[sel.selectBy] ?? -Infinity)) : -Infinity;
      if (!current || score > currentScore) byLabel.set(g[0].label, g);
    }
    chosen = [...byLabel.values()];
  }
  chosen.sort((a, b) => a[0].id - b[0].id);
  // A label shown with several configurations gets what tells them apart.
  const perLabel = new Map<string, RunSummary[][]>();
  for (const g of chosen) perLabel.set(g[0].label, [...(perLabel.get(g[0].label) ?? []), g]);
  const name = (g: RunSummary[]): string => {
    const siblings = perLabel.get(g[0].label) ?? [];
    if (siblings.length < 2) return g[0].label;
    const interests = new Set(siblings.map((s) => s[0].interests));
    return interests.size === siblings.length ? `${g[0].label} (#I ${g[0].interests})` : `${g[0].label} (runs ${g.map((r) => r.id).join(', ')})`;
  };
  return chosen.map((g) => {
    const perUser = g.map((r) => perUserOf(db, r)).filter((p): p is PerUserValues => p !== undefined);
    const merged = perUser.length === g.length ? meanPerUser(perUser) : undefined;
    return { label: name(g), interests: g[0].interests, runs: g.map((r) => r.test!), ...(merged ? { perUser: merged } : {}) };
  });
}
