// Exact retrieval in TF.js ops (retrieve.ts says what is computed): for backends whose matMul
// is not the OpenBLAS addon's (the native TensorFlow ones, or no addon), and the reference the
// fused native kernel is tested against. It materialises [users, m, items] scores per batch.
import * as tf from '@tensorflow/tfjs';
import type { SeqRecModel } from '../models/types.ts';
import type { Progress, Retrieved } from './retrieve.ts';

/** Users per forward pass: the [users * m, numItems] score block is kept under ~128 MiB.
 *  Top-K by tf.topk: on wasm it took half the time of a JS heap over the downloaded scores and
 *  moves k instead of numItems values per user off the device (docs/protocol.md, Retrieval). */
const SCORE_BLOCK_FLOATS = 1 << 25;
const MAX_USERS_PER_BATCH = 256;

export function retrieveTfjs(model: SeqRecModel, histories: Int32Array, n: number, maxlen: number, k: number, onProgress?: Progress): Retrieved {
  const out: Retrieved = { k, items: new Int32Array(n * k), scores: new Float32Array(n * k).fill(-Infinity), interest: new Int32Array(n * k).fill(-1) };
  for (let start = 0; start < n; ) {
    const [values, indices, which] = tf.tidy(() => {
      // The caller owns itemTable()'s tensor: built inside the scope, it is freed with it.
      const table = model.itemTable();
      const numItems = table.shape[0];
      const b = Math.min(n - start, Math.max(1, Math.min(MAX_USERS_PER_BATCH, Math.floor(SCORE_BLOCK_FLOATS / (Math.max(1, model.numInterests) * numItems)))));
      const h = tf.tensor2d(histories.subarray(start * maxlen, (start + b) * maxlen), [b, maxlen], 'int32');
      const u = model.interests(h);
      const [, m, d] = u.shape;
      const s = tf.matMul(u.reshape([b * m, d]), table, false, true).reshape([b, m, numItems]);
      // NaN (from any interest: Max propagates it) becomes -Infinity, which never qualifies;
      // tf.topk would rank rows holding NaN arbitrarily.
      const merged = s.max(1) as tf.Tensor2D;
      const clean = tf.where(tf.equal(merged, merged), merged, tf.fill(merged.shape, -Infinity));
      // Padding and up to maxlen history items are dropped afterwards: fetch that many extra.
      const top = tf.topk(clean, Math.min(numItems, k + maxlen + 1));
      // A flat gather: the wasm backend's GatherV2 with batchDims reads out of bounds.
      const flat = tf.add(top.indices, tf.range(0, b * numItems, numItems, 'int32').reshape([b, 1]));
      return [top.values, top.indices, tf.gather(s.argMax(1).reshape([-1]), flat).reshape(top.indices.shape)] as tf.Tensor2D[];
    });
    const [b, width] = values.shape;
    const vals = values.dataSync() as Float32Array;
    const ids = indices.dataSync() as Int32Array;
    const from = which.dataSync() as Int32Array;
    tf.dispose([values, indices, which]);
    for (let r = 0; r < b; r++) {
      const row = start + r;
      const history = new Set(histories.subarray(row * maxlen, (row + 1) * maxlen));
      let filled = 0;
      for (let j = r * width; j < (r + 1) * width && filled < k; j++) {
        const item = ids[j];
        // Padding, history items, and NaN or -Infinity scores never qualify.
        if (item === 0 || history.has(item) || !(vals[j] > -Infinity)) continue;
        const at = row * k + filled++;
        out.items[at] = item;
        out.scores[at] = vals[j];
        out.interest[at] = from[j];
      }
    }
    start += b;
    onProgress?.(start, n);
  }
  return out;
}
