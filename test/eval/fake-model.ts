// A SeqRecModel with fixed tensors: interest vectors handed out to users in order (retrieval
// visits users in order, and starts over after the last user), and a fixed item table.
import * as tf from '@tensorflow/tfjs';
import type { SeqRecModel } from '../../src/main/models/types.ts';

/** Interest vectors `u` [n, m, d] and item table `table` [numItems, d], both flat. */
export function fixedFlatModel(u: Float32Array, n: number, m: number, d: number, table: Float32Array, numItems: number): SeqRecModel {
  let cursor = 0;
  return {
    numInterests: m,
    variables: {},
    needs: {},
    loss() {
      throw new Error('a fixed model does not train');
    },
    interests(history: tf.Tensor2D): tf.Tensor3D {
      const b = history.shape[0];
      const rows = u.slice(cursor * m * d, (cursor + b) * m * d);
      cursor = (cursor + b) % n;
      return tf.tensor3d(rows, [b, m, d]);
    },
    itemTable: () => tf.tensor2d(table, [numItems, d]),
    dispose() {},
  };
}

/** fixedModel from nested arrays: userInterests[user][interest][dim], itemTable[item][dim]. */
export function fixedModel(userInterests: number[][][], itemTable: number[][]): SeqRecModel {
  const m = userInterests[0].length;
  const d = itemTable[0].length;
  return fixedFlatModel(Float32Array.from(userInterests.flat(2)), userInterests.length, m, d, Float32Array.from(itemTable.flat()), itemTable.length);
}
