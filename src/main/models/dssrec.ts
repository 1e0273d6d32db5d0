// DSSRec (Ma, Zhou, Yang, Cui, Wang, Zhu. "Disentangled Self-Supervision in Sequential
// Recommenders", KDD 2020): a Transformer encodes a sequence; K intention prototypes split it
// into K intention representations (intention clustering x intention weighting, then
// aggregation). Besides seq2item (here the shared sampled softmax, max over intentions), a
// seq2seq loss in latent space matches each intention of the history with the same intention
// of the future subsequence against every other (sequence, intention) of the batch, keeping
// only the most confident pairs. As in that code's pipeline, training has two stages: pre-train
// with both losses, then fine-tune on seq2item alone. Details follow abinashsinha330/DSSRec (the
// open-source code OPAL used); docs/models.md "## DSSRec" lists every choice.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import { fusedProductLse } from '../engine/fused.ts';
import { Rng } from '../data/rng.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { ItemModel, stageNamed } from './base.ts';
import { futureLenField, int, selectField, stageOptimizerField } from './config.ts';
import { checkpointRows, permuteRows, smallestMask } from './ops/grad.ts';
import { initConstant, initUniform } from './ops/init.ts';
import { logSumExp, sampledSoftmaxLoss } from './ops/losses.ts';
import { embed, idMask, maskedSoftmax } from './ops/masks.ts';
import { lastColumns, lengthOrder, positionRows, usedWidth } from './ops/padding.ts';
import { treeVariables } from './ops/params.ts';
import {
  causalBias, dense, denseParams, hostDropout, layerNorm, layerNormParams, noDropout, transformerLayer, transformerLayerParams,
  type DenseParams, type Dropout, type LayerNormParams, type TransformerLayerParams,
} from './ops/transformer.ts';

const F = {
  lambdaSeq2seq: {
    key: 'lambdaSeq2seq', label: 'Seq2seq loss weight (0 = seq2item only)', type: 'number', default: 1, min: 0,
    help: "The seq2seq term is summed over a sequence's kept intention pairs and averaged over sequences, so 1 keeps the authors' 1:1 seq2item:seq2seq weighting",
  },
  seq2seqKeep: { key: 'seq2seqKeep', label: 'Fraction of (sequence, intention) pairs the seq2seq loss keeps (most confident first)', type: 'number', default: 0.5, min: 0.01, max: 1 },
  layers: { key: 'layers', label: 'Transformer layers', type: 'integer', default: 2, min: 1 },
  heads: { key: 'heads', label: 'Attention heads', type: 'integer', default: 1, min: 1 },
  dropout: { key: 'dropout', label: 'Dropout (embeddings, attention, hidden; training only)', type: 'number', default: 0.5, min: 0, max: 0.99 },
  trainStages: selectField({
    key: 'trainStages', label: 'Stages trained', default: 'both', options: ['both', 'pretrain'],
    help: "both (the code's pipeline): pre-train with seq2item + seq2seq until validation stalls, then fine-tune on seq2item alone from the best pre-trained weights; pretrain: one joint stage with both losses",
  }),
  stageOptimizer: stageOptimizerField,
} satisfies Record<string, ConfigField>;

const STAGES = ['pretrain', 'finetune'] as const;
type Stage = (typeof STAGES)[number];

/** Sequences per checkpointed chunk: bounds the live tape at about 1 GB for L 100, d 64. */
const ROWS_PER_CHUNK = 128;

/**
 * The seq2seq loss: row (b, k) of `past` [B, K, d] must pick `future` (b, k) among all B*K
 * future representations (logits = inner product / sqrt(d)); each row's cross-entropy counts
 * only when it is among the `keep` fraction of smallest losses in the batch (the pairs whose
 * intention the future shares with high confidence). Summed over kept rows, averaged over B.
 */
export function seq2seqLoss(past: tf.Tensor3D, future: tf.Tensor3D, keep: number): tf.Scalar {
  return tf.tidy(() => {
    const [B, K, d] = past.shape;
    // Scaling a ([BK, d]) rather than the logits ([BK, BK]) keeps the big matrix single.
    const a = tf.reshape(tf.div(past, Math.sqrt(d)), [B * K, d]) as tf.Tensor2D;
    const b = tf.reshape(future, [B * K, d]) as tf.Tensor2D;
    // The fused kernel (an online softmax over tiles) never holds the [BK, BK] logits: 8192^2
    // at the defaults, whose product, max and softmax were a third of a step.
    const fused = fusedProductLse(a, b, false, false);
    const lse = fused ? tf.squeeze(fused, [0]) : logSumExp(tf.matMul(a, b, false, true));
    const perRow = tf.sub(lse, tf.sum(tf.mul(a, b), 1)) as tf.Tensor1D;
    const kept = smallestMask(perRow, Math.floor(keep * B * K));
    return tf.div(tf.sum(tf.mul(perRow, kept)), B) as tf.Scalar;
  });
}

