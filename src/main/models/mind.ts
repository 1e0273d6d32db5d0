// MIND (Li et al., CIKM 2019): behaviour-to-interest dynamic routing with one shared bilinear
// map S and random initial routing logits, a two-layer ReLU "H-layer" per interest, and
// label-aware attention at training. Where the paper leaves a detail open this follows
// Wang-Yu-Qing/MIND (the code the CMI and OPAL papers ran); docs/models.md "## MIND" lists
// every choice.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { ItemModel } from './base.ts';
import { selectField } from './config.ts';
import { initNormal, initUniform } from './ops/init.ts';
import { sampledSoftmaxLoss } from './ops/losses.ts';
import { embed, idMask } from './ops/masks.ts';
import { dynamicRouting, labelAwareAttention, type RoutingOutput } from './ops/routing.ts';

const F = {
  routingIterations: { key: 'routingIterations', label: 'Routing iterations', type: 'integer', default: 3, min: 1 },
  pow: { key: 'pow', label: 'Label-aware attention power p', type: 'integer', default: 2, min: 0, help: 'weights softmax((u_l·e_target)^p); 0 = average of the interests' },
  dynamicInterests: {
    key: 'dynamicInterests', label: "Dynamic interest number K'_u = max(1, min(m, ⌊log2 |history|⌋))", type: 'boolean', default: false,
    help: 'false (the authors\' public code): every user gets m interests; true (paper eq. 9): fewer for short histories',
  },
  routingSoftmax: selectField({
    key: 'routingSoftmax', label: 'Routing softmax over', default: 'interests', options: ['interests', 'behaviours'],
    help: 'interests (paper, ComiRec): each behaviour splits itself among the interests; behaviours (Wang-Yu-Qing/MIND code): each interest averages the behaviours',
  }),
} satisfies Record<string, ConfigField>;

/** Encoder outputs: the routing's coupling, interests [B, m, d] (inactive interests repeat
 *  interest 0) and active [B, m] (1 for the user's K'_u interests); a type alias so tf.tidy
 *  accepts it. */
type Encoded = Pick<RoutingOutput, 'coupling'> & { interests: tf.Tensor3D; active: tf.Tensor2D };

class Mind extends ItemModel<typeof F> implements SeqRecModel {
  readonly needs = {};
  private readonly s: tf.Variable<tf.Rank.R2>;
  private readonly h1: tf.Variable<tf.Rank.R2>;
  private readonly hb1: tf.Variable;
  private readonly h2: tf.Variable<tf.Rank.R2>;
  private readonly hb2: tf.Variable;
  /** [m, maxlen] fixed random initial routing logits, column maxlen-1 for the latest item. */
  private readonly logits0: tf.Tensor2D;
  private readonly axis: 1 | 2;

  constructor(ctx: ModelContext) {
    super(ctx, F);
    const d = this.dim;
    this.axis = this.cfg.routingSoftmax === 'behaviours' ? 2 : 1;

    this.s = initNormal([d, d], this.seedOf('S')) as tf.Variable<tf.Rank.R2>;
    // H-layer Linear(d, 4d) -> ReLU -> Linear(4d, d), torch.nn.Linear's init, as the code.
    this.h1 = initUniform([d, 4 * d], this.seedOf('h1.w'), d) as tf.Variable<tf.Rank.R2>;
    this.hb1 = initUniform([4 * d], this.seedOf('h1.b'), d);
    this.h2 = initUniform([4 * d, d], this.seedOf('h2.w'), 4 * d) as tf.Variable<tf.Rank.R2>;
    this.hb2 = initUniform([d], this.seedOf('h2.b'), 4 * d);
    this.register({ S: this.s, 'h1.w': this.h1, 'h1.b': this.hb1, 'h2.w': this.h2, 'h2.b': this.hb2 });
    // Drawn once from the run seed (not trained, not saved): the same logits at every forward
    // and after a restore, as the code's fixed B; indexed from the latest item so left padding
    // never shifts them.
    this.logits0 = this.constant(tf.randomNormal([this.numInterests, this.maxlen], 0, 1, 'float32', this.seedOf('routingLogits')));
  }

