// Each metric by user-activity bucket (test-history length) and by item-popularity bucket of
// the target items (docs/protocol.md, section 7): one table per bucket, rows as in compare.
import type { Metrics } from '../../shared/types.ts';
import type { SplitData } from '../data/split.ts';
import { scoreLists } from '../eval/metrics.ts';
import { evalSet } from '../eval/sets.ts';
import type { Db } from '../store/db.ts';
import { loadRunLists } from '../store/run-lists.ts';
import { groupPerUser, type RunGroup } from './from-runs.ts';
import { ACCURACY_METRICS, PER_USER_METRICS, type BreakdownKind, type TableMetric } from '../../shared/tables.ts';
import { meanPerUser, type PerUserValues, type TableRow } from './table.ts';

export const BUCKETS = 5;

export interface BreakdownBucket {
  label: string;
  /** Users evaluated in the bucket. */
  users: number;
  rows: TableRow[];
}

/** The mean of each metric's per-user values. */
function means(values: Record<string, ArrayLike<number>>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(values)) {
    if (!v.length) continue;
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i];
    out[k] = sum / v.length;
  }
  return out;
}

/** The values of the users in `keep`. */
function restrict(p: PerUserValues, keep: ReadonlySet<number>): PerUserValues {
  const idx = Array.from(p.users.keys()).filter((i) => keep.has(p.users[i]));
  const values: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(p.values)) values[k] = Float64Array.from(idx, (i) => v[i]);
  return { users: Int32Array.from(idx, (i) => p.users[i]), values };
}

/** Quintile edges of `values` (ascending, distinct), so bucket b holds edges[b] <= v < edges[b+1]. */
export function quantileEdges(values: number[], buckets = BUCKETS): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges = [sorted[0]];
  for (let b = 1; b < buckets; b++) {
    const e = sorted[Math.floor((b * sorted.length) / buckets)];
    if (e > edges[edges.length - 1]) edges.push(e);
  }
  edges.push(sorted[sorted.length - 1] + 1);
  return edges;
}

/** Users by test-history length (training + validation items, before the maxlen cut), in
 *  quintiles of the evaluated test users; the per-user values of each run, averaged per bucket. */
export function activityBreakdown(db: Db, groups: RunGroup[], labels: string[], split: SplitData): BreakdownBucket[] {
  const set = evalSet(split, 'test', split.params.maxlen);
  const rowOf = new Map<number, number>();
  split.users.forEach((uid, u) => rowOf.set(uid, u));
  const length = new Map<number, number>();
  for (const uid of set.users) {
    const u = rowOf.get(uid)!;
    length.set(uid, split.train[u].length + split.valid[u].length);
  }
  const edges = quantileEdges([...length.values()]);
  const perRun = groups.map((g) => g.map((r) => groupPerUser(db, [r])));
  const buckets: BreakdownBucket[] = [];
  for (let b = 0; b + 1 < edges.length; b++) {
    const keep = new Set([...length].filter(([, n]) => n >= edges[b] && n < edges[b + 1]).map(([uid]) => uid));
    const rows = groups.map((g, i): TableRow => {
      const runs = perRun[i].map((p) => (p ? restrict(p, keep) : undefined));
      const merged = runs.every((p) => p !== undefined) ? meanPerUser(runs as PerUserValues[]) : undefined;
      return { label: labels[i], interests: g[0].interests, runs: runs.map((p) => (p ? means(p.values) : {})), ...(merged ? { perUser: merged } : {}) };
    });
    buckets.push({ label: `history ${edges[b]}–${edges[b + 1] - 1} items`, users: keep.size, rows });
  }
  return buckets;
}

/** Item buckets of equal training-interaction mass, most popular first: bucket[item] in 0..4. */
export function popularityBuckets(split: SplitData, buckets = BUCKETS): { bucket: Int8Array; items: number[] } {
  const counts = split.itemCounts;
  const ids = Array.from({ length: split.numItems - 1 }, (_, i) => i + 1).sort((a, b) => counts[b] - counts[a] || a - b);
  const total = ids.reduce((s, i) => s + counts[i], 0);
  const bucket = new Int8Array(split.numItems).fill(-1);
  const items = new Array<number>(buckets).fill(0);
  let before = 0;
  for (const i of ids) {
    // An item goes to the bucket where its share of the interactions starts.
    const b = Math.min(buckets - 1, Math.floor((before / total) * buckets));
    bucket[i] = b;
    items[b]++;
    before += counts[i];
  }
  return { bucket, items };
}

/** Ranking metrics on the target items of each popularity bucket (users with such a target),
 *  from the runs' stored test lists; runs without stored lists have no value. */
export function popularityBreakdown(db: Db, groups: RunGroup[], labels: string[], split: SplitData): BreakdownBucket[] {
  const set = evalSet(split, 'test', split.params.maxlen);
  const { bucket, items } = popularityBuckets(split);
  const lists = groups.map((g) => g.map((r) => loadRunLists(db, r.id, 'test')));
  const out: BreakdownBucket[] = [];
  for (let b = 0; b < items.length; b++) {
    const users: number[] = [];
    const targets: Set<number>[] = [];
    set.targets.forEach((t, r) => {
      const inBucket = new Set([...t].filter((i) => bucket[i] === b));
      if (inBucket.size) (users.push(set.users[r]), targets.push(inBucket));
    });
    const uids = Int32Array.from(users);
    const rows = groups.map((g, i): TableRow => {
      const perRun = lists[i].map((l) => {
        if (!l || !users.length) return undefined;
        const rowOf = new Map<number, number>();
        l.users.forEach((uid, r) => rowOf.set(uid, r));
        if (!users.every((uid) => rowOf.has(uid))) return undefined;
        const sub = new Int32Array(users.length * l.k);
        users.forEach((uid, j) => sub.set(l.items.subarray(rowOf.get(uid)! * l.k, (rowOf.get(uid)! + 1) * l.k), j * l.k));
        return scoreLists(sub, l.k, targets);
      });
      const perUser = perRun.every((s) => s !== undefined) ? meanPerUser(perRun.map((s) => ({ users: uids, values: s!.perUser }))) : undefined;
      return { label: labels[i], interests: g[0].interests, runs: perRun.map((s) => s?.metrics ?? {}), ...(perUser ? { perUser } : {}) };
    });
    const name = b === 0 ? 'most popular' : b === items.length - 1 ? 'least popular' : `bucket ${b + 1}`;
    out.push({ label: `items P${b + 1} (${name}, ${items[b]} items, ~${100 / items.length}% of training interactions)`, users: users.length, rows });
  }
  return out;
}

/** The metrics a breakdown can show: popularity buckets score the ranking metrics on their
 *  targets; activity buckets average any per-user metric (coverage and Gini have none). */
export function breakdownMetrics(kind: BreakdownKind, metrics: TableMetric[]): TableMetric[] {
  const keep = new Set<TableMetric>(kind === 'popularity' ? ACCURACY_METRICS : PER_USER_METRICS);
  const shown = metrics.filter((m) => keep.has(m));
  if (!shown.length) throw new Error(`a ${kind} breakdown shows ${kind === 'popularity' ? `ranking metrics (${ACCURACY_METRICS.join(', ')})` : `per-user metrics (${PER_USER_METRICS.join(', ')})`}; pick one`);
  return shown;
}

export function breakdown(db: Db, kind: BreakdownKind, groups: RunGroup[], labels: string[], split: SplitData): BreakdownBucket[] {
  return kind === 'activity' ? activityBreakdown(db, groups, labels, split) : popularityBreakdown(db, groups, labels, split);
}
