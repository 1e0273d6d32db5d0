// A SeqRecModel with fixed tensors: interest vectors handed out to users in order (retrieval
// visits users in order), and a fixed item table.
import * as tf from '@tensorflow/tfjs';
import type { SeqRecModel } from '../../src/main/models/types.ts';

export function fixedModel(userInterests: number[][][], itemTable: number[][]): SeqRecModel {
  let cursor = 0;
  const m = userInterests[0].length;
  return {
    numInterests: m,
    variables: {},
    needs: {},
    loss() {
      throw new Error('a fixed model does not train');
    },
    interests(history: tf.Tensor2D): tf.Tensor3D {
      const rows = userInterests.slice(cursor, cursor + history.shape[0]);
      cursor += history.shape[0];
      return tf.tensor3d(rows);
    },
    itemTable: () => tf.tensor2d(itemTable),
    dispose() {},
  };
}
