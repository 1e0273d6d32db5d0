// Multi-interest self-attention (ComiRec-SA, Cen et al. KDD 2020; the attention Re4 builds on):
// A = softmax over the sequence of W2 tanh(W1 x + b1), one row of A per interest (head), and
// interests = A V. Exported so every model using it shares one implementation.
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, initUniform } from './init.ts';
import { maskedSoftmax } from './masks.ts';

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

/**
 * Multi-interest self-attention. `keys` [B, L, d] is what the attention reads (ComiRec-SA:
 * item embeddings plus position embeddings); `values` [B, L, dv] is what it pools (ComiRec-SA:
 * the item embeddings alone). `mask` is [B, L] (padding) or [B, heads, L] (per-head
 * membership, e.g. Octopus's channels); a head with no valid position gets all-zero weights
 * and a zero interest.
 */
export function multiInterestAttention(
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
