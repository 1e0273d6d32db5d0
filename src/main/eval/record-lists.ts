// A run's test-day lists (from the trainer's final test evaluation, or imported from another
// system) and their beyond-accuracy metrics, stored beside the accuracy metrics (run_lists,
// run_list_metrics, run_user_metrics).
import type { SplitData } from '../data/split.ts';
import type { Db } from '../store/db.ts';
import { saveListMetrics, saveRunLists } from '../store/run-lists.ts';
import { beyondAccuracy, trainingPopularity, type BeyondScores, type ItemVectors } from './beyond.ts';
import { saveUserMetrics } from '../store/user-metrics.ts';

/** A run's test-day lists with their beyond-accuracy values, computed once, stored by storeLists. */
export interface ListRecord {
  users: Int32Array;
  k: number;
  items: Int32Array;
  beyond: BeyondScores;
}

/** The beyond-accuracy values of lists from a model or from another system alike. */
export function listRecord(split: SplitData, users: Int32Array, k: number, items: Int32Array, vectors?: ItemVectors): ListRecord {
  return { users, k, items, beyond: beyondAccuracy(items, k, trainingPopularity(split.numItems, split.train), vectors) };
}

/** Stores a list record (the trainer calls it inside its write queue, which may retry it). */
export function storeLists(db: Db, runId: number, r: ListRecord): void {
  saveRunLists(db, runId, 'test', { users: r.users, k: r.k, items: r.items });
  saveListMetrics(db, runId, 'test', r.beyond.metrics);
  saveUserMetrics(db, runId, 'test', r.users, r.beyond.perUser);
}
