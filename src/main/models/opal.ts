// OPAL (Li et al., "Orthogonal Hyper-category Guided Multi-interest Elicitation for Micro-video
// Matching"): two stages. Pre-train: CMI's soft interests over orthogonal hyper-categories with
// L_orth and L_unif (no contrastive loss). Fine-tune: every history item is also routed to its
// single best hyper-category, each non-empty per-category subsequence runs through one shared
// GRU (the hard interest, the interest's evolution), and interest l = normalise(soft_l +
// hard_l), with L_unique sharpening the assignment. Choices where the paper is silent follow the
// authors' code (libeibei95/OPAL, model_devcl.py); docs/models.md "## OPAL" lists them.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { hardCategory } from './assignment.ts';
import { stageNamed } from './base.ts';
import { CategoryModel, categoryFields } from './category-model.ts';
import { selectField, stageOptimizerField } from './config.ts';
import { softInterests, type SoftInterests } from './ops/categories.ts';
import { checkpointRows, permuteRows } from './ops/grad.ts';
import { gruVariables, type GruParams } from './ops/gru.ts';
import { orthogonalityLoss, sampledSoftmaxLoss, uniformityLoss } from './ops/losses.ts';
import { l2normalize } from './ops/masks.ts';
import { lastColumns, lengthOrder, usedWidth } from './ops/padding.ts';

const F = {
  epsilon: categoryFields.epsilon,
  temperature: { key: 'temperature', label: 'Main-loss temperature τ', type: 'number', default: 0.1, min: 1e-3 },
  lambdaOrth: categoryFields.lambdaOrth,
  lambdaUnif: categoryFields.lambdaUnif,
  lambdaUnique: { key: 'lambdaUnique', label: 'Unique loss weight λ_q (fine-tune stage)', type: 'number', default: 1, min: 0 },
  trainStages: selectField({
    key: 'trainStages', label: 'Stages trained', default: 'both', options: ['both', 'pretrain', 'finetune'],
    help: "'pretrain' alone is the paper's ablation w/o fine-tune; 'finetune' alone (hard interests from random weights) is w/o pre-train",
  }),
  stageOptimizer: stageOptimizerField,
  mainNegatives: selectField({
    key: 'mainNegatives', label: 'Main-loss candidates', default: 'random', options: ['random', 'batch'],
    help: "random (paper eq. 6 and the authors' code): the row's positive plus the batch's B shared negatives; batch: every positive and negative of the batch",
  }),
} satisfies Record<string, ConfigField>;

const STAGES = ['pretrain', 'finetune'] as const;
/** Users per checkpointed chunk of the per-category GRU. */
const ROWS_PER_CHUNK = 256;
type Stage = (typeof STAGES)[number];

/**
 * Hard routing: each item goes to its single best hyper-category (argmax of its logits), as a
 * [B, m, L] 0/1 mask, so row (b, l) marks the items of category l's subsequence, in time order.
 * Padding goes nowhere.
 */
export function hardRouting(logits: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const m = logits.shape[2];
    const onehot = tf.mul(tf.oneHot(tf.argMax(logits, -1), m), tf.expandDims(mask, -1));
    return tf.transpose(onehot, [0, 2, 1]) as tf.Tensor3D;
  });
}

/**
 * L_unique (paper eq. 5): the mean over valid items of -ln(max_j a_lj / sum_j a_lj), with a the
 * softmax of `logits`; that is logsumexp - max, the cross-entropy of each assignment against its
 * own argmax (the authors' code).
 */