type DisentangleParams = {
  /** [K, d] intention prototypes. */
  prototypes: tf.Variable<tf.Rank.R2>;
  /** [P, d] per-position offsets of the intention-weighting keys (positions from the end). */
  alphas: tf.Variable<tf.Rank.R2>;
  /** [d] query bias. */
  queryBias: tf.Variable<tf.Rank.R1>;
  /** [K, d] intention biases, one set for histories and one for future subsequences. */
  betaPast: tf.Variable<tf.Rank.R2>;
  betaFuture: tf.Variable<tf.Rank.R2>;
  keyMlp: DenseParams;
  norms: Record<'hidden' | 'prototype' | 'key' | 'query' | 'output', LayerNormParams>;
};

/** Intentions of one encoded sequence, the aggregation weights and the clustering. */
type Intentions = {
  /** [B, K, d] */
  vectors: tf.Tensor3D;
  /** [B, L, K] p(k | position): which intention each item expresses. */
  clustering: tf.Tensor3D;
  /** [B, K] how much of the sequence each intention aggregates. */
  weights: tf.Tensor2D;
};

class DssRec extends ItemModel<typeof F> implements SeqRecModel {
  readonly needs: { future: boolean };
  readonly stages: readonly Stage[];
  private current: Stage;
  private readonly position: tf.Variable<tf.Rank.R2>;
  private readonly embNorm: LayerNormParams;
  private readonly layers: TransformerLayerParams[];
  private readonly dis: DisentangleParams;

  constructor(ctx: ModelContext) {
    super(ctx, F);
    const d = this.dim;
    const K = this.numInterests;
    this.needs = { future: this.cfg.lambdaSeq2seq > 0 };
    // Without seq2seq the two stages would train the same loss twice.
    this.stages = this.cfg.trainStages === 'both' && this.cfg.lambdaSeq2seq > 0 ? STAGES : ['pretrain'];
    this.current = this.stages[0];
    // Histories are at most maxlen wide and futures futureLen: positions cover both.
    const P = Math.max(this.maxlen, int(ctx.config, futureLenField));

    this.position = initUniform([P, d], this.seedOf('position'), d) as tf.Variable<tf.Rank.R2>;
    this.embNorm = layerNormParams(d);
    this.layers = Array.from({ length: this.cfg.layers }, (_, i) => transformerLayerParams(d, this.seedOf(`layer${i}`)));
    this.dis = {
      prototypes: initUniform([K, d], this.seedOf('prototypes'), d) as tf.Variable<tf.Rank.R2>,
      alphas: initConstant([P, d], 0) as tf.Variable<tf.Rank.R2>,
      queryBias: initConstant([d], 0) as tf.Variable<tf.Rank.R1>,
      betaPast: initUniform([K, d], this.seedOf('betaPast'), d) as tf.Variable<tf.Rank.R2>,
      betaFuture: initUniform([K, d], this.seedOf('betaFuture'), d) as tf.Variable<tf.Rank.R2>,
      keyMlp: denseParams(d, d, this.seedOf('keyMlp')),
      norms: { hidden: layerNormParams(d), prototype: layerNormParams(d), key: layerNormParams(d), query: layerNormParams(d), output: layerNormParams(d) },
    };
    this.register(treeVariables({ position: this.position, embNorm: this.embNorm, layers: this.layers, ...this.dis }));
  }

  get stage(): string {
    return this.current;
  }

  set stage(value: string) {
    this.current = stageNamed('dssrec', this.stages, value);
  }

  /** Transformer hidden states [B, L, d] of a left-padded sequence. */
  private encodeSequence(seq: tf.Tensor2D, mask: tf.Tensor2D, drop: Dropout): tf.Tensor3D {
    return tf.tidy(() => {
      const L = seq.shape[1];
      const e = tf.add(embed(this.item, seq), positionRows(this.position, L)) as tf.Tensor3D;
      const bias = causalBias(mask);
      return this.layers.reduce((h, p) => transformerLayer(p, h, bias, this.cfg.heads, drop), drop(layerNorm(this.embNorm, e)) as tf.Tensor3D);
    });
  }

