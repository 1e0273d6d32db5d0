// ComiRec-SA (Cen et al., KDD 2020): multi-interest self-attention A = softmax(W2 tanh(W1 H^T))
// over the history (hidden 4d, padding masked), interests = A H, position embeddings added to
// H for the attention only; training reads out the interest that best matches the target.
// Follows the authors' code (THUDM/ComiRec, Model_ComiRec_SA); docs/models.md "## ComiRec-SA"
// lists every choice.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { ItemModel } from './base.ts';
import { attentionAssignment, multiInterestAttention, selfAttentionParams, selfAttentionVariables, type AttentionOutput, type SelfAttentionParams } from './ops/attention.ts';
import { initUniform } from './ops/init.ts';
import { embed, idMask } from './ops/masks.ts';
import { hardReadoutLoss } from './ops/routing.ts';

const F = {
  positionEmbedding: { key: 'positionEmbedding', label: 'Add position embeddings for the attention', type: 'boolean', default: true },
} satisfies Record<string, ConfigField>;

class ComiRecSa extends ItemModel<typeof F> implements SeqRecModel {
  readonly needs = {};
  /** [maxlen, d], row maxlen-1 for the latest item. */
  private readonly position?: tf.Variable<tf.Rank.R2>;
  private readonly att: SelfAttentionParams;

  constructor(ctx: ModelContext) {
    super(ctx, F);
    const d = this.dim;
    this.att = selfAttentionParams(d, 4 * d, this.numInterests, this.seedOf('attention'));
    this.register(selfAttentionVariables('attention', this.att));
    if (this.cfg.positionEmbedding) {
      this.position = initUniform([this.maxlen, d], this.seedOf('position'), d) as tf.Variable<tf.Rank.R2>;
      this.register({ position: this.position });
    }
  }

  private encode(seq: tf.Tensor2D): AttentionOutput {
    return tf.tidy(() => {
      const L = seq.shape[1];
      if (L > this.maxlen) throw new Error(`comirec-sa: history has ${L} columns, more than maxlen ${this.maxlen}`);
      const h = embed(this.item, seq) as tf.Tensor3D;
      const keys = this.position ? tf.add(h, tf.slice(this.position, [this.maxlen - L, 0], [L, -1])) as tf.Tensor3D : h;
      return multiInterestAttention(this.att, keys, h, idMask(seq));
    });
  }

  loss(batch: TrainBatch): LossOutput {
    return hardReadoutLoss(this.encode(batch.history).interests, this.item, batch);
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.encode(history).interests);
  }

  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => ({ assignment: attentionAssignment(this.encode(history)) }));
  }
}

export const comirecSa: ModelDef = {
  name: 'comirec-sa',
  label: 'ComiRec-SA',
  paper: 'Cen, Zhang, Zou, Zhou, Yang, Tang. Controllable Multi-Interest Framework for Recommendation. KDD 2020.',
  multiInterest: true,
  fields: Object.values(F),
  create: (ctx) => new ComiRecSa(ctx),
};