export function uniqueLoss(logits: tf.Tensor3D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const perItem = tf.neg(tf.max(tf.logSoftmax(logits, -1), -1));
    return tf.div(tf.sum(tf.mul(perItem, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/**
 * The shared GRU run over every per-category subsequence in one pass over the history: each
 * category keeps its own state ([B, m, h]) and step t advances only the state of item t's
 * category (`route` [B, L, m], one-hot on items, all zero on padding), so category l's final
 * state is the GRU over its own items in time order. Same equations and gate order (r, z, n)
 * as ops/gru.ts; written out because that GRU keeps one state per row, and running it over
 * [B*m, L] masked rows would cost m times the memory and the recurrent work.
 */
export function categoryGru(p: GruParams, x: tf.Tensor3D, route: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, L, d] = x.shape;
    const m = route.shape[2];
    const h3 = p.wh.shape[1];
    const hidden = h3 / 3;
    let xp = tf.matMul(tf.reshape(x, [B * L, d]), p.wx);
    if (p.bx) xp = tf.add(xp, p.bx);
    const steps = tf.unstack(tf.reshape(xp, [B, L, h3]), 1) as tf.Tensor2D[];
    const routes = tf.unstack(tf.expandDims(route, -1), 1) as tf.Tensor3D[];
    let states: tf.Tensor3D = tf.zeros([B, m, hidden]);
    for (let t = 0; t < L; t++) {
      const h = tf.sum(tf.mul(states, routes[t]), 1) as tf.Tensor2D; // the item's category state
      let hp = tf.matMul(h, p.wh);
      if (p.bh) hp = tf.add(hp, p.bh);
      const [xrz, xn] = tf.split(steps[t], [2 * hidden, hidden], 1);
      const [hrz, hn] = tf.split(hp, [2 * hidden, hidden], 1);
      const [r, z] = tf.split(tf.sigmoid(tf.add(xrz, hrz)), 2, 1);
      const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
      const next = tf.add(n, tf.mul(z, tf.sub(h, n)));
      states = tf.add(states, tf.mul(routes[t], tf.sub(tf.expandDims(next, 1), states))) as tf.Tensor3D;
    }
    return states;
  });
}

type Encoded = {
  soft: SoftInterests;
  /** [B, m, d] the interests retrieval uses in the current stage. */
  interests: tf.Tensor3D;
};

class Opal extends CategoryModel<typeof F> implements SeqRecModel {
  readonly stages: readonly Stage[];
  readonly needs = {};
  private current: Stage;

  /** One GRU shared by all hyper-categories (CategoryModel's head). */
  constructor(ctx: ModelContext) {
    super(ctx, F, true);
    const trained = this.cfg.trainStages;
    this.stages = trained === 'both' ? STAGES : [trained];
    this.current = this.stages[0];
  }

  get stage(): string {
    return this.current;
  }

  set stage(value: string) {
    this.current = stageNamed('opal', STAGES, value);
  }

  private encode(seq: tf.Tensor2D): Encoded {
    return tf.tidy(() => {
      const soft = softInterests(this.item, this.category, seq, this.cfg.epsilon);
      if (this.current === 'pretrain') return { soft, interests: soft.interests };
      const route = hardRouting(soft.logits, soft.mask); // [B, m, L]
      // Checkpointed over rows: the recurrence's tape grows with B * L * m otherwise. Rows go
      // sorted by length and each chunk runs only over the columns it fills: padding steps
      // route nowhere and leave every state as it is, so the states are the same.
      const { order, inverse } = lengthOrder(seq);
      const sorted = checkpointRows(
        ([x, r]) => {
          const w = usedWidth(tf.sum(r, 2) as tf.Tensor2D);
          return categoryGru(this.rnn, lastColumns(x as tf.Tensor3D, w, 1), lastColumns(r as tf.Tensor3D, w, 1));
        },
        [permuteRows(soft.items, order, inverse), permuteRows(tf.transpose(route, [0, 2, 1]), order, inverse)],
        Object.values(gruVariables('gru', this.rnn)),
        ROWS_PER_CHUNK,
      );
      const last = permuteRows(sorted, inverse, order) as tf.Tensor3D;
      const [B, m, d] = last.shape;
      const projected = this.mlp(tf.reshape(last, [B * m, d]) as tf.Tensor2D);
      const hard = l2normalize(tf.reshape(projected, [B, m, d]));
      // An empty subsequence has no hard interest: that interest is the soft one alone.
      // step(): 1 where the category got an item, with a zero gradient.
      const present = tf.expandDims(tf.step(tf.sum(route, 2)), -1);
      const fused = l2normalize(tf.add(soft.interests, hard));
      const interests = tf.add(tf.mul(present, fused), tf.mul(tf.sub(1, present), soft.interests)) as tf.Tensor3D;
      return { soft, interests };
    });
  }

  loss(batch: TrainBatch): LossOutput {
    const { soft, interests } = this.encode(batch.history);
    const main = sampledSoftmaxLoss(interests, batch.pos, batch.neg, this.item, this.cfg.temperature, { inBatchPositives: this.cfg.mainNegatives === 'batch' });
    const orth = tf.mul(orthogonalityLoss(this.category), this.cfg.lambdaOrth) as tf.Scalar;
    const unif = tf.mul(uniformityLoss(soft.assignment, soft.mask), this.cfg.lambdaUnif) as tf.Scalar;
    const unique = this.current === 'finetune' ? (tf.mul(uniqueLoss(soft.logits, soft.mask), this.cfg.lambdaUnique) as tf.Scalar) : tf.scalar(0);
    const terms = { main, orth, unif, unique };
    return { total: tf.addN([main, orth, unif, unique]) as tf.Scalar, terms };
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.encode(history).interests);
  }

  /** Soft assignment [B, L, m], hard assignment [B, L] (category index, -1 on padding) and
   *  interest intensity [B, m] (the paper's sum of assignment probabilities). */
  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => {
      const { assignment, weights, logits, mask } = softInterests(this.item, this.category, history, this.cfg.epsilon);
      const hard = tf.sub(tf.mul(tf.add(tf.argMax(logits, -1), 1), tf.cast(mask, 'int32')), 1) as tf.Tensor2D;
      return { assignment, hard, weights, category: hardCategory(assignment, history) };
    });
  }
}

export const opal: ModelDef = {
  name: 'opal',
  label: 'OPAL',
  paper: 'Li, Jin, Yu, Zheng, Song, Zhuo, Xiang. Orthogonal Hyper-category Guided Multi-interest Elicitation for Micro-video Matching.',
  multiInterest: true,
  fields: Object.values(F),
  sharedDefaults: { interests: 4 },
  // The paper's Table III, variants (A)-(F).
  ablations: {
    'OPAL w/o L_unique': { lambdaUnique: 0 },
    'OPAL w/o L_orth': { lambdaOrth: 0 },
    'OPAL w/o L_unif': { lambdaUnif: 0 },
    'OPAL w/o pre-train': { trainStages: 'finetune' },
    'OPAL w/o fine-tune': { trainStages: 'pretrain' },
    'OPAL next-item': { target: 'next' },
  },
  create: (ctx) => new Opal(ctx),
};
