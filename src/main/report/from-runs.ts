// Builds comparison-table rows from stored runs: runs that differ only by seed form one row
// (mean ± std over distinct seeds), and per-user test values feed the significance test.
import type { Metrics, RunSummary } from '../../shared/types.ts';
import { loadUserMetrics, userMetricNames } from '../store/user-metrics.ts';
import type { Db } from '../store/db.ts';
import { loadListMetrics } from '../store/run-lists.ts';
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

/** The run's test metrics with its beyond-accuracy values (stored beside them). */
function testMetricsOf(db: Db, run: RunSummary): Metrics {
  return { ...loadListMetrics(db, run.id, 'test'), ...run.test };
}

/** The runs of one table row: one run per distinct seed, first run first. */
export type RunGroup = RunSummary[];

/**
 * Groups finished runs into table rows, in the order their first runs were made. Runs with the
 * same model and configuration are one experiment whatever their labels (a sweep's "CMI (#I 4)"
 * and a plain "CMI" with the same config); of several runs with one seed (a re-run) only the
 * first counts, so mean ± std and the paired tests see distinct seeds only. Runs must share one
 * split: otherwise neither the numbers nor the per-user pairing would be comparable.
 */
export function groupRuns(runs: RunSummary[], sel: RowSelection): RunGroup[] {
  const done = runs.filter((r) => r.status === 'done' && r.test).sort((a, b) => a.id - b.id);
  const splits = [...new Set(done.map((r) => r.splitId))];
  if (splits.length > 1) throw new Error(`the runs use different splits (${splits.join(', ')}); compare runs of one split`);
  const groups = new Map<string, RunSummary[]>();
  for (const r of done) {
    const key = `${r.model}\u0000${configKey(r)}`;
    const g = groups.get(key) ?? [];
    if (!g.some((x) => x.seed === r.seed)) g.push(r);
    groups.set(key, g);
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
  return chosen.sort((a, b) => a[0].id - b[0].id);
}

/** Row labels of the groups: a label shown with several configurations gets what tells them apart. */
export function groupLabels(groups: RunGroup[]): string[] {
  const perLabel = new Map<string, RunGroup[]>();
  for (const g of groups) perLabel.set(g[0].label, [...(perLabel.get(g[0].label) ?? []), g]);
  return groups.map((g) => {
    const siblings = perLabel.get(g[0].label) ?? [];
    if (siblings.length < 2) return g[0].label;
    const interests = new Set(siblings.map((s) => s[0].interests));
    return interests.size === siblings.length ? `${g[0].label} (#I ${g[0].interests})` : `${g[0].label} (runs ${g.map((r) => r.id).join(', ')})`;
  });
}

/** Per-user test values of a group: the run's own, or their per-user mean over the seeds. */
export function groupPerUser(db: Db, g: RunGroup): PerUserValues | undefined {
  const perUser = g.map((r) => perUserOf(db, r)).filter((p): p is PerUserValues => p !== undefined);
  return perUser.length === g.length ? meanPerUser(perUser) : undefined;
}

/** Table rows from stored runs (see groupRuns). */
export function rowsFromRuns(db: Db, runs: RunSummary[], sel: RowSelection): TableRow[] {
  const groups = groupRuns(runs, sel);
  const labels = groupLabels(groups);
  return groups.map((g, i) => {
    const merged = groupPerUser(db, g);
    return { label: labels[i], interests: g[0].interests, runs: g.map((r) => testMetricsOf(db, r)), ...(merged ? { perUser: merged } : {}) };
  });
}
