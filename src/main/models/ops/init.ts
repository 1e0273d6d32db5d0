// Initialisation every model shares: per-variable seeds, the authors' uniform init, embedding
// tables with a zero padding row, and the normal init of the routing maps.
import * as tf from '@tensorflow/tfjs';

/** A stable 31-bit seed for one variable: FNV-1a over the run seed and the variable's name, so
 *  every variable draws its own stream and adding a variable never shifts the others. */
export function deriveSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  const s = `${seed}:${name}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

/** A trainable variable drawn from U(-1/sqrt(d), 1/sqrt(d)), the authors' initialisation
 *  (d = embedding/hidden size; defaults to the last dimension of `shape`). */
export function initUniform(shape: number[], seed: number, d = shape[shape.length - 1]): tf.Variable {
  const bound = 1 / Math.sqrt(d);
  return tf.tidy(() => tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed)));
}

/** An embedding table [rows, dim] with U(-1/sqrt(dim), 1/sqrt(dim)) rows and row 0 (padding)
 *  all zeros, so padding contributes nothing anywhere and is never retrieved. */
export function embeddingTable(rows: number, dim: number, seed: number): tf.Variable<tf.Rank.R2> {
  const bound = 1 / Math.sqrt(dim);
  return tf.tidy(() => {
    const body = tf.randomUniform([rows - 1, dim], -bound, bound, 'float32', seed);
    return tf.variable(tf.concat([tf.zeros([1, dim]), body], 0) as tf.Tensor2D);
  });
}

/** A variable with every entry `value` (layer-norm gains and offsets, zero-initialised
 *  biases). Made inside tidy: tf.variable keeps its initial tensor's handle alive otherwise. */
export function initConstant(shape: number[], value: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.fill(shape, value)));
}

/** A variable drawn N(0, std^2): the authors' init of the routing maps (MIND's S in
 *  Wang-Yu-Qing/MIND, ComiRec-DR's per-position maps), whose scale sets how sharp the routing
 *  gets, so it is kept rather than replaced by the shared uniform init. */
export function initNormal(shape: number[], seed: number, std = 1): tf.Variable {
  return tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed)));
}
