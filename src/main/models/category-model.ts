// What CMI and OPAL share beyond the item table: a category table G [m, d] kept with the items on
// the unit sphere, and a GRU without bias followed by Linear + ReLU (CMI's general interest,
// OPAL's hard interests), under the same variable names in both ('category', 'gru.*', 'mlp.*').
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import { ItemModel, projectToSphere } from './base.ts';
import type { ModelContext } from './types.ts';
import { gruParams, gruVariables, type GruParams } from './ops/gru.ts';
import { initUniform } from './ops/init.ts';

/** The keys CMI and OPAL share, with the authors' defaults (the same in both codes). */
export const categoryFields = {
  epsilon: {
    key: 'epsilon', label: 'Assignment temperature ε (cosine / ε before the softmax over categories)', type: 'number', default: 0.1, min: 1e-3,
    help: 'CMI also divides its main-loss scores by ε (the code\'s `temp` is both); OPAL has its own main-loss temperature',
  },
  lambdaOrth: { key: 'lambdaOrth', label: 'Orthogonality loss weight (CMI λ_orth, OPAL λ_o)', type: 'number', default: 10, min: 0 },
  lambdaUnif: { key: 'lambdaUnif', label: 'Uniformity loss weight: std/mean of category usage (OPAL λ_f)', type: 'number', default: 1, min: 0 },
} satisfies Record<string, ConfigField>;

export abstract class CategoryModel<T extends Record<string, ConfigField>> extends ItemModel<T> {
  /** [m, d] category (hyper-category) rows, unit length. */
  protected readonly category: tf.Variable<tf.Rank.R2>;
  /** The GRU and its Linear(d, d) head, when the model has them. */
  protected readonly head?: { rnn: GruParams; w: tf.Variable<tf.Rank.R2>; b: tf.Variable };

  constructor(ctx: ModelContext, fields: T, withGru: boolean) {
    super(ctx, fields);
    const d = this.dim;
    // The authors' init_parameter draws the category table uniformly too (its orthogonal_
    // branch never matches the parameter name); the orthogonality loss does the rest.
    this.category = initUniform([this.numInterests, d], this.seedOf('category'), d) as tf.Variable<tf.Rank.R2>;
    this.register({ category: this.category });
    if (withGru) {
      // No bias, then Linear + ReLU, as the authors' code.
      const rnn = gruParams(d, d, { bias: false }, this.seedOf('gru'));
      const w = initUniform([d, d], this.seedOf('mlp.w'), d) as tf.Variable<tf.Rank.R2>;
      const b = initUniform([d], this.seedOf('mlp.b'), d);
      this.head = { rnn, w, b };
      this.register({ ...gruVariables('gru', rnn), 'mlp.w': w, 'mlp.b': b });
    }
    this.afterStep();
  }

  /** Item and category rows stay on the unit sphere (projectToSphere), from creation on. */
  afterStep(): void {
    projectToSphere(this.item, this.category);
  }

  /** The head's GRU, for models that always have one. */
  protected get rnn(): GruParams {
    if (!this.head) throw new Error('this model was built without its GRU');
    return this.head.rnn;
  }

  /** relu(h W + b) for GRU states h [R, d]. */
  protected mlp(h: tf.Tensor2D): tf.Tensor2D {
    if (!this.head) throw new Error('this model was built without its GRU');
    return tf.relu(tf.add(tf.matMul(h, this.head.w), this.head.b)) as tf.Tensor2D;
  }
}