  /** Intention clustering x intention weighting, aggregated into K vectors (paper section 3.2). */
  private disentangle(z: tf.Tensor3D, mask: tf.Tensor2D, beta: tf.Tensor2D): Intentions {
    return tf.tidy(() => {
      const [B, L, d] = z.shape;
      const K = this.numInterests;
      const { norms } = this.dis;
      const scale = Math.sqrt(d);
      // p(k | i): softmax over intentions of LN(z_i) . LN(c_k) / sqrt(d).
      const protos = layerNorm(norms.prototype, this.dis.prototypes as tf.Tensor2D);
      const zc = tf.reshape(layerNorm(norms.hidden, z), [B * L, d]);
      const clustering = tf.reshape(tf.softmax(tf.div(tf.matMul(zc, protos, false, true), scale)), [B, L, K]) as tf.Tensor3D;
      // p(i): how much position i matters for what comes next; the query reads the last column.
      const alpha = positionRows(this.dis.alphas, L);
      const keysTilde = layerNorm(norms.key, tf.add(z, alpha) as tf.Tensor3D);
      const keys = tf.add(keysTilde, tf.relu(dense(this.dis.keyMlp, keysTilde))) as tf.Tensor3D;
      const lastZ = tf.squeeze(tf.slice(z, [0, L - 1, 0], [B, 1, d]), [1]);
      const query = layerNorm(norms.query, tf.add(tf.add(lastZ, this.dis.queryBias), tf.slice(alpha, [L - 1, 0], [1, d])) as tf.Tensor2D);
      const scores = tf.div(tf.squeeze(tf.matMul(keys, tf.expandDims(query, -1)), [2]), scale);
      const weighting = maskedSoftmax(scores, mask) as tf.Tensor2D;
      const w = tf.mul(clustering, tf.expandDims(weighting, -1)); // [B, L, K], 0 on padding
      const vectors = layerNorm(norms.output, tf.add(tf.matMul(w, z, true, false), beta) as tf.Tensor3D);
      return { vectors, clustering, weights: tf.sum(w, 1) as tf.Tensor2D };
    });
  }

  private intentions(seq: tf.Tensor2D, beta: tf.Tensor2D, drop: Dropout): Intentions {
    return tf.tidy(() => {
      const mask = idMask(seq);
      return this.disentangle(this.encodeSequence(seq, mask, drop), mask, beta);
    });
  }

  /** Dropout masks from a stream seeded by the run seed, step, pass and row chunk: a run (and a
   *  resumed run) is reproducible, and the backward pass's recomputation draws the same masks. */
  private dropout(step: number, pass: string, chunk: number): Dropout {
    return hostDropout(this.cfg.dropout, new Rng(this.seedOf(`dropout:${step}:${pass}:${chunk}`)));
  }

  /** Intention vectors of a training pass under gradient checkpointing (see checkpointRows):
   *  a Transformer's tape over a whole batch of long sequences does not fit the wasm heap.
   *  Sequences go through sorted by length, and each chunk only over the columns its longest
   *  sequence fills: positions count from the most recent item and attention never reads
   *  padding, so the intentions are the same at a fraction of the Transformer's work. */
  private trainingPass(seq: tf.Tensor2D, beta: tf.Tensor2D, step: number, pass: string): tf.Tensor3D {
    const f = (rows: tf.Tensor[], chunk: number) => {
      const ids = rows[0] as tf.Tensor2D;
      return this.intentions(lastColumns(ids, usedWidth(ids), 1), beta, this.dropout(step, pass, chunk)).vectors;
    };
    const { order, inverse } = lengthOrder(seq);
    const sorted = checkpointRows(f, [tf.gather(seq, order)], Object.values(this.variables), ROWS_PER_CHUNK);
    return permuteRows(sorted, inverse, order) as tf.Tensor3D;
  }

  loss(batch: TrainBatch, step: number): LossOutput {
    const past = this.trainingPass(batch.history, this.dis.betaPast, step, 'past');
    // The code's seq2item scales inner products by 1/sqrt(d); the shared loss keeps that scale.
    const main = sampledSoftmaxLoss(past, batch.pos, batch.neg, this.item, Math.sqrt(this.dim));
    let seq2seq: tf.Scalar = tf.scalar(0);
    // The fine-tune stage trains seq2item alone: the seq2seq term, summed over a sequence's
    // kept intention pairs, is several times the seq2item term and kept its loss near chance
    // level on the KuaiRand slice when the two trained jointly throughout (docs/results.md).
    if (this.needs.future && this.current === 'pretrain') {
      const future = this.trainingPass(batch.future, this.dis.betaFuture, step, 'future');
      seq2seq = tf.mul(seq2seqLoss(past, future, this.cfg.seq2seqKeep), this.cfg.lambdaSeq2seq) as tf.Scalar;
    }
    return { total: tf.add(main, seq2seq) as tf.Scalar, terms: { main, seq2seq } };
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.intentions(history, this.dis.betaPast, noDropout).vectors);
  }

  /** assignment: p(intention | item); weights: the aggregation mass of each intention. */
  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => {
      const { clustering, weights } = this.intentions(history, this.dis.betaPast, noDropout);
      return { assignment: tf.mul(clustering, tf.expandDims(idMask(history), -1)) as tf.Tensor3D, weights };
    });
  }
}

export const dssrec: ModelDef = {
  name: 'dssrec',
  label: 'DSSRec',
  paper: 'Ma, Zhou, Yang, Cui, Wang, Zhu. Disentangled Self-Supervision in Sequential Recommenders. KDD 2020.',
  multiInterest: true,
  fields: Object.values(F),
  create: (ctx) => new DssRec(ctx),
};
