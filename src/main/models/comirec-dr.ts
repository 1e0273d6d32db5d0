// ComiRec-DR (Cen et al., KDD 2020): capsule dynamic routing with a separate bilinear map per
// history position and interest, routing logits starting at zero and updated without gradient,
// squash; training reads out the interest that best matches the target. Follows the authors'
// code (THUDM/ComiRec, CapsuleNetwork with bilinear_type=2); docs/models.md "## ComiRec-DR"
// lists every choice.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { ItemModel } from './base.ts';
import { initNormal } from './ops/init.ts';
import { embed, idMask } from './ops/masks.ts';
import { dynamicRouting, hardReadoutLoss } from './ops/routing.ts';

const F = {
  routingIterations: { key: 'routingIterations', label: 'Routing iterations', type: 'integer', default: 3, min: 1 },
} satisfies Record<string, ConfigField>;

class ComiRecDr extends ItemModel<typeof F> implements SeqRecModel {
  readonly needs = {};
  /** [maxlen, d, m*d]: position t's maps for all interests side by side (x -> x W[t]); row
   *  maxlen-1 belongs to the latest item. */
  private readonly maps: tf.Variable<tf.Rank.R3>;

  constructor(ctx: ModelContext) {
    super(ctx, F);
    const d = this.dim;
    this.maps = initNormal([this.maxlen, d, this.numInterests * d], this.seedOf('maps')) as tf.Variable<tf.Rank.R3>;
    this.register({ maps: this.maps });
  }

  private encode(seq: tf.Tensor2D): { capsules: tf.Tensor3D; coupling: tf.Tensor3D } {
    return tf.tidy(() => {
      const [B, L] = seq.shape;
      const [maxlen, d] = this.maps.shape;
      const m = this.numInterests;
      if (L > maxlen) throw new Error(`comirec-dr: history has ${L} columns, more than maxlen ${maxlen}`);
      const mask = idMask(seq);
      const e = embed(this.item, seq) as tf.Tensor3D;
      // votes[b, j, t] = W_{t,j} e_{b,t}: one batched matMul over the positions.
      const w = tf.slice(this.maps, [maxlen - L, 0, 0], [L, d, m * d]);
      const perPos = tf.matMul(tf.transpose(e, [1, 0, 2]), w); // [L, B, m*d]
      const votes = tf.transpose(tf.reshape(perPos, [L, B, m, d]), [1, 2, 0, 3]) as tf.Tensor4D;
      const logits = tf.zeros([1, m, L]) as tf.Tensor3D;
      return dynamicRouting(votes, logits, tf.expandDims(mask, 1) as tf.Tensor3D, { iterations: this.cfg.routingIterations, axis: 1 });
    });
  }

  loss(batch: TrainBatch): LossOutput {
    return hardReadoutLoss(this.encode(batch.history).capsules, this.item, batch);
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.encode(history).capsules);
  }

  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => {
      const { coupling } = this.encode(history);
      return { assignment: tf.transpose(coupling, [0, 2, 1]) as tf.Tensor3D, weights: tf.sum(coupling, 2) as tf.Tensor2D };
    });
  }
}

export const comirecDr: ModelDef = {
  name: 'comirec-dr',
  label: 'ComiRec-DR',
  paper: 'Cen, Zhang, Zou, Zhou, Yang, Tang. Controllable Multi-Interest Framework for Recommendation. KDD 2020.',
  multiInterest: true,
  fields: Object.values(F),
  create: (ctx) => new ComiRecDr(ctx),
};
