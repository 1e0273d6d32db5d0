// GRU4Rec / YouTube-DNN style single-vector floor: a GRU over the history, its state after the
// most recent item through a linear projection is the one user vector, scored by inner product
// with the item embeddings and trained with the shared sampled softmax.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { ItemModel } from './base.ts';
import { gru, gruParams, gruVariables, type GruParams } from './ops/gru.ts';
import { sampledSoftmaxLoss } from './ops/losses.ts';
import { embed, idMask } from './ops/masks.ts';
import { treeVariables } from './ops/params.ts';
import { dense, denseParams, type DenseParams } from './ops/transformer.ts';

const F = {
  temperature: { key: 'temperature', label: 'Main-loss temperature (logits = u·v / temperature)', type: 'number', default: 1, min: 1e-3 },
} satisfies Record<string, ConfigField>;

class Gru4Rec extends ItemModel<typeof F> implements SeqRecModel {
  /** Always one vector, whatever the shared `interests` key says. */
  override readonly numInterests = 1;
  readonly needs = {};
  private readonly rnn: GruParams;
  private readonly proj: DenseParams;

  constructor(ctx: ModelContext) {
    super(ctx, F);
    const d = this.dim;
    // torch.nn.GRU's default (with biases), as GRU4Rec.
    this.rnn = gruParams(d, d, { bias: true }, this.seedOf('gru'));
    this.proj = denseParams(d, d, this.seedOf('proj'));
    this.register({ ...gruVariables('gru', this.rnn), ...treeVariables({ proj: this.proj }) });
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const { last } = gru(this.rnn, embed(this.item, history) as tf.Tensor3D, idMask(history));
      return tf.expandDims(dense(this.proj, last), 1) as tf.Tensor3D;
    });
  }

  loss(batch: TrainBatch): LossOutput {
    const main = sampledSoftmaxLoss(this.interests(batch.history), batch.pos, batch.neg, this.item, this.cfg.temperature);
    return { total: main, terms: { main } };
  }
}

export const gru4rec: ModelDef = {
  name: 'gru4rec',
  label: 'GRU4Rec',
  paper: 'Hidasi, Karatzoglou, Baltrunas, Tikk. Session-based Recommendations with Recurrent Neural Networks. ICLR 2016 (single-vector floor, YouTube-DNN style retrieval: Covington, Adams, Sargin. RecSys 2016).',
  multiInterest: false,
  fields: Object.values(F),
  sharedDefaults: { interests: 1 },
  create: (ctx) => new Gru4Rec(ctx),
};
