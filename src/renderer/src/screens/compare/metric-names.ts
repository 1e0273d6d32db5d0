// Display names of the table metrics (the renderer cannot import the core's metricLabels).
import type { TableMetric } from '../../../../shared/api.ts';

export const METRIC_NAMES: Record<TableMetric, string> = {
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

export const ACCURACY_METRICS: TableMetric[] = ['recall', 'hitrate', 'ndcg', 'precision', 'mrr'];
/** Beyond accuracy: coverage and Gini describe the catalogue and have no per-user values. */
export const BEYOND_METRICS: TableMetric[] = ['coverage', 'gini', 'tail', 'novelty', 'ild'];
export const PER_USER_METRICS: ReadonlySet<TableMetric> = new Set<TableMetric>(['recall', 'hitrate', 'ndcg', 'precision', 'mrr', 'tail', 'novelty', 'ild']);
