// The one interface every model implements (RecBole style: one file per model, a registry
// picks them up). Models are written once against the TF.js API; backends and kernels plug
// in underneath (src/main/engine), never a second copy of a model.
import type * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';

/** Flat run configuration: the shared training keys plus the model's own keys. */
export type Config = Record<string, number | string | boolean>;

/**
 * One training batch as tensors. Every int32 sequence tensor is LEFT-padded with 0: the most
 * recent item sits in the last column, so "the last valid step" is always column L-1.
 */
export interface TrainBatch {
  size: number;
  /** [B, L] history before the split point, last `maxlen` items. */
  history: tf.Tensor2D;
  /** [B] a random item from the future part (future-item prediction). */
  pos: tf.Tensor1D;
  /** [B] one random negative per row (not in the row's history), shared by the batch. */
  neg: tf.Tensor1D;
  /** [B, F] the future part (items at or after the split point), first F, left-padded. */
  future: tf.Tensor2D;
  /** Two disjoint random halves of the history (contrastive views), [B, Lv] each. */
  views?: [tf.Tensor2D, tf.Tensor2D];
  /** [B] one random negative per view row, for each view. */
  viewNegs?: [tf.Tensor1D, tf.Tensor1D];
}

export interface LossOutput {
  total: tf.Scalar;
  /** Each weighted term of `total` by name (main, cl, orth, unif, unique, ...), for curves. */
  terms: Record<string, tf.Scalar>;
}

/** What the interest inspector can show for a batch of histories. */
export interface Inspection {
  /** [B, L, m] soft assignment of each history item to each interest (where the model has one). */
  assignment?: tf.Tensor3D;
  /** [B, L] hard assignment (OPAL fine-tune, Octopus). */
  hard?: tf.Tensor2D;
  /** [B, m] weight (intensity) of each interest. */
  weights?: tf.Tensor2D;
  /** [B, L] the implicit category of each history item, -1 on padding (CMI, OPAL): what
   *  interest alignment groups by instead of the argmax score (models/assignment.ts). */
  category?: tf.Tensor2D;
}

export interface SeqRecModel {
  /** m, the number of interest vectors interests() returns per user. */
  readonly numInterests: number;
  /** Trainable variables by stable names: checkpoints and the optimiser key on these. */
  readonly variables: Record<string, tf.Variable>;
  /** Multi-stage models (OPAL, DSSRec): the stage names in order; the trainer advances on plateau. */
  readonly stages?: readonly string[];
  stage?: string;
  /** The batch parts this model reads, so the sampler skips what nobody needs. */
  readonly needs: { views?: boolean; future?: boolean };
  /** Loss of one batch; called inside the optimiser's gradient tape. */
  loss(batch: TrainBatch, step: number): LossOutput;
  /** Interest vectors [B, m, d] for left-padded histories [B, L]; retrieval scores items by
   *  max over interests of the inner product with itemTable(). */
  interests(history: tf.Tensor2D): tf.Tensor3D;
  /** Item vectors used for retrieval, [numItems, d]; row 0 is padding and never retrieved.
   *  Like interests(), the caller owns (disposes) the returned tensor. */
  itemTable(): tf.Tensor2D;
  inspect?(history: tf.Tensor2D): Inspection;
  /** Called by trainStep after each optimiser update, outside the gradient tape: models that
   *  keep embeddings on the unit sphere by projection (CMI, as the authors' code) do it here. */
  afterStep?(): void;
  dispose(): void;
}

export interface ModelContext {
  /** Vocabulary size including the padding row 0. */
  numItems: number;
  config: Config;
  seed: number;
  /** Training-set item frequencies by split item id (for `pop` and popularity-aware models). */
  itemCounts: Int32Array;
}

export interface ModelDef {
  name: string;
  label: string;
  /** Citation shown in the UI and docs. */
  paper: string;
  multiInterest: boolean;
  /** The model's own config keys with the authors' defaults (shared keys live in models/config.ts). */
  fields: ConfigField[];
  /** Overrides of shared defaults (e.g. OPAL's interests = 4). */
  sharedDefaults?: Config;
  /** Named ablation variants (label -> config overrides), e.g. CMI-CL: { lambdaCl: 0 }. */
  ablations?: Record<string, Config>;
  /** Models with nothing to learn (pop) skip the training loop. */
  trainable?: boolean;
  create(ctx: ModelContext): SeqRecModel;
}
