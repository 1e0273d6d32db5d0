// Ranking metrics of retrieved lists against target sets (model-and-protocol.md section 6).
import { ACCURACY_METRICS, type AccuracyMetric } from '../../shared/tables.ts';
import type { Metrics } from '../../shared/types.ts';

export const defaultKs: readonly number[] = [10, 20, 50, 100, 200];

export function metricName(kind: AccuracyMetric, k: number): string {
  return `${kind}@${k}`;
}

export interface ScoredLists {
  /** Mean over users of each metric, by name (`recall@50`, ...). */
  metrics: Metrics;
  /** Each metric's per-user values, aligned with the lists' rows. */
  perUser: Record<string, Float32Array>;
}

/**
 * Recall@K = |top K ∩ T| / |T| and HitRate@K = [top K ∩ T ≠ ∅] with T the target SET;
 * NDCG@K with binary relevance, DCG = Σ 1/log2(rank + 1) over hits in the top K and the ideal
 * DCG over min(|T|, K) hits. Precision@K = |top K ∩ T| / K (K, not the list length: a short
 * list is not rewarded for being short); MRR@K = 1 / the rank of the first hit in the top K, 0
 * without one. `lists` is [n, width] (0 = no item); K beyond the width, or beyond
 * what the catalogue could fill, counts the list as it is. A user with an empty target set has
 * nothing to measure and is rejected: the evaluation set leaves such users out.
 */
export function scoreLists(lists: Int32Array, width: number, targets: readonly ReadonlySet<number>[], ks: readonly number[] = defaultKs): ScoredLists {
  const n = targets.length;
  if (n === 0) throw new Error('no evaluated user: every target set of this phase is empty');
  if (lists.length !== n * width) throw new Error(`lists hold ${lists.length} ids, expected ${n} x ${width}`);
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new Error(`K must be a positive integer, got ${k}`);
  const perUser: Record<string, Float32Array> = {};
  const sums: Record<string, number> = {};
  for (const kind of ACCURACY_METRICS) {
    for (const k of ks) {
      perUser[metricName(kind, k)] = new Float32Array(n);
      sums[metricName(kind, k)] = 0;
    }
  }
  const maxK = Math.max(0, ...ks);
  const discount = Float64Array.from({ length: maxK }, (_, i) => 1 / Math.log2(i + 2));
  const idealPrefix = new Float64Array(maxK + 1); // idealPrefix[j] = Σ_{i<j} discount[i]
  for (let i = 0; i < maxK; i++) idealPrefix[i + 1] = idealPrefix[i] + discount[i];
  // hitsAt[i] / dcgAt[i]: hits and DCG within the first i list positions.
  const hitsAt = new Float64Array(maxK + 1);
  const dcgAt = new Float64Array(maxK + 1);
  for (let u = 0; u < n; u++) {
    const t = targets[u];
    if (t.size === 0) throw new Error(`user row ${u} has no target; leave such users out of the evaluation set`);
    const seen = new Set<number>(); // a list never repeats an item, but guard the count anyway
    let firstHit = Infinity; // 1-based rank of the first hit
    for (let i = 0; i < maxK; i++) {
      const item = i < width ? lists[u * width + i] : 0;
      const hit = item !== 0 && t.has(item) && !seen.has(item);
      if (hit) {
        seen.add(item);
        if (firstHit === Infinity) firstHit = i + 1;
      }
      hitsAt[i + 1] = hitsAt[i] + (hit ? 1 : 0);
      dcgAt[i + 1] = dcgAt[i] + (hit ? discount[i] : 0);
    }
    for (const k of ks) {
      const values: Record<AccuracyMetric, number> = {
        recall: hitsAt[k] / t.size,
        hitrate: hitsAt[k] > 0 ? 1 : 0,
        ndcg: dcgAt[k] / idealPrefix[Math.min(t.size, k)],
        precision: hitsAt[k] / k,
        mrr: firstHit <= k ? 1 / firstHit : 0,
      };
      for (const kind of ACCURACY_METRICS) {
        const name = metricName(kind, k);
        perUser[name][u] = values[kind];
        sums[name] += values[kind];
      }
    }
  }
  const metrics: Metrics = {};
  for (const name of Object.keys(perUser)) metrics[name] = sums[name] / n;
  return { metrics, perUser };
}
