// The shapes of a split's descriptive statistics (computed by src/main/data/stats.ts); the
// contract and the renderer need them, never the code computing them.

/** Bins [lo, hi] (inclusive integers) with their counts. */
export interface Histogram {
  lo: number[];
  hi: number[];
  counts: number[];
}

export interface PhaseCounts {
  /** Users with a non-empty sequence in this phase (for valid/test: the evaluated users). */
  users: number;
  interactions: number;
}

export interface SplitStats {
  splitId: number;
  users: number;
  /** Vocabulary size without padding. */
  items: number;
  train: PhaseCounts;
  valid: PhaseCounts;
  test: PhaseCounts;
  /** Training sequence lengths, power-of-two bins (1, 2-3, 4-7, ...): lengths span orders of magnitude. */
  lengthHistogram: Histogram;
  /** Training frequency of the vocabulary items, power-of-two bins. */
  popularityHistogram: Histogram;
  /** The most frequent training items (dataset iids), most frequent first. */
  topItems: { iid: number; count: number }[];
}
