// What every learned model repeats: the item table (row 0 = padding) that retrieval scores
// against, its variables record, itemTable() and dispose(), and the unit-sphere projection the
// category models (CMI, OPAL) apply after each update. Shared config keys are read here once.
import * as tf from '@tensorflow/tfjs';
import type { ConfigField } from '../../shared/types.ts';
import { dimField, int, interestsField, maxlenField, readFields, type Settings } from './config.ts';
import type { ModelContext } from './types.ts';
import { deriveSeed, embeddingTable } from './ops/init.ts';
import { l2normalize } from './ops/masks.ts';
import { fusedNormalizeRows } from '../engine/fused.ts';

/** The shared part of a model whose own config keys are `T`; subclasses add `implements
 *  SeqRecModel` and the rest. */
export abstract class ItemModel<T extends Record<string, ConfigField> = Record<string, never>> {
  /** m from the shared `interests` key; single-vector models override it. */
  readonly numInterests: number;
  /** Trainable variables by name, the item table first as 'item' (checkpoints key on these). */
  readonly variables: Record<string, tf.Variable>;
  /** [numItems, d] item embeddings drawn from the run seed under the name 'item'. */
  protected readonly item: tf.Variable<tf.Rank.R2>;
  /** The model's own config keys, read and checked once (readFields). */
  protected readonly cfg: Settings<T>;
  /** d, the embedding size. */
  protected readonly dim: number;
  /** The history length the model is built for (position tables, routing logits). */
  protected readonly maxlen: number;
  /** The run seed every variable's stream derives from (seedOf). */
  protected readonly seed: number;

  constructor(ctx: ModelContext, fields: T) {
    this.cfg = readFields(ctx.config, fields);
    this.seed = ctx.seed;
    this.dim = int(ctx.config, dimField);
    this.maxlen = int(ctx.config, maxlenField);
    this.numInterests = int(ctx.config, interestsField);
    this.item = embeddingTable(ctx.numItems, this.dim, this.seedOf('item'));
    this.variables = { item: this.item };
  }

  /** The seed of the variable (or random stream) called `name`: deriveSeed(run seed, name), so
   *  a checkpoint's variables are redrawn identically from the same names. */
  protected seedOf(name: string): number {
    return deriveSeed(this.seed, name);
  }

  /** Tensors the model owns besides its variables (not trained, not saved; see constant). */
  private readonly constants: tf.Tensor[] = [];

  /** Adds variables under their checkpoint names, after those registered so far. */
  protected register(vars: Record<string, tf.Variable>): void {
    Object.assign(this.variables, vars);
  }

  /** Registers a fixed tensor the model owns (not trained, not saved, recreated from the run
   *  seed on restore) so dispose() frees it; returns it. */
  protected constant<C extends tf.Tensor>(t: C): C {
    this.constants.push(t);
    return t;
  }

  itemTable(): tf.Tensor2D {
    return tf.clone(this.item); // the caller owns (and disposes) what it gets
  }

  dispose(): void {
    tf.dispose([...Object.values(this.variables), ...this.constants]);
  }
}

/** Puts every row of each table back on the unit sphere (a zero row, padding, stays zero), as
 *  the authors' forward does in place: called after each update, so the graph uses the rows as
 *  they are and Adam's weight decay cannot walk them towards zero. */
export function projectToSphere(...tables: tf.Variable[]): void {
  tf.tidy(() => {
    for (const t of tables) t.assign(fusedNormalizeRows(t as tf.Tensor2D) ?? l2normalize(t));
  });
}

/** The stage called `value` among `stages`: what a multi-stage model's stage setter accepts. */
export function stageNamed<S extends string>(model: string, stages: readonly S[], value: string): S {
  const found = stages.find((s) => s === value);
  if (!found) throw new Error(`${model}: unknown stage '${value}'; stages: ${stages.join(', ')}`);
  return found;
}
