// Re4 (Zhang, Yang, Yao, Lu, Feng, Zhao, Chua, Wu. "Re4: Learning to Re-contrast, Re-attend,
// Re-construct for Multi-interest Recommendation", WWW 2022): ComiRec-SA's forward flow (the
// shared multi-interest self-attention) plus three backward flows that re-examine each
// interest: Re-contrast (InfoNCE: the interest against the items it attends), Re-attend (the
// forward attention should agree with the interest-item scores used for ranking) and
// Re-construct (the attended items are rebuilt from the interest). Loss details follow the
// authors' code (DeerSheep0314/Re4-...); docs/models.md "## Re4" lists every choice.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { ItemModel } from './base.ts';
import { attentionAssignment, multiInterestAttention, selfAttentionParams, selfAttentionVariables, type SelfAttentionParams } from './ops/attention.ts';
import { checkpointRows, permuteRows } from './ops/grad.ts';
import { initUniform } from './ops/init.ts';
import { logSumExp, sampledSoftmaxLoss } from './ops/losses.ts';
import { embed, idMask, l2normalize, maskedSoftmax } from './ops/masks.ts';
import { lastColumns, lengthOrder, positionRows, positionsFromEnd, usedWidth } from './ops/padding.ts';
import { flattenParams, treeVariables } from './ops/params.ts';
import { denseParams, type DenseParams } from './ops/transformer.ts';

const F = {
  lambdaContrast: { key: 'lambdaContrast', label: 'Re-contrast loss weight', type: 'number', default: 0.1, min: 0 },
  lambdaAttend: { key: 'lambdaAttend', label: 'Re-attend loss weight', type: 'number', default: 0.01, min: 0 },
  lambdaConstruct: { key: 'lambdaConstruct', label: 'Re-construct loss weight', type: 'number', default: 0.1, min: 0 },
  tauContrast: { key: 'tauContrast', label: 'Re-contrast temperature', type: 'number', default: 0.02, min: 1e-3 },
  temperature: { key: 'temperature', label: 'Main-loss temperature (logits = u·v / temperature)', type: 'number', default: 1, min: 1e-3 },
} satisfies Record<string, ConfigField>;

/**
 * Positives of the backward flows [B, K, L]: item j is a positive of interest k when its forward
 * attention exceeds 1 / (the history's length), the uniform share (authors' code). 0/1, no
 * gradient (step's is zero).
 */
export function attendedItems(weights: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const gate = tf.reshape(tf.div(1, tf.maximum(tf.sum(mask, 1), 1)), [-1, 1, 1]);
    return tf.mul(tf.step(tf.sub(weights, gate)), tf.expandDims(mask, 1)) as tf.Tensor3D;
  });
}

/**
 * Re-attend: cross-entropy of the forward attention `weights` [B, K, L] against the re-attention
 * softmax_j(z_k · x_j) over the valid items, averaged over interests (authors' code; both sides
 * carry gradients).
 */
export function reAttendLoss(weights: tf.Tensor3D, interests: tf.Tensor3D, items: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const target = maskedSoftmax(tf.matMul(interests, items, false, true), tf.expandDims(mask, 1)) as tf.Tensor3D;
    // Valid weights are softmax outputs of bounded logits; the clamp only guards the log.
    const logWeights = tf.log(tf.maximum(weights, 1e-30));
    return tf.div(tf.neg(tf.sum(tf.mul(target, logWeights))), tf.maximum(tf.sum(target), 1e-12)) as tf.Scalar;
  });
}

/**
 * Re-contrast (InfoNCE on cosine / tau): each (interest k, attended item j) pair is a positive;
 * the candidates are every valid item of the history (attended or not), the user's other
 * interests and the items of another user's history (the previous row, as the authors roll the
 * batch). Mean over positive pairs.
 */
