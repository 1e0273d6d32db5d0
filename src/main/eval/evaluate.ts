// One evaluation pass: retrieve the top max(K) for every user of the set, then score the lists.
import type { Metrics } from '../../shared/types.ts';
import type { SeqRecModel } from '../models/types.ts';
import { defaultKs, scoreLists } from './metrics.ts';
import { retrieve } from './retrieve.ts';
import type { EvalSet } from './sets.ts';

export interface Evaluation {
  metrics: Metrics;
  /** Per-user values of each metric, aligned with `users`. */
  perUser: Record<string, Float32Array>;
  /** Dataset uids of the evaluated users. */
  users: Int32Array;
  /** [users, k] the retrieved lists (split item ids, best first), k = max(ks). */
  items: Int32Array;
  k: number;
}

/** `onProgress` is called after each block of users retrieval scores (users done, users in all). */
export function evaluate(
  model: SeqRecModel,
  set: EvalSet,
  ks: readonly number[] = defaultKs,
  onProgress?: (done: number, total: number) => void,
): Evaluation {
  const n = set.users.length;
  const k = Math.max(...ks);
  const lists = retrieve(model, set.histories, n, set.maxlen, k, onProgress);
  return { ...scoreLists(lists.items, k, set.targets, ks), users: set.users, items: lists.items, k };
}
