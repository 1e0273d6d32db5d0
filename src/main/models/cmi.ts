// CMI (Li et al., SIGIR 2022): multiple interests from implicit orthogonal categories, a GRU
// general interest, and a contrastive loss between two random halves of the history.
// Follows the authors' code (libeibei95/CMI, model_devcl.py) where it and the paper differ,
// except where docs/models.md "## CMI" says otherwise; every choice is listed there.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import type { Inspection, LossOutput, ModelContext, ModelDef, SeqRecModel, TrainBatch } from './types.ts';
import { hardCategory } from './assignment.ts';
import { CategoryModel, categoryFields } from './category-model.ts';
import { bool, selectField } from './config.ts';
import { softInterests, type SoftInterests } from './ops/categories.ts';
import { gru } from './ops/gru.ts';
import { infoNCE } from './ops/infonce.ts';
import { candidateSoftmaxLoss, orthogonalityLoss, sampledSoftmaxLoss, uniformityLoss } from './ops/losses.ts';
import { idMask, l2normalize } from './ops/masks.ts';

const F = {
  epsilon: categoryFields.epsilon,
  tau: { key: 'tau', label: 'Contrastive temperature τ', type: 'number', default: 0.1, min: 1e-3 },
  lambdaCl: { key: 'lambdaCl', label: 'Contrastive loss weight λ_cl (0 = CMI-CL ablation)', type: 'number', default: 0.01, min: 0 },
  lambdaOrth: categoryFields.lambdaOrth,
  lambdaUnif: categoryFields.lambdaUnif,
  interestType: selectField({
    key: 'interestType', label: 'How the general interest joins', default: 'plus', options: ['plus', 'paper'],
    help: "plus (authors' code): u_l = normalise(interest_l + general); paper: score = max_l u_l·v/ε + u_g·v",
  }),
  useGeneral: { key: 'useGeneral', label: 'Use the GRU general interest (false = CMI-G ablation)', type: 'boolean', default: true },
  mainNegatives: selectField({
    key: 'mainNegatives', label: 'Main-loss candidates', default: 'batch', options: ['batch', 'random'],
    help: "batch (paper eq. 7): every positive and negative of the batch; random (authors' code): own positive + all sampled negatives",
  }),
  // The authors' code by default: it produced the published numbers, costs a third of the
  // paper's form, and the paper's form at batch 1024 x 8 interests outgrows wasm's 4 GB heap.
  clNegatives: selectField({
    key: 'clNegatives', label: 'Contrastive negatives', default: 'cross-view', options: ['cross-view', 'both-views'],
    help: "cross-view (authors' code): m|B|-1 negatives from the other view; both-views (paper eq. 6): 2(m|B|-1) from both",
  }),
} satisfies Record<string, ConfigField>;

/** Encoder outputs for a batch of left-padded sequences: the soft interests and, when used,
 *  the normalised general interest [B, d] (a type alias so tf.tidy accepts it). */
type Encoded = Pick<SoftInterests, 'assignment' | 'weights' | 'interests'> & { general?: tf.Tensor2D };

class Cmi extends CategoryModel<typeof F> implements SeqRecModel {
  readonly needs: { views: boolean };

  constructor(ctx: ModelContext) {
    super(ctx, F, bool(ctx.config, F.useGeneral));
    this.needs = { views: this.cfg.lambdaCl > 0 };
  }

  private encode(seq: tf.Tensor2D): Encoded {
    return tf.tidy(() => {
      const soft = softInterests(this.item, this.category, seq, this.cfg.epsilon);
      const out: Encoded = { assignment: soft.assignment, weights: soft.weights, interests: soft.interests };
      if (this.head) {
        const { last } = gru(this.head.rnn, soft.items, soft.mask, { all: false });
        out.general = l2normalize(this.mlp(last));
      }
      return out;
    });
  }

