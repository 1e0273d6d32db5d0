// Soft category interests over a unit-length item table and category table: CMI's
// multi-interest encoder, which OPAL's pre-train stage is exactly.
import * as tf from '@tensorflow/tfjs';
import { embed, idMask, l2normalize, maskedSoftmax } from './masks.ts';

/** Soft interests of a batch of sequences (CMI's encoder; OPAL's pre-train). */
export type SoftInterests = {
  /** [B, L, d] item rows of the sequence (unit length; padding rows zero). */
  items: tf.Tensor3D;
  /** [B, L] 1 on items, 0 on padding. */
  mask: tf.Tensor2D;
  /** [B, L, m] cosine / epsilon of each item with each category. */
  logits: tf.Tensor3D;
  /** [B, L, m] soft category assignment, 0 on padding. */
  assignment: tf.Tensor3D;
  /** [B, m] total assignment per category. */
  weights: tf.Tensor2D;
  /** [B, m, d] normalised per-category interests (category embedding where empty). */
  interests: tf.Tensor3D;
};

/** Soft interests of left-padded sequences [B, L] from unit-length item rows and categories. */
export function softInterests(item: tf.Tensor2D, category: tf.Tensor2D, seq: tf.Tensor2D, epsilon: number): SoftInterests {
  return tf.tidy(() => {
    const [B] = seq.shape;
    const m = category.shape[0];
    const mask = idMask(seq);
    const v = embed(item, seq) as tf.Tensor3D;
    // Rows are unit length, so the inner product is the paper's cosine (eq. 1).
    const cos = tf.reshape(tf.matMul(tf.reshape(v, [-1, v.shape[2]]), category, false, true), [B, -1, m]);
    const logits = tf.div(cos, epsilon) as tf.Tensor3D;
    const assignment = maskedSoftmax(logits, tf.expandDims(mask, -1)) as tf.Tensor3D;
    const weights = tf.sum(assignment, 1) as tf.Tensor2D;
    const pooled = l2normalize(tf.matMul(assignment, v, true, false));
    // A category no history item reaches falls back to its own embedding (authors' code).
    // step(): 1 where the weight is positive, with a zero gradient (greater() has none).
    const reached = tf.expandDims(tf.step(weights), -1);
    const interests = tf.add(tf.mul(reached, pooled), tf.mul(tf.sub(1, reached), tf.expandDims(category, 0))) as tf.Tensor3D;
    return { items: v, mask, logits, assignment, weights, interests };
  });
}
