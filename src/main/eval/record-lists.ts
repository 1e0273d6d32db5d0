// A run's test-day lists (from the trainer's final test evaluation, or imported from another
// system) and their beyond-accuracy metrics, stored beside the accuracy metrics (run_lists,
// run_list_metrics, run_user_metrics).
import type { SplitData } from '../data/split.ts';
import type { Db } from '../store/db.ts';
import { saveListMetrics, saveRunLists } from '../store/run-lists.ts';
import { beyondAccuracy, trainingPopularity, type ItemVectors } from './beyond.ts';
import { saveUserMetrics } from '../store/user-metrics.ts';

/** Stores a run's lists and beyond-accuracy values from external or model lists alike. */
export function storeListsAndBeyond(db: Db, runId: number, split: SplitData, users: Int32Array, k: number, items: Int32Array, vectors?: ItemVectors): void {
  saveRunLists(db, runId, 'test', { users, k, items });
  const beyond = beyondAccuracy(items, k, trainingPopularity(split.numItems, split.train), vectors);
  saveListMetrics(db, runId, 'test', beyond.metrics);
  saveUserMetrics(db, runId, 'test', users, beyond.perUser);
}
