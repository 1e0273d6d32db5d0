// Left padding: packing rows by the column they start at, sorting rows by length, trimming
// the padding all rows of a chunk share, and positions counted from the most recent item.
import * as tf from '@tensorflow/tfjs';

/** Rows sorted by their first valid column (stable), its inverse permutation, the first
 *  column any row starts at (t0, L when none) and k[t], the rows started by column t. */
export function packByStart(mask: ArrayLike<number>, B: number, L: number): { order: Int32Array; inverse: Int32Array; t0: number; k: Int32Array } {
  const start = new Int32Array(B).fill(L);
  const count = new Int32Array(L + 1);
  for (let r = 0; r < B; r++) {
    let t = 0;
    while (t < L && !(mask[r * L + t] > 0)) t++;
    start[r] = t;
    count[t]++;
  }
  const k = new Int32Array(L);
  let acc = 0;
  for (let t = 0; t < L; t++) k[t] = acc += count[t];
  // Counting sort by start column keeps equal starts in row order.
  const next = new Int32Array(L + 1);
  for (let t = 1; t <= L; t++) next[t] = next[t - 1] + count[t - 1];
  const order = new Int32Array(B);
  for (let r = 0; r < B; r++) order[next[start[r]]++] = r;
  const inverse = new Int32Array(B);
  for (let i = 0; i < B; i++) inverse[order[i]] = i;
  let t0 = 0;
  while (t0 < L && k[t0] === 0) t0++;
  return { order, inverse, t0, k };
}

/** Rows of left-padded ids [B, L] sorted by the column their first item is in (packByStart:
 *  longest first, stable), and the inverse permutation, as int32 tensors: chunked
 *  passes over the sorted rows can trim each chunk to its longest row (usedWidth, lastColumns). */
export function lengthOrder(ids: tf.Tensor2D): { order: tf.Tensor1D; inverse: tf.Tensor1D } {
  const [B, L] = ids.shape;
  const { order, inverse } = packByStart(ids.dataSync(), B, L);
  return { order: tf.tensor1d(order, 'int32'), inverse: tf.tensor1d(inverse, 'int32') };
}

/** How many trailing columns of a left-padded [B, L] mask or id matrix hold every row's items
 *  (at least 1). Models whose positions count from the most recent item and that never read
 *  padding give the same valid outputs on those columns alone. */
export function usedWidth(maskOrIds: tf.Tensor2D): number {
  const [B, L] = maskOrIds.shape;
  const v = maskOrIds.dataSync();
  let first = L - 1;
  for (let r = 0; r < B; r++) {
    for (let t = 0; t < first; t++) {
      if (v[r * L + t] !== 0) {
        first = t;
        break;
      }
    }
  }
  return L - first;
}

/** The last `width` entries of `axis` (a left-padded sequence axis). */
export function lastColumns<T extends tf.Tensor>(x: T, width: number, axis: number): T {
  const begin = x.shape.map((n, i) => (i === axis ? n - width : 0));
  const size = x.shape.map((n, i) => (i === axis ? width : n));
  return (x.shape[axis] === width ? x : tf.slice(x, begin, size)) as T;
}

/**
 * Position ids of a left-padded sequence of width L counted from the most recent item: column
 * L-1 is 0, column L-2 is 1, ... A sequence keeps its positions under any amount of extra left
 * padding, so outputs never depend on the padded width.
 */
export function positionsFromEnd(L: number): tf.Tensor1D {
  return tf.range(L - 1, -1, -1, 'int32') as tf.Tensor1D;
}

/** Rows of a position table [P, d] for a width-L sequence -> [L, d] (positionsFromEnd order). */
export function positionRows(table: tf.Tensor2D, L: number): tf.Tensor2D {
  if (L > table.shape[0]) throw new Error(`sequence width ${L} exceeds the ${table.shape[0]} positions the model was built for (maxlen)`);
  return tf.tidy(() => tf.gather(table, positionsFromEnd(L)) as tf.Tensor2D);
}
