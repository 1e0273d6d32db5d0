// Descriptive statistics of a split for the dataset screen: phase sizes, how long the training
// sequences are, and how skewed item popularity is.
import type { Histogram, SplitStats } from '../../shared/stats.ts';
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

/** Indexes of the n largest values, largest first, ties by index: one pass, no full sort
 *  (a catalogue has 100,000 items and the screen shows 20). */
function topIndexes(values: Int32Array, n: number): number[] {
  const top: number[] = [];
  const before = (a: number, b: number): boolean => values[a] > values[b] || (values[a] === values[b] && a < b);
  for (let i = 0; i < values.length; i++) {
    if (top.length === n && !before(i, top[n - 1])) continue;
    let at = top.length < n ? top.length : n - 1;
    while (at > 0 && before(i, top[at - 1])) at--;
    if (top.length === n) top.pop();
    top.splice(at, 0, i);
  }
  return top;
}

/** Accumulates a split's statistics user by user, so a store can feed it in chunks. */
export class SplitStatsBuilder {
  private readonly phases = { train: { users: 0, interactions: 0 }, valid: { users: 0, interactions: 0 }, test: { users: 0, interactions: 0 } };
  private readonly lengths: number[] = [];
  /** Training frequency per split item id (index 0 stays 0). */
  private readonly itemCounts: Int32Array;

  constructor(private readonly vocab: Int32Array) {
    this.itemCounts = new Int32Array(vocab.length);
  }

  addUser(train: Int32Array, valid: Int32Array, test: Int32Array): void {
    for (const [phase, seq] of [['train', train], ['valid', valid], ['test', test]] as const) {
      if (seq.length > 0) this.phases[phase].users++;
      this.phases[phase].interactions += seq.length;
    }
    this.lengths.push(train.length);
    for (let i = 0; i < train.length; i++) this.itemCounts[train[i]]++;
  }

  result(splitId: number, topN = 20): SplitStats {
    const popularity = this.itemCounts.subarray(1);
    const order = topIndexes(popularity, topN);
    return {
      splitId,
      users: this.lengths.length,
      items: this.vocab.length - 1,
      train: { ...this.phases.train },
      valid: { ...this.phases.valid },
      test: { ...this.phases.test },
      lengthHistogram: log2Histogram(this.lengths),
      popularityHistogram: log2Histogram(popularity),
      topItems: order.map((i) => ({ iid: this.vocab[i + 1], count: popularity[i] })),
    };
  }
}

export function computeSplitStats(split: SplitData, topN = 20): SplitStats {
  const builder = new SplitStatsBuilder(split.vocab);
  split.users.forEach((_, u) => builder.addUser(split.train[u], split.valid[u], split.test[u]));
  return builder.result(split.id, topN);
}
