// After a run's final test evaluation: its test-day lists and their beyond-accuracy metrics,
// stored beside the accuracy metrics (run_lists, run_list_metrics, run_user_metrics).
import type { SplitData } from '../data/split.ts';
import type { SeqRecModel } from '../models/types.ts';
import type { Db } from '../store/db.ts';
import { saveListMetrics, saveRunLists } from '../store/run-lists.ts';
import { beyondAccuracy, trainingPopularity, type ItemVectors } from './beyond.ts';
import { defaultKs } from './metrics.ts';
import { retrieve } from './retrieve.ts';
import { evalSet } from './sets.ts';
import { saveUserMetrics } from '../store/user-metrics.ts';

/** Stores a run's lists and beyond-accuracy values from external or model lists alike. */
export function storeListsAndBeyond(db: Db, runId: number, split: SplitData, users: Int32Array, k: number, items: Int32Array, vectors?: ItemVectors): void {
  saveRunLists(db, runId, 'test', { users, k, items });
  const beyond = beyondAccuracy(items, k, trainingPopularity(split.numItems, split.train), vectors);
  saveListMetrics(db, runId, 'test', beyond.metrics);
  saveUserMetrics(db, runId, 'test', users, beyond.perUser);
}

/**
 * Retrieves the test-day top max(K) of the model as it is now (the best checkpoint, restored by
 * the trainer) and stores them with their beyond-accuracy metrics; intra-list diversity uses the
 * model's item table. A second retrieval next to evaluate()'s: it costs one test pass.
 */
export function recordTestLists(db: Db, runId: number, model: SeqRecModel, split: SplitData, maxlen: number): void {
  const set = evalSet(split, 'test', maxlen);
  if (set.users.length === 0) return;
  const k = Math.max(...defaultKs);
  const lists = retrieve(model, set.histories, set.users.length, maxlen, k);
  const table = model.itemTable();
  const [rows, cols] = table.shape;
  const data = table.dataSync() as Float32Array;
  table.dispose();
  storeListsAndBeyond(db, runId, split, set.users, k, lists.items, { rows, cols, data });
}
