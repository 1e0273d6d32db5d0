// Octopus (Liu, Lian, Yang, Lian, Xie, SIGIR 2020): an elastic archive network. m global,
// orthonormal channel bases H are learned from the item space; every history item is routed
// exclusively (hard argmax, from the first step on) to the channel it projects on most; each
// channel attends over its own items; channels no item reaches are inactive, so a user's
// number of interests varies. No public code exists; docs/models.md "## Octopus" lists every
// choice made where the paper leaves one open.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { ItemModel } from './base.ts';
import { multiInterestAttention, selfAttentionParams, selfAttentionVariables, type SelfAttentionParams } from './ops/attention.ts';
import { stopGradient } from './ops/grad.ts';
import { initUniform } from './ops/init.ts';
import { sampledSoftmaxLoss } from './ops/losses.ts';
import { embed, idMask, l2normalize } from './ops/masks.ts';

const F = {
  lambdaArchive: {
    key: 'lambdaArchive', label: 'Archive loss weight (channel bases reconstruct the item space)', type: 'number', default: 1, min: 0,
    help: 'mean ||θ - θ Hᵀ H||² over the batch\'s history items (unit length, no gradient into the items); it alone trains H',
  },
} satisfies Record<string, ConfigField>;

/** Encoder outputs (a type alias so tf.tidy accepts it). */
type Encoded = {
  /** [B, m, d]; an inactive channel repeats the user's largest active channel. */
  interests: tf.Tensor3D;
  /** [B, L, m] one-hot channel of each history item, 0 on padding. */
  membership: tf.Tensor3D;
  /** [B, L] channel index of each history item (argmax |θ·h_k|). */
  channel: tf.Tensor2D;
};

class Octopus extends ItemModel<typeof F> implements SeqRecModel {
  readonly needs = {};
  /** [m, d] channel bases, kept orthonormal by afterStep. */
  private readonly bases: tf.Variable<tf.Rank.R2>;
  private readonly att: SelfAttentionParams;

  constructor(ctx: ModelContext) {
    super(ctx, F);
    const d = this.dim;
    if (this.numInterests > d) {
      super.dispose();
      throw new Error(`octopus: ${this.numInterests} orthonormal channels need interests <= dim (${d})`);
    }
    this.bases = initUniform([this.numInterests, d], this.seedOf('bases'), d) as tf.Variable<tf.Rank.R2>;
    // One attention head per channel, ComiRec-SA's form (hidden 4d).
    this.att = selfAttentionParams(d, 4 * d, this.numInterests, this.seedOf('attention'));
    this.register({ bases: this.bases, ...selfAttentionVariables('attention', this.att) });
    this.afterStep();
  }

  /** Re-orthonormalises the channel bases (Gram-Schmidt) after every update, so the archive
   *  loss only has to find the subspace and the channels never collapse onto each other. */
  afterStep(): void {
    tf.tidy(() => {
      this.bases.assign(tf.linalg.gramSchmidt(this.bases) as tf.Tensor2D);
    });
  }

  private encode(seq: tf.Tensor2D): Encoded {
    return tf.tidy(() => {
      const [B, L] = seq.shape;
      const m = this.numInterests;
      const d = this.bases.shape[1];
      const mask = idMask(seq);
      const e = embed(this.item, seq) as tf.Tensor3D;
      // |θ·h_k|: the archive loss is blind to a basis' sign, so the routing is too.
      const proj = tf.reshape(tf.matMul(tf.reshape(e, [B * L, d]), this.bases, false, true), [B, L, m]);
      const channel = tf.argMax(tf.abs(proj), 2) as tf.Tensor2D;
      const membership = tf.mul(tf.oneHot(channel, m), tf.expandDims(mask, 2)) as tf.Tensor3D;
      const { interests: pooled } = multiInterestAttention(this.att, e, e, tf.transpose(membership, [0, 2, 1]) as tf.Tensor3D);
      // Elastic: an inactive channel (no item) repeats the active channel holding the most
      // items, so it never changes the max over interests and retrieves nothing new. A user
      // with no history at all has no active channel and gets zero vectors.
      const counts = tf.sum(membership, 1);
      // step(): 1 where a channel holds an item, zero gradient (greater() has none in TF.js).
      const active = tf.expandDims(tf.step(counts), 2);
      const largest = tf.matMul(tf.expandDims(tf.oneHot(tf.argMax(counts, 1), m), 1), pooled);
      const interests = tf.add(tf.mul(active, pooled), tf.mul(tf.sub(1, active), largest)) as tf.Tensor3D;
      return { interests, membership, channel };
    });
  }

  loss(batch: TrainBatch): LossOutput {
    const { interests } = this.encode(batch.history);
    const main = sampledSoftmaxLoss(interests, batch.pos, batch.neg, this.item, 1);
    // Archive loss: the bases span the (unit) item directions of the batch's histories.
    const d = this.bases.shape[1];
    const mask = tf.reshape(idMask(batch.history), [-1, 1]);
    const theta = l2normalize(stopGradient(tf.reshape(embed(this.item, batch.history), [-1, d]) as tf.Tensor2D));
    const residual = tf.sub(theta, tf.matMul(tf.matMul(theta, this.bases, false, true), this.bases));
    const recon = tf.div(tf.sum(tf.mul(tf.square(residual), mask)), tf.maximum(tf.sum(mask), 1));
    const archive = tf.mul(recon, this.cfg.lambdaArchive) as tf.Scalar;
    return { total: tf.add(main, archive) as tf.Scalar, terms: { main, archive } };
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.encode(history).interests);
  }

  /** hard: the channel of each history item, -1 on padding; weights: items per channel. */
  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => {
      const { membership, channel } = this.encode(history);
      const mask = tf.cast(idMask(history), 'int32');
      const hard = tf.sub(tf.mul(tf.add(channel, 1), mask), 1) as tf.Tensor2D;
      return { assignment: membership, hard, weights: tf.sum(membership, 1) as tf.Tensor2D };
    });
  }
}

export const octopus: ModelDef = {
  name: 'octopus',
  label: 'Octopus',
  paper: 'Liu, Lian, Yang, Lian, Xie. Octopus: Comprehensive and Elastic User Representation for the Generation of Recommendation Candidates. SIGIR 2020.',
  multiInterest: true,
  fields: Object.values(F),
  create: (ctx) => new Octopus(ctx),
};
