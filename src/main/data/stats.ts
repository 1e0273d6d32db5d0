// Descriptive statistics of a split for the dataset screen: phase sizes, how long the training
// sequences are, and how skewed item popularity is.
import type { Histogram, PhaseCounts, SplitStats } from '../../shared/stats.ts';
import type { SplitData } from './split.ts';

/** Power-of-two histogram of positive integers: bin b holds [2^b, 2^(b+1) - 1]. */
export function log2Histogram(values: ArrayLike<number>): Histogram {
  const counts: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 1) continue;
    const b = Math.floor(Math.log2(v));
    while (counts.length <= b) counts.push(0);
    counts[b]++;
  }
  return { lo: counts.map((_, b) => 2 ** b), hi: counts.map((_, b) => 2 ** (b + 1) - 1), counts };
}

function phaseCounts(seqs: readonly Int32Array[]): PhaseCounts {
  let users = 0;
  let interactions = 0;
  for (const s of seqs) {
    if (s.length > 0) users++;
    interactions += s.length;
  }
  return { users, interactions };
}

export function computeSplitStats(split: SplitData, topN = 20): SplitStats {
  const popularity = split.itemCounts.subarray(1);
  const order = Array.from(popularity.keys()).sort((a, b) => popularity[b] - popularity[a] || a - b);
  return {
    splitId: split.id,
    users: split.users.length,
    items: split.numItems - 1,
    train: phaseCounts(split.train),
    valid: phaseCounts(split.valid),
    test: phaseCounts(split.test),
    lengthHistogram: log2Histogram(split.train.map((s) => s.length)),
    popularityHistogram: log2Histogram(popularity),
    topItems: order.slice(0, topN).map((i) => ({ iid: split.vocab[i + 1], count: popularity[i] })),
  };
}
