// Which interest each history item belongs to, the one definition interest alignment uses for
// every model (docs/protocol.md "## Interest alignment"): a model's implicit category where it
// has one (CMI, OPAL: Inspection.category), else the interest that wins the item, argmax over
// the user's interest vectors of their inner product with the item's embedding (the score
// retrieval ranks by).
import * as tf from '@tensorflow/tfjs';
import type { SeqRecModel } from './types.ts';

export type AssignmentKind = 'category' | 'argmax-score';

/** [B, L] hard category from a soft assignment [B, L, m]: argmax over m, -1 on padding. */
export function hardCategory(assignment: tf.Tensor3D, history: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.mul(tf.add(tf.argMax(assignment, -1), 1), tf.cast(tf.greater(history, 0), 'int32')), 1) as tf.Tensor2D);
}

/** The interest of every history item, [B * L] row-major, -1 on padding; and how it was chosen. */
export function assignInterests(model: SeqRecModel, history: tf.Tensor2D): { interests: Int32Array; kind: AssignmentKind } {
  const ins = model.inspect?.(history);
  if (ins) tf.dispose([ins.assignment, ins.hard, ins.weights].filter((t) => t !== undefined));
  if (ins?.category) {
    const interests = Int32Array.from(ins.category.dataSync());
    ins.category.dispose();
    return { interests, kind: 'category' };
  }
  const out = tf.tidy(() => {
    const mask = tf.cast(tf.greater(history, 0), 'int32');
    if (model.numInterests === 1) return tf.sub(mask, 1);
    const u = model.interests(history);
    const table = model.itemTable();
    const v = tf.gather(table, history);
    // [B, L, d] x [B, d, m]: each item's score under each interest.
    const scores = tf.matMul(v, u, false, true);
    return tf.sub(tf.mul(tf.add(tf.argMax(scores, -1), 1), mask), 1);
  });
  const interests = Int32Array.from(out.dataSync());
  out.dispose();
  return { interests, kind: 'argmax-score' };
}
