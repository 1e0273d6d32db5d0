// Parameter trees: a model's parameters as nested records and arrays, named by dotted path
// for the model's `variables` record (checkpoints and the optimiser key on those names).
import * as tf from '@tensorflow/tfjs';

/** A nested record / array of tensors: a model's parameters. */
export type ParamTree = tf.Tensor | readonly ParamTree[] | { readonly [key: string]: ParamTree };

/** The tensors of a parameter tree by dotted path ("layer0.query.w"), in a stable order. */
export function flattenParams(tree: ParamTree, prefix = ''): [string, tf.Tensor][] {
  if (tree instanceof tf.Tensor) return [[prefix, tree]];
  const entries: [string, ParamTree][] = Array.isArray(tree) ? tree.map((t, i) => [String(i), t]) : Object.entries(tree);
  return entries.flatMap(([k, t]) => flattenParams(t, prefix ? `${prefix}.${k}` : k));
}

/** The variables of a parameter tree by dotted path, for a model's `variables` record. */
export function treeVariables(tree: ParamTree): Record<string, tf.Variable> {
  return Object.fromEntries(
    flattenParams(tree).map(([name, t]) => {
      if (!(t instanceof tf.Variable)) throw new Error(`parameter '${name}' is not a variable`);
      return [name, t];
    }),
  );
}