export function reContrastLoss(interests: tf.Tensor3D, items: tf.Tensor3D, mask: tf.Tensor2D, positives: tf.Tensor3D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const [B, K] = interests.shape;
    const zn = l2normalize(interests);
    const xn = l2normalize(items);
    const off = (valid: tf.Tensor) => tf.mul(tf.sub(1, valid), -1e9);
    const own = tf.div(tf.matMul(zn, xn, false, true), tau) as tf.Tensor3D; // [B, K, L]
    const ownMasked = tf.add(own, off(tf.expandDims(mask, 1)));
    const others = tf.add(tf.div(tf.matMul(zn, zn, false, true), tau), off(tf.sub(1, tf.eye(K)))); // [B, K, K]
    const shift = (t: tf.Tensor) => tf.concat([tf.slice(t, [B - 1], [1]), tf.slice(t, [0], [B - 1])], 0);
    const foreign = tf.add(tf.div(tf.matMul(zn, shift(xn), false, true), tau), off(tf.expandDims(shift(mask), 1)));
    const candidates = tf.concat([ownMasked, others, foreign], 2);
    const lse = tf.reshape(logSumExp(tf.reshape(candidates, [B * K, -1]) as tf.Tensor2D), [B, K, 1]);
    const perPair = tf.sub(lse, own);
    return tf.div(tf.sum(tf.mul(perPair, positives)), tf.maximum(tf.sum(positives), 1)) as tf.Scalar;
  });
}

/** The Re-construct decoder: an interest proposes one vector per position (a dense layer to
 *  P*d), then a position-query attention over the proposals rebuilds each position's item. */
export type ReconstructParams = {
  /** d -> P*d, proposal p for position p (counted from the most recent). */
  propose: DenseParams;
  /** [d, d] key map of the proposals (tanh). */
  key: tf.Variable<tf.Rank.R2>;
  /** [P, d] one query per position. */
  query: tf.Variable<tf.Rank.R2>;
  /** [d, d] value map of the proposals. */
  value: tf.Variable<tf.Rank.R2>;
};

/** Reconstructions [B, K, L, d] of the L history positions from each interest. */
export function reconstruct(p: ReconstructParams, interests: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, K, d] = interests.shape;
    const L = mask.shape[1];
    const P = p.query.shape[0];
    if (L > P) throw new Error(`sequence width ${L} exceeds the ${P} positions the model was built for (maxlen)`);
    // Proposal p is the layer's columns [p*d, (p+1)*d): a chunk trimmed to L columns needs the
    // first L positions only, so only those are computed (the same values; at P 100 and the
    // slice's history lengths this was most of the decoder's products).
    const w = tf.slice(p.propose.w, [0, 0], [d, L * d]);
    const b = tf.slice(p.propose.b, [0], [L * d]);
    const byPosition = tf.reshape(tf.fused.matMul({ a: tf.reshape(interests, [B * K, d]), b: w, bias: b }), [B * K, L, d]);
    const proposals = tf.gather(byPosition, positionsFromEnd(L), 1) as tf.Tensor3D; // [B*K, L, d] in column order
    const keys = tf.tanh(tf.matMul(tf.reshape(proposals, [-1, d]), p.key, false, true)); // [B*K*L, d]
    const queries = positionRows(p.query, L); // [L, d]
    const scores = tf.reshape(tf.matMul(keys, queries, false, true), [B, K, L, L]); // [.., j, i]
    const attn = maskedSoftmax(tf.transpose(scores, [0, 1, 3, 2]), tf.reshape(mask, [B, 1, 1, L])); // [.., i, j]
    const values = tf.reshape(tf.matMul(tf.reshape(proposals, [-1, d]), p.value), [B, K, L, d]);
    return tf.matMul(attn as tf.Tensor4D, values as tf.Tensor4D);
  });
}

/** Re-construct's error per user [B]: the squared error between each attended item and its
 *  reconstruction from the interest, summed over (interest, item) pairs and dimensions. */
export function reconstructionErrors(recon: tf.Tensor4D, items: tf.Tensor3D, positives: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(tf.sub(recon, tf.expandDims(items, 1))), -1); // [B, K, L]
    return tf.sum(tf.mul(sq, positives), [1, 2]) as tf.Tensor1D;
  });
}

/** Users per checkpointed chunk of the decoder: its [K, L, L] attention makes a user's tape a
 *  few MB at K 8, L 100, too much for the wasm heap over a whole batch. */
const ROWS_PER_CHUNK = 64;

class Re4 extends ItemModel<typeof F> implements SeqRecModel {
  readonly needs = {};
  private readonly position: tf.Variable<tf.Rank.R2>;
  private readonly attention: SelfAttentionParams;
  private readonly decoder: ReconstructParams;

