// GRU4Rec / YouTube-DNN style single-vector floor: a GRU over the history, its state after the
// most recent item through a linear projection is the one user vector, scored by inner product
// with the item embeddings and trained with the shared sampled softmax.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { deriveSeed, embed, embeddingTable, gru, gruParams, gruVariables, idMask, sampledSoftmaxLoss, type GruParams } from './layers.ts';
import { dense, denseParams, treeVariables, type DenseParams } from './seq-ops.ts';
import { num } from './settings.ts';

const fields: ConfigField[] = [
  { key: 'temperature', label: 'Main-loss temperature (logits = u·v / temperature)', type: 'number', default: 1 },
];

class Gru4Rec implements SeqRecModel {
  /** Always one vector, whatever the shared `interests` key says. */
  readonly numInterests = 1;
  readonly variables: Record<string, tf.Variable>;
  readonly needs = {};
  private readonly item: tf.Variable<tf.Rank.R2>;
  private readonly rnn: GruParams;
  private readonly proj: DenseParams;
  private readonly temperature: number;

  constructor(ctx: ModelContext) {
    const { config, seed } = ctx;
    const d = num(config, 'dim');
    this.temperature = num(config, 'temperature');
    this.item = embeddingTable(ctx.numItems, d, deriveSeed(seed, 'item'));
    // torch.nn.GRU's default (with biases), as GRU4Rec.
    this.rnn = gruParams(d, d, { bias: true }, deriveSeed(seed, 'gru'));
    this.proj = denseParams(d, d, deriveSeed(seed, 'proj'));
    this.variables = { item: this.item, ...gruVariables('gru', this.rnn), ...treeVariables({ proj: this.proj }) };
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const { last } = gru(this.rnn, embed(this.item, history) as tf.Tensor3D, idMask(history));
      return tf.expandDims(dense(this.proj, last), 1) as tf.Tensor3D;
    });
  }

  loss(batch: TrainBatch): LossOutput {
    const main = sampledSoftmaxLoss(this.interests(batch.history), batch.pos, batch.neg, this.item, this.temperature);
    return { total: main, terms: { main } };
  }

  itemTable(): tf.Tensor2D {
    return tf.clone(this.item); // the caller owns (and disposes) what it gets
  }

  dispose(): void {
    tf.dispose(Object.values(this.variables));
  }
}

export const gru4rec: ModelDef = {
  name: 'gru4rec',
  label: 'GRU4Rec',
  paper: 'Hidasi, Karatzoglou, Baltrunas, Tikk. Session-based Recommendations with Recurrent Neural Networks. ICLR 2016 (single-vector floor, YouTube-DNN style retrieval: Covington, Adams, Sargin. RecSys 2016).',
  multiInterest: false,
  fields,
  sharedDefaults: { interests: 1 },
  create: (ctx) => new Gru4Rec(ctx),
};
