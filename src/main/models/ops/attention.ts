// Multi-interest self-attention (ComiRec-SA, Cen et al. KDD 2020; the attention Re4 builds on):
// A = softmax over the sequence of W2 tanh(W1 x + b1), one row of A per interest (head), and
// interests = A V. Exported so every model using it shares one implementation.
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, initUniform } from './init.ts';
import { permuteRows } from './grad.ts';
import { maskedSoftmax } from './masks.ts';
import { lastColumns, lengthOrder, usedWidth } from './padding.ts';

export interface SelfAttentionParams {
  /** [d, hidden] first projection (ComiRec: hidden = 4d, tanh). */
  w1: tf.Variable<tf.Rank.R2>;
  /** [hidden] its bias. */
  b1: tf.Variable<tf.Rank.R1>;
  /** [hidden, heads] one score per head. No second bias: a per-head constant cancels in the
   *  softmax over the sequence. */
  w2: tf.Variable<tf.Rank.R2>;
}

/** Weights drawn U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch.nn.Linear's bound, the shared init). */
export function selfAttentionParams(dim: number, hidden: number, heads: number, seed: number): SelfAttentionParams {
  return {
    w1: initUniform([dim, hidden], deriveSeed(seed, 'w1'), dim) as tf.Variable<tf.Rank.R2>,
    b1: initUniform([hidden], deriveSeed(seed, 'b1'), dim) as tf.Variable<tf.Rank.R1>,
    w2: initUniform([hidden, heads], deriveSeed(seed, 'w2'), hidden) as tf.Variable<tf.Rank.R2>,
  };
}

/** The variables under `prefix`, for a model's `variables` record. */
export function selfAttentionVariables(prefix: string, p: SelfAttentionParams): Record<string, tf.Variable> {
  return { [`${prefix}.w1`]: p.w1, [`${prefix}.b1`]: p.b1, [`${prefix}.w2`]: p.w2 };
}

/** A type alias (not an interface) so tf.tidy accepts it. */
export type AttentionOutput = {
  /** [B, heads, L] attention of each head over the sequence; exactly 0 where masked. */
  weights: tf.Tensor3D;
  /** [B, heads, dv] = weights @ values. */
  interests: tf.Tensor3D;
};

/** What the inspector shows of an attention model: each head's weights as the assignment of
 *  the history's items to the interests, [B, L, heads]. */
export function attentionAssignment(out: AttentionOutput): tf.Tensor3D {
  return tf.transpose(out.weights, [0, 2, 1]);
}

/** Rows per length-sorted, trimmed chunk of multiInterestAttention. */
const ROWS_PER_CHUNK = 128;

/**
 * Multi-interest self-attention. `keys` [B, L, d] is what the attention reads (ComiRec-SA:
 * item embeddings plus position embeddings); `values` [B, L, dv] is what it pools (ComiRec-SA:
 * the item embeddings alone). `mask` is [B, L] (padding) or [B, heads, L] (per-head
 * membership, e.g. Octopus's channels); a head with no valid position gets all-zero weights
 * and a zero interest.
 *
 * With a [B, L] mask the rows go through sorted by length in chunks trimmed to the columns
 * their longest row fills (lengthOrder, usedWidth): each row attends over its own valid items
 * only, padding gets exactly zero weight, so the values are those of the whole padded width
 * (to the rounding of the pooling product's shorter sums), and histories, ~24 % items on the
 * KuaiRand slice at maxlen 100, cost their items rather than their width.
 */
export function multiInterestAttention(
  p: SelfAttentionParams,
  keys: tf.Tensor3D,
  values: tf.Tensor3D,
  mask: tf.Tensor2D | tf.Tensor3D,
): AttentionOutput {
  if (mask.rank !== 2 || keys.shape[0] === 0) return attendPadded(p, keys, values, mask);
  return tf.tidy(() => {
    const m = mask as tf.Tensor2D;
    const [B, L] = m.shape;
    const { order, inverse } = lengthOrder(m);
    const [ks, vs, ms] = [keys, values, m].map((t) => permuteRows(t, order, inverse));
    const weights: tf.Tensor3D[] = [];
    const interests: tf.Tensor3D[] = [];
    for (let start = 0; start < B; start += ROWS_PER_CHUNK) {
      const n = Math.min(ROWS_PER_CHUNK, B - start);
      const rows = <T extends tf.Tensor>(t: T): T => (n === B ? t : (tf.slice(t, [start], [n]) as T));
      const mc = rows(ms) as tf.Tensor2D;
      const w = usedWidth(mc);
      const out = attendPadded(p, lastColumns(rows(ks) as tf.Tensor3D, w, 1), lastColumns(rows(vs) as tf.Tensor3D, w, 1), lastColumns(mc, w, 1));
      weights.push(w < L ? tf.pad(out.weights, [[0, 0], [0, 0], [L - w, 0]]) : out.weights);
      interests.push(out.interests);
    }
    const joined = (ts: tf.Tensor3D[]) => (ts.length === 1 ? ts[0] : (tf.concat(ts, 0) as tf.Tensor3D));
    return { weights: permuteRows(joined(weights), inverse, order), interests: permuteRows(joined(interests), inverse, order) };
  });
}

/** The attention over the whole width given: the composition the trimmed chunks run. */
export function attendPadded(
  p: SelfAttentionParams,
  keys: tf.Tensor3D,
  values: tf.Tensor3D,
  mask: tf.Tensor2D | tf.Tensor3D,
): AttentionOutput {
  return tf.tidy(() => {
    const [B, L, d] = keys.shape;
    const hidden = tf.tanh(tf.add(tf.matMul(tf.reshape(keys, [B * L, d]), p.w1), p.b1));
    const scores = tf.transpose(tf.reshape(tf.matMul(hidden, p.w2), [B, L, -1]), [0, 2, 1]);
    const m = mask.rank === 2 ? tf.expandDims(mask, 1) : mask;
    const weights = maskedSoftmax(scores, m) as tf.Tensor3D;
    return { weights, interests: tf.matMul(weights, values) as tf.Tensor3D };
  });
}