  constructor(ctx: ModelContext) {
    super(ctx, F);
    const d = this.dim;
    const K = this.numInterests;
    const P = this.maxlen;

    this.position = initUniform([P, d], this.seedOf('position'), d) as tf.Variable<tf.Rank.R2>;
    // ComiRec-SA: hidden size 4d.
    this.attention = selfAttentionParams(d, 4 * d, K, this.seedOf('attention'));
    this.decoder = {
      propose: denseParams(d, P * d, this.seedOf('recon.propose')),
      key: initUniform([d, d], this.seedOf('recon.key'), d) as tf.Variable<tf.Rank.R2>,
      query: initUniform([P, d], this.seedOf('recon.query'), d) as tf.Variable<tf.Rank.R2>,
      value: initUniform([d, d], this.seedOf('recon.value'), d) as tf.Variable<tf.Rank.R2>,
    };
    this.register({
      ...treeVariables({ position: this.position, recon: this.decoder }),
      ...selfAttentionVariables('attention', this.attention),
    });
  }

  /** ComiRec-SA's forward flow: attention reads items + positions, pools the items alone. */
  private forward(history: tf.Tensor2D): { items: tf.Tensor3D; mask: tf.Tensor2D; weights: tf.Tensor3D; interests: tf.Tensor3D } {
    return tf.tidy(() => {
      const mask = idMask(history);
      const items = embed(this.item, history) as tf.Tensor3D;
      const keys = tf.add(items, positionRows(this.position, history.shape[1])) as tf.Tensor3D;
      const { weights, interests } = multiInterestAttention(this.attention, keys, items, mask);
      return { items, mask, weights, interests };
    });
  }

  loss(batch: TrainBatch): LossOutput {
    const { items, mask, weights, interests } = this.forward(batch.history);
    const main = sampledSoftmaxLoss(interests, batch.pos, batch.neg, this.item, this.cfg.temperature);
    const positives = attendedItems(weights, mask);
    const contrast = tf.mul(reContrastLoss(interests, items, mask, positives, this.cfg.tauContrast), this.cfg.lambdaContrast) as tf.Scalar;
    const attend = tf.mul(reAttendLoss(weights, interests, items, mask), this.cfg.lambdaAttend) as tf.Scalar;
    // Mean squared error over attended pairs and dimensions, the decoder checkpointed per user.
    // Users sorted by history length so each chunk's [L, L] attention drops the padding its
    // users share (positions count from the most recent item, padding is never attended and
    // has no positives: the errors are the same); the sum does not care about the order.
    const { order, inverse } = lengthOrder(batch.history);
    const errors = checkpointRows(
      ([z, m, x, pos]) => {
        const w = usedWidth(m as tf.Tensor2D);
        const recon = reconstruct(this.decoder, z as tf.Tensor3D, lastColumns(m as tf.Tensor2D, w, 1));
        return reconstructionErrors(recon, lastColumns(x as tf.Tensor3D, w, 1), lastColumns(pos as tf.Tensor3D, w, 2));
      },
      [interests, mask, items, positives].map((t) => permuteRows(t, order, inverse)),
      flattenParams(this.decoder).map(([, w]) => w),
      ROWS_PER_CHUNK,
    );
    const pairs = tf.mul(tf.sum(positives), items.shape[2]);
    const construct = tf.mul(tf.div(tf.sum(errors), tf.maximum(pairs, 1)), this.cfg.lambdaConstruct) as tf.Scalar;
    const terms = { main, contrast, attend, construct };
    return { total: tf.addN([main, contrast, attend, construct]) as tf.Scalar, terms };
  }

  /** assignment: each interest's attention over the history, [B, L, K]. */
  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => ({ assignment: attentionAssignment(this.forward(history)) }));
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.forward(history).interests);
  }
}

export const re4: ModelDef = {
  name: 're4',
  label: 'Re4',
  paper: 'Zhang, Yang, Yao, Lu, Feng, Zhao, Chua, Wu. Re4: Learning to Re-contrast, Re-attend, Re-construct for Multi-interest Recommendation. WWW 2022.',
  multiInterest: true,
  fields: Object.values(F),
  create: (ctx) => new Re4(ctx),
};
