// Lookups, padding masks and masked reductions. Shapes: B = batch rows, L = sequence length,
// d = embedding size.
import * as tf from '@tensorflow/tfjs';

/** Rows of `table` for integer ids of any shape: [...ids.shape, d]. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  return tf.gather(table, ids);
}

/** 1 where the id is a real item, 0 on padding (id 0); float32, same shape as `ids`. */
export function idMask<T extends tf.Tensor>(ids: T): T {
  return tf.cast(tf.greater(ids, 0), 'float32') as T;
}

/** x / max(||x||, eps) along `axis`, like torch's F.normalize. Written with a clamped squared
 *  norm so an all-zero row (padding) has a finite gradient. */
export function l2normalize<T extends tf.Tensor>(x: T, axis = -1, eps = 1e-12): T {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), axis, true);
    return tf.mul(x, tf.rsqrt(tf.maximum(sq, eps * eps))) as T;
  });
}

/** Mean of x [B, L, d] over the valid steps of mask [B, L] -> [B, d]; 0 for empty rows. */
export function maskedMean(x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const m = tf.expandDims(mask, -1);
    const total = tf.sum(tf.mul(x, m), 1);
    return tf.div(total, tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
  });
}

/** Softmax of `logits` along `axis` where masked entries (mask 0, broadcastable) get exactly 0;
 *  a row with no valid entry is all zeros. */
export function maskedSoftmax<T extends tf.Tensor>(logits: T, mask: tf.Tensor, axis = -1): T {
  return tf.tidy(() => {
    const shifted = tf.add(logits, tf.mul(tf.sub(1, mask), -1e9));
    return tf.mul(tf.softmax(shifted, axis), mask) as T;
  });
}
