// The comparison tables' vocabulary, spelled once: the metric, significance-test, export-format
// and breakdown lists (as const values the contract's validation, the core and the renderer
// share) and the shapes of the tables src/main/report/ computes.

/** Ranking metrics of the retrieved top-K (docs/protocol.md, section 5, Accuracy). */
export const ACCURACY_METRICS = ['recall', 'hitrate', 'ndcg', 'precision', 'mrr'] as const;
/** Beyond accuracy (docs/protocol.md, section 5, Beyond accuracy). */
export const BEYOND_METRICS = ['coverage', 'gini', 'tail', 'novelty', 'ild'] as const;
/** Beyond-accuracy metrics with a value per user; coverage and Gini describe the catalogue. */
export const PER_USER_BEYOND_METRICS = ['tail', 'novelty', 'ild'] as const;
export const TABLE_METRICS = [...ACCURACY_METRICS, ...BEYOND_METRICS] as const;

export type AccuracyMetric = (typeof ACCURACY_METRICS)[number];
export type BeyondMetric = (typeof BEYOND_METRICS)[number];
export type TableMetric = (typeof TABLE_METRICS)[number];

/** Metrics with a per-user value (the paired tests, breakdowns and distributions need one). */
export const PER_USER_METRICS: readonly TableMetric[] = [...ACCURACY_METRICS, ...PER_USER_BEYOND_METRICS];

/** Display names, as the paper spells them. */
export const METRIC_LABELS: Readonly<Record<TableMetric, string>> = {
  recall: 'Recall',
  hitrate: 'HitRate',
  ndcg: 'NDCG',
  precision: 'Precision',
  mrr: 'MRR',
  coverage: 'Coverage',
  gini: 'Gini',
  tail: 'Tail',
  novelty: 'Novelty',
  ild: 'ILD',
};

export const SIGNIFICANCE_TESTS = ['ttest', 'bootstrap', 'none'] as const;
export type SignificanceTest = (typeof SIGNIFICANCE_TESTS)[number];

export const TABLE_FORMATS = ['md', 'csv', 'latex', 'json'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** activity: users by test-history length; popularity: target items by training popularity. */
export const BREAKDOWN_KINDS = ['activity', 'popularity'] as const;
export type BreakdownKind = (typeof BREAKDOWN_KINDS)[number];

export interface TableColumn {
  /** Metric name as stored, e.g. `recall@50`. */
  key: string;
  metric: TableMetric;
  k: number;
}

export interface TableCell {
  /** null where the model has no value for this metric. */
  mean: number | null;
  /** Sample standard deviation over runs; null with a single run. */
  std: number | null;
  /** 1 = best (bold), 2 = second best (underlined), null otherwise. */
  rank: 1 | 2 | null;
  /** The significance marker: best model, different from the runner-up at p < alpha. */
  significant: boolean;
}

export interface ComparisonRow {
  label: string;
  interests: number;
  runs: number;
  cells: TableCell[];
}

export interface ColumnSummary {
  /** Row index of the single best model; null when several share the best value. */
  best: number | null;
  /** Row index of the best model among the others (ties: the higher unrounded mean, then the earlier row). */
  runnerUp: number | null;
  /** Improv. in %: the focus model (or the best) over the best other model; null shows as '/'. */
  improvement: number | null;
  /** Two-sided p of best vs runner-up; null without a test or per-user values. */
  p: number | null;
  /** Users in that paired test. */
  users: number | null;
}

export interface ComparisonTable {
  title: string | null;
  columns: TableColumn[];
  rows: ComparisonRow[];
  summary: ColumnSummary[];
  significance: SignificanceTest;
  alpha: number;
  digits: number;
  focus: string | null;
  /** Sentences explaining the marks, for the caption or a note under the table. */
  notes: string[];
}

/** One row's per-user distribution of a metric (src/main/report/distribution.ts). */
export interface UserDistribution {
  label: string;
  metric: string;
  /** Users with a value (several seeds: their per-user mean). */
  users: number;
  mean: number | null;
  /** [min, Q1, median, Q3, max]; null without per-user values. */
  box: [number, number, number, number, number] | null;
  /** Users with a value above 0 per bin of the shared `edges` (bins.length = edges.length - 1):
   *  the zeros (often most users) are counted in `zeros` instead, so the shape above 0 shows. */
  bins: number[];
  edges: number[];
  /** Users with the value 0 (for recall: no hit at all), often most of them. */
  zeros: number;
}