  /**
   * Vectors whose max inner product with an item is the model's score, and the temperature the
   * main loss divides that score by. plus: normalise(interest_l + general) over ε. paper:
   * max_l u_l·v/ε + u_g·v = max_l (u_l/ε + u_g)·v, so the vectors absorb ε and the general
   * interest and retrieval stays max-inner-product.
   */
  private scoring(e: Encoded): { vectors: tf.Tensor3D; temperature: number } {
    if (!e.general) return { vectors: e.interests, temperature: this.cfg.epsilon };
    const g = tf.expandDims(e.general, 1);
    if (this.cfg.interestType === 'paper') return { vectors: tf.add(tf.div(e.interests, this.cfg.epsilon), g) as tf.Tensor3D, temperature: 1 };
    return { vectors: l2normalize(tf.add(e.interests, g)) as tf.Tensor3D, temperature: this.cfg.epsilon };
  }

  loss(batch: TrainBatch): LossOutput {
    const useViews = this.needs.views;
    if (useViews && (!batch.views || !batch.viewNegs)) throw new Error('cmi: the batch has no contrastive views (lambdaCl > 0 needs them)');
    const B = batch.size;
    const m = this.numInterests;
    // With views on, the authors train the main loss on both views (2B rows) and never on the
    // whole history; each view row keeps the user's positive and its own random negative.
    const seqs = useViews ? tf.concat(batch.views!, 0) as tf.Tensor2D : batch.history;
    const e = this.encode(seqs);
    const { vectors, temperature } = this.scoring(e);

    let main: tf.Scalar;
    if (!useViews) {
      main = sampledSoftmaxLoss(vectors, batch.pos, batch.neg, this.item, temperature, { inBatchPositives: this.cfg.mainNegatives === 'batch' });
    } else if (this.cfg.mainNegatives === 'batch') {
      // Each positive once (both view rows of a user share it), then both views' negatives.
      const candidates = tf.concat([batch.pos, ...batch.viewNegs!]) as tf.Tensor1D;
      const labels = tf.tile(tf.range(0, B, 1, 'int32'), [2]) as tf.Tensor1D;
      main = candidateSoftmaxLoss(vectors, candidates, labels, this.item, temperature);
    } else {
      const pos2 = tf.concat([batch.pos, batch.pos]) as tf.Tensor1D;
      main = sampledSoftmaxLoss(vectors, pos2, tf.concat(batch.viewNegs!) as tf.Tensor1D, this.item, temperature, { inBatchPositives: false });
    }

    const d = this.category.shape[1];
    const orth = tf.mul(orthogonalityLoss(this.category), this.cfg.lambdaOrth) as tf.Scalar;
    const unif = tf.mul(uniformityLoss(e.assignment, idMask(seqs)), this.cfg.lambdaUnif) as tf.Scalar;

    let cl: tf.Scalar = tf.scalar(0);
    if (useViews) {
      // The paper contrasts the multi-interest encoder's outputs; the authors' code contrasts
      // the final (plus-form) vectors. Each form contrasts what it scores with.
      const contrasted = this.cfg.interestType === 'paper' ? e.interests : vectors;
      const [a, b] = tf.split(tf.reshape(contrasted, [2 * B * m, d]), 2, 0) as [tf.Tensor2D, tf.Tensor2D];
      cl = tf.mul(infoNCE(a, b, this.cfg.tau, { withinView: this.cfg.clNegatives === 'both-views' }), this.cfg.lambdaCl) as tf.Scalar;
    }
    const terms = { main, cl, orth, unif };
    return { total: tf.addN([main, cl, orth, unif]) as tf.Scalar, terms };
  }

  interests(history: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.scoring(this.encode(history)).vectors);
  }

  inspect(history: tf.Tensor2D): Inspection {
    return tf.tidy(() => {
      const { assignment, weights } = this.encode(history);
      return { assignment, weights, category: hardCategory(assignment, history) };
    });
  }
}

export const cmi: ModelDef = {
  name: 'cmi',
  label: 'CMI',
  paper: 'Li, Jin, Song, Yu, Zheng, Zhuo. Improving Micro-video Recommendation via Contrastive Multiple Interests. SIGIR 2022.',
  multiInterest: true,
  fields: Object.values(F),
  // The paper's Table 3.
  ablations: { 'CMI-CL': { lambdaCl: 0 }, 'CMI-G': { useGeneral: false } },
  create: (ctx) => new Cmi(ctx),
};
