// The per-user distribution of a metric per table row (stored in run_user_metrics, so far only
// used by the paired tests): box-plot numbers and a histogram on shared bins.
import { quantileSorted } from 'simple-statistics';
import type { UserDistribution } from '../../shared/tables.ts';
import type { Db } from '../store/db.ts';
import { groupPerUser, type RunGroup } from './from-runs.ts';

export const HISTOGRAM_BINS = 20;

export function userDistributions(db: Db, groups: RunGroup[], labels: string[], metric: string): UserDistribution[] {
  const values = groups.map((g) => {
    const v = groupPerUser(db, g)?.values[metric];
    return v ? Float64Array.from(v).sort() : null;
  });
  const top = Math.max(0, ...values.map((v) => (v && v.length ? v[v.length - 1] : 0)));
  const lo = Math.min(0, ...values.map((v) => (v && v.length ? v[0] : 0)));
  const span = top > lo ? top - lo : 1;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => lo + (span * i) / HISTOGRAM_BINS);
  return values.map((v, i) => {
    const bins = new Array<number>(HISTOGRAM_BINS).fill(0);
    if (!v || v.length === 0) return { label: labels[i], metric, users: 0, mean: null, box: null, bins, edges, zeros: 0 };
    let sum = 0;
    let zeros = 0;
    for (const x of v) {
      sum += x;
      if (x === 0) {
        zeros++;
        continue;
      }
      bins[Math.min(HISTOGRAM_BINS - 1, Math.floor(((x - lo) / span) * HISTOGRAM_BINS))]++;
    }
    const s = Array.from(v);
    const box: [number, number, number, number, number] = [s[0], quantileSorted(s, 0.25), quantileSorted(s, 0.5), quantileSorted(s, 0.75), s[s.length - 1]];
    return { label: labels[i], metric, users: v.length, mean: sum / v.length, box, bins, edges, zeros };
  });
}
