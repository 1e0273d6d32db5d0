// The early-stopping validation set of a run: every validation user, or (config validUsers = N)
// a fixed sample of N of them drawn with the run seed. The draw depends only on the seed and the
// stored split, so a resumed run evaluates the same users (docs/protocol.md, "Early-stopping validation on a sample").
import { Rng } from '../data/rng.ts';
import type { EvalSet } from '../eval/sets.ts';

/** Salts the run seed so the sample is not correlated with the sampler's stream. */
const SAMPLE_SALT = 0x5eed_0a11;

/** Row indices of `n` of `total` users, ascending; all of them when n is 0 or at least total. */
export function sampleRows(total: number, n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`validUsers must be a whole number >= 0 (0 = every user), got ${n}`);
  if (n === 0 || n >= total) return Int32Array.from({ length: total }, (_, i) => i);
  // Partial Fisher-Yates: the first n slots end up a uniform sample without replacement.
  const rows = Int32Array.from({ length: total }, (_, i) => i);
  const rng = new Rng((seed ^ SAMPLE_SALT) >>> 0);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(total - i);
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows.subarray(0, n).sort();
}

/** The evaluation set restricted to the sampled users (the set itself when every user is kept). */
export function validationSample(set: EvalSet, n: number, seed: number): EvalSet {
  const total = set.users.length;
  const rows = sampleRows(total, n, seed);
  if (rows.length === total) return set;
  const { maxlen } = set;
  const histories = new Int32Array(rows.length * maxlen);
  rows.forEach((r, i) => histories.set(set.histories.subarray(r * maxlen, (r + 1) * maxlen), i * maxlen));
  return {
    phase: set.phase,
    users: Int32Array.from(rows, (r) => set.users[r]),
    maxlen,
    histories,
    targets: Array.from(rows, (r) => set.targets[r]),
  };
}