  private encode(seq: tf.Tensor2D): Encoded {
    return tf.tidy(() => {
      const [B, L] = seq.shape;
      const m = this.numInterests;
      const maxlen = this.logits0.shape[1];
      if (L > maxlen) throw new Error(`mind: history has ${L} columns, more than maxlen ${maxlen}`);
      const d = this.s.shape[0];
      const mask = idMask(seq);
      const e = embed(this.item, seq) as tf.Tensor3D;
      const votes = tf.reshape(tf.matMul(tf.reshape(e, [B * L, d]), this.s), [B, 1, L, d]) as tf.Tensor4D;
      const active = this.activeInterests(mask);
      const routeMask = tf.mul(tf.expandDims(active, 2), tf.expandDims(mask, 1)) as tf.Tensor3D;
      const logits = tf.expandDims(tf.slice(this.logits0, [0, maxlen - L], [m, L]), 0) as tf.Tensor3D;
      const { capsules, coupling } = dynamicRouting(votes, logits, routeMask, { iterations: this.cfg.routingIterations, axis: this.axis });
      const hidden = tf.relu(tf.add(tf.matMul(tf.reshape(capsules, [B * m, d]), this.h1), this.hb1));
      const user = tf.reshape(tf.add(tf.matMul(hidden, this.h2), this.hb2), [B, m, d]);
      // An inactive interest repeats interest 0 (always active): it never changes the max over
      // interests, so it never retrieves anything interest 0 would not.
      const a = tf.expandDims(active, 2);
      const interests = tf.add(tf.mul(a, user), tf.mul(tf.sub(1, a), tf.slice(user, [0, 0, 0], [B, 1, d]))) as tf.Tensor3D;
      return { interests, active, coupling };
    });
  }

  /** [B, m]: 1 for the first K'_u interests, K'_u = max(1, min(m, floor(log2 n))) with n the
   *  number of valid history items; all ones when dynamic interests are off. */
  private activeInterests(mask: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [B] = mask.shape;
      const m = this.numInterests;
      if (!this.cfg.dynamicInterests) return tf.ones([B, m]);
      // floor(log2 n) for n >= 1, by counting the powers of two n reaches (exact, no float log).
      const n = tf.sum(mask, 1, true);
      const powers = tf.tensor2d(Array.from({ length: m - 1 }, (_, k) => 2 ** (k + 2)), [1, m - 1]);
      const k = tf.add(1, tf.sum(tf.cast(tf.greaterEqual(n, powers), 'float32'), 1, true));
      return tf.cast(tf.less(tf.range(0, m, 1, 'float32'), k), 'float32') as tf.Tensor2D;
    });
  }

  loss(batch: TrainBatch): LossOutput {
    const { interests, active } = this.encode(batch.history);
    const target = embed(this.item, batch.pos) as tf.Tensor2D;
    // The label-aware vector of the row's own positive scores every candidate of the batch
    // (paper eq. 10-11: Pr(i|u) is a softmax of v_u . e over the sampled items).
    const v = labelAwareAttention(interests, target, this.cfg.pow, active);
    const main = sampledSoftmaxLoss(v, batch.pos, batch.neg, this.item, 1);
    return { total: main, terms: { main } };
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.encode(history).interests);
  }

  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => {
      const { coupling, active } = this.encode(history);
      return { assignment: tf.transpose(coupling, [0, 2, 1]) as tf.Tensor3D, weights: tf.mul(tf.sum(coupling, 2), active) as tf.Tensor2D };
    });
  }
}

export const mind: ModelDef = {
  name: 'mind',
  label: 'MIND',
  paper: 'Li, Liu, Wu, Xu, Zhao, Huang, Kang, Chen, Li, Lee. Multi-Interest Network with Dynamic Routing for Recommendation at Tmall. CIKM 2019.',
  multiInterest: true,
  fields: Object.values(F),
  create: (ctx) => new Mind(ctx),
};
