// Most-popular floor: every user gets the training set's most frequent items. Written as a
// one-interest model so the shared retrieval (max inner product, history excluded) ranks by
// popularity: the user vector is the constant 1 and each item's "embedding" its count.
import * as tf from '@tensorflow/tfjs';
import type { LossOutput, ModelContext, ModelDef, SeqRecModel } from './types.ts';

class Pop implements SeqRecModel {
  readonly numInterests = 1;
  readonly variables: Record<string, tf.Variable> = {};
  readonly needs = {};
  /** [numItems, 1] training counts; row 0 (padding) is never retrieved. */
  private readonly counts: tf.Tensor2D;

  constructor(ctx: ModelContext) {
    if (ctx.itemCounts.length !== ctx.numItems) throw new Error(`pop: itemCounts has ${ctx.itemCounts.length} entries, numItems is ${ctx.numItems}`);
    this.counts = tf.tensor2d(Float32Array.from(ctx.itemCounts), [ctx.numItems, 1]);
  }

  loss(): LossOutput {
    throw new Error('pop has nothing to train');
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.ones([history.shape[0], 1, 1]);
  }

  itemTable(): tf.Tensor2D {
    return tf.clone(this.counts);
  }

  dispose(): void {
    this.counts.dispose();
  }
}

export const pop: ModelDef = {
  name: 'pop',
  label: 'Pop',
  paper: 'Most popular training items (non-personalised floor).',
  multiInterest: false,
  sharedDefaults: { interests: 1 },
  fields: [],
  trainable: false,
  create: (ctx) => new Pop(ctx),
};
