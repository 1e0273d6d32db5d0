// The users evaluated in one phase, their truncated histories and their target sets
// (model-and-protocol.md section 2): validation predicts the validation day from the training
// items; test predicts the test day from training + validation items.
import type { SplitData } from '../data/split.ts';

export type Phase = 'valid' | 'test';

export interface EvalSet {
  phase: Phase;
  /** Dataset uids of the evaluated users (those with a non-empty target). */
  users: Int32Array;
  maxlen: number;
  /** [n, maxlen] row-major, the last `maxlen` history items, LEFT-padded with 0. */
  histories: Int32Array;
  /** Target items as sets: a repeated positive counts once (the authors' lists double-count). */
  targets: ReadonlySet<number>[];
}

export function evalSet(split: SplitData, phase: Phase, maxlen: number): EvalSet {
  if (!Number.isInteger(maxlen) || maxlen < 1) throw new Error(`maxlen must be a positive integer, got ${maxlen}`);
  const rows: number[] = [];
  const targets: ReadonlySet<number>[] = [];
  const source = phase === 'valid' ? split.valid : split.test;
  source.forEach((t, u) => {
    if (t.length === 0) return;
    rows.push(u);
    targets.push(new Set(t));
  });
  const histories = new Int32Array(rows.length * maxlen);
  rows.forEach((u, r) => {
    // Test history = training items then validation items; fill right to left.
    const parts = phase === 'valid' ? [split.train[u]] : [split.train[u], split.valid[u]];
    let col = maxlen;
    for (let p = parts.length - 1; p >= 0 && col > 0; p--) {
      const take = Math.min(col, parts[p].length);
      col -= take;
      histories.set(parts[p].subarray(parts[p].length - take), r * maxlen + col);
    }
  });
  return { phase, users: Int32Array.from(rows, (u) => split.users[u]), maxlen, histories, targets };
}
