// Two-way InfoNCE between paired rows, built from fused log-sum-exp blocks so the [N, N]
// similarities never sit on the gradient tape (docs/engine.md).
import * as tf from '@tensorflow/tfjs';
import { fusedProductLse, hasFusedProductLse } from '../../engine/fused.ts';
import { gradArgs } from './grad.ts';
import { logAddExp } from './losses.ts';
import { l2normalize } from './masks.ts';

export interface InfoNceOptions {
  /**
   * true (default; CMI paper eq. 6, SimCLR's NT-Xent): an anchor's negatives are every other
   * row of both views, 2(N-1) of them. false (the authors' code): only the other rows of the
   * opposite view, N-1 of them.
   */
  withinView?: boolean;
  /**
   * Rows of an [N, N] similarity block computed at a time. Default: the whole block while it
   * holds at most 2^26 floats (N = 8192: CMI's default 1024 users x 8 interests), else blocks
   * of 2^25 / N rows, recomputed in the backward pass, so 16 interests (N = 16384, 1 GB a
   * block) still fit the wasm heap.
   */
  rowsPerBlock?: number;
}

/** Whole [N, N] similarity blocks up to this many floats; row blocks beyond. */
const WHOLE_BLOCK_FLOATS = 1 << 26;
const ROW_BLOCK_FLOATS = 1 << 25;

/**
 * Log-sum-exp over the rows (and, with `columns`, over the columns) of x yᵀ + offset, for
 * x, y [N, d] -> [1 or 2, N]. One fused op: the tape keeps the row softmax and the small x and
 * y, never the [N, N] scores, and the backward pass turns the softmax straight into x and y
 * gradients. `offset` is a constant (no gradient). `bound` bounds |scores| (1/temperature for
 * unit rows): when it is moderate the column sums are read off the row softmax,
 * Σ_i exp(s_ij) = Σ_i p_ij exp(lse_i), a vector-matrix product instead of a transposed copy and
 * a second softmax; otherwise exp could underflow there, and the columns get their own softmax.
 */
function productLogSumExp(x: tf.Tensor2D, y: tf.Tensor2D, offset: tf.Tensor2D | null, columns: boolean, bound: number): tf.Tensor2D {
  const N = x.shape[0];
  const viaRows = 2 * bound + Math.log(N) < 60;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const { inputs: [a, b], save } = gradArgs(args);
    let scores = tf.matMul(a, b, false, true);
    if (offset) {
      const raw = scores;
      scores = tf.add(raw, offset);
      raw.dispose(); // [N, N] temporaries go as soon as they are used: wasm's heap is 4 GB
    }
    const lse = (s: tf.Tensor, p: tf.Tensor): tf.Tensor => tf.sub(tf.max(s, 1), tf.log(tf.max(p, 1)));
    const rows = tf.softmax(scores);
    const lseRows = lse(scores, rows);
    if (!columns || viaRows) scores.dispose();
    if (!columns) {
      save([a, b, rows]);
      return { value: tf.expandDims(lseRows, 0), gradFunc: (dy: tf.Tensor, [as, bs, pr]: tf.Tensor[]) => backToInputs(tf.mul(tf.transpose(dy), pr), as, bs) };
    }
    if (viaRows) {
      const top = tf.max(lseRows);
      const weights = tf.exp(tf.sub(lseRows, top)); // exp(lse_i - top) <= 1
      const lseCols = tf.add(tf.log(tf.squeeze(tf.matMul(tf.expandDims(weights, 0), rows), [0])), top);
      save([a, b, rows, weights, tf.exp(tf.sub(top, lseCols))]);
      return {
        value: tf.stack([lseRows, lseCols]),
        // d scores = dr_i p_ij + dc_j p_ij exp(lse_i - lse_cj): p times a rank-2 matrix.
        gradFunc: (dy: tf.Tensor, [as, bs, pr, w, v]: tf.Tensor[]) => {
          const [dr, dc] = tf.unstack(dy);
          const left = tf.stack([dr, w], 1); // [N, 2]
          const right = tf.stack([tf.onesLike(dc), tf.mul(dc, v)], 0); // [2, N]
          return backToInputs(tf.mul(tf.matMul(left, right), pr), as, bs);
        },
      };
    }
    const cols = tf.softmax(tf.transpose(scores)); // [N_y, N_x]
    save([a, b, rows, cols]);
    return {
      value: tf.stack([lseRows, lse(tf.transpose(scores), cols)]),
      gradFunc: (dy: tf.Tensor, [as, bs, pr, pc]: tf.Tensor[]) => {
        const [dr, dc] = tf.unstack(dy);
        const g = tf.add(tf.mul(tf.expandDims(dr, 1), pr), tf.transpose(tf.mul(tf.expandDims(dc, 1), pc)));
        return backToInputs(g, as, bs);
      },
    };
  });
  return op(x, y) as tf.Tensor2D;
}

/** [rows, N] offsets that put -1e9 on the diagonal of rows [r0, r0 + rows) of an [N, N] block. */
function diagonalOffset(r0: number, rows: number, N: number): tf.Tensor2D {
  const v = new Float32Array(rows * N);
  for (let i = 0; i < rows; i++) v[i * N + r0 + i] = -1e9;
  return tf.tensor2d(v, [rows, N]);
}

/**
 * productLogSumExp over row blocks of x yᵀ, for blocks too large to hold whole: each block's
 * softmax gives its rows' log-sum-exps and its share of the column sums (Σ_i p_ij exp(lse_i),
 * combined across blocks against the largest lse), and the backward pass recomputes each
 * block's softmax instead of keeping [N, N] on the tape. Needs the scores bounded so the column
 * sums can be read off the row softmax (productLogSumExp's `viaRows`).
 */
function blockedProductLogSumExp(x: tf.Tensor2D, y: tf.Tensor2D, maskDiagonal: boolean, columns: boolean, rowsPerBlock: number): tf.Tensor2D {
  const N = x.shape[0];
  const starts = Array.from({ length: Math.ceil(N / rowsPerBlock) }, (_, i) => i * rowsPerBlock);
  const rowsOf = (r0: number) => Math.min(rowsPerBlock, N - r0);
  /** Row softmax of one block and its rows' log-sum-exps. */
  const block = (xs: tf.Tensor2D, ys: tf.Tensor2D, r0: number): { p: tf.Tensor2D; lse: tf.Tensor1D } =>
    tf.tidy(() => {
      let scores: tf.Tensor2D = tf.matMul(tf.slice(xs, [r0, 0], [rowsOf(r0), -1]), ys, false, true);
      if (maskDiagonal) scores = tf.add(scores, diagonalOffset(r0, rowsOf(r0), N));
      const p = tf.softmax(scores);
      return { p, lse: tf.sub(tf.max(scores, 1), tf.log(tf.max(p, 1))) as tf.Tensor1D };
    });
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const { inputs: [a, b], save } = gradArgs(args);
    const lses: tf.Tensor1D[] = [];
    const shares: tf.Tensor[] = [];
    const tops: tf.Tensor[] = [];
    for (const r0 of starts) {
      const { p, lse } = block(a as tf.Tensor2D, b as tf.Tensor2D, r0);
      lses.push(lse);
      if (columns) {
        const [share, top] = tf.tidy(() => {
          const top = tf.max(lse);
          return [tf.squeeze(tf.matMul(tf.expandDims(tf.exp(tf.sub(lse, top)), 0), p), [0]), top];
        });
        shares.push(share);
        tops.push(top);
      }
      p.dispose();
    }
    const lseRows = tf.concat(lses);
    if (!columns) {
      save([a, b]);
      return {
        value: tf.expandDims(lseRows, 0),
        gradFunc: (dy: tf.Tensor, [as, bs]: tf.Tensor[]) => blockGrads(as as tf.Tensor2D, bs as tf.Tensor2D, (r0, p) => tf.mul(tf.reshape(tf.slice(dy, [0, r0], [1, rowsOf(r0)]), [-1, 1]), p)),
      };
    }
    const lseCols = tf.tidy(() => {
      const top = tf.max(tf.stack(tops));
      const sum = tf.addN(shares.map((c, i) => tf.mul(c, tf.exp(tf.sub(tops[i], top)))));
      return tf.add(tf.log(sum), top) as tf.Tensor1D;
    });
    save([a, b, lseRows, lseCols]);
    return {
      value: tf.stack([lseRows, lseCols]),
      // d scores = p_ij (dr_i + dc_j exp(lse_i - lse_cj)), as productLogSumExp's viaRows form.
      gradFunc: (dy: tf.Tensor, [as, bs, lr, lc]: tf.Tensor[]) => {
        const [dr, dc] = tf.unstack(dy);
        const top = tf.max(lr);
        const w = tf.exp(tf.sub(lr, top));
        const right = tf.stack([tf.onesLike(dc), tf.mul(dc, tf.exp(tf.sub(top, lc)))], 0); // [2, N]
        const grads = blockGrads(as as tf.Tensor2D, bs as tf.Tensor2D, (r0, p) => {
          const rows = rowsOf(r0);
          const left = tf.stack([tf.slice(dr, [r0], [rows]), tf.slice(w, [r0], [rows])], 1); // [rows, 2]
          return tf.mul(tf.matMul(left, right), p);
        });
        tf.dispose([dr, dc, top, w, right]);
        return grads;
      },
    };
  });
  /** x and y gradients from each block's d scores, g(r0, p), recomputing p block by block. */
  const blockGrads = (xs: tf.Tensor2D, ys: tf.Tensor2D, g: (r0: number, p: tf.Tensor2D) => tf.Tensor): tf.Tensor[] => {
    const dxs: tf.Tensor[] = [];
    let dyAcc: tf.Tensor = tf.zerosLike(ys);
    for (const r0 of starts) {
      const [dxb, next] = tf.tidy(() => {
        const { p } = block(xs, ys, r0);
        const gb = g(r0, p);
        const xb = tf.slice(xs, [r0, 0], [rowsOf(r0), -1]);
        return [tf.matMul(gb, ys), tf.add(dyAcc, tf.matMul(gb, xb, true, false))];
      });
      dyAcc.dispose();
      dyAcc = next;
      dxs.push(dxb);
    }
    const dx = tf.concat(dxs);
    tf.dispose(dxs);
    return [dx, dyAcc];
  };
  return op(x, y) as tf.Tensor2D;
}

/** x and y gradients of scores = x yᵀ given d scores g: g y and gᵀ x, the latter computed as
 *  (xᵀ g)ᵀ so only the small x is transposed. */
function backToInputs(g: tf.Tensor, x: tf.Tensor, y: tf.Tensor): tf.Tensor[] {
  return [tf.matMul(g, y), tf.transpose(tf.matMul(x, g, true, false))];
}

/**
 * Two-way InfoNCE between paired rows a [N, d] and b [N, d] (row i of a and b is a positive
 * pair) on cosine similarity / temperature: the mean loss with a as anchors plus the mean loss
 * with b as anchors. Each anchor's log-partition is assembled from per-block log-sum-exps
 * (a·bᵀ, and in the within-view form a·aᵀ and b·bᵀ without their diagonals), so no [N, 2N]
 * logits are ever built.
 */
export function infoNCE(a: tf.Tensor2D, b: tf.Tensor2D, temperature: number, opts: InfoNceOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const N = a.shape[0];
    const bound = 1 / temperature;
    const rowsPerBlock = opts.rowsPerBlock ?? (N * N <= WHOLE_BLOCK_FLOATS ? N : Math.max(1, Math.floor(ROW_BLOCK_FLOATS / N)));
    // Blocks need the column sums read off the row softmax (bounded scores); else whole blocks.
    const blocked = rowsPerBlock < N && 2 * bound + Math.log(N) < 60;
    const an = l2normalize(a);
    const bn = l2normalize(b);
    const as = tf.div(an, temperature) as tf.Tensor2D; // temperature on one side: no [N, N] division
    const positive = tf.sum(tf.mul(as, bn), 1);
    // The fused online-softmax kernel where the backend has it (engine/fused.ts), else ops.
    const cross = fusedProductLse(as, bn, false, true) ?? (blocked ? blockedProductLogSumExp(as, bn, false, true, rowsPerBlock) : productLogSumExp(as, bn, null, true, bound));
    let [fromA, fromB] = tf.unstack(cross);
    if (opts.withinView ?? true) {
      // A row is never its own negative: the diagonal of the within-view blocks goes to -1e9.
      const bs = tf.div(bn, temperature) as tf.Tensor2D;
      const self = blocked || hasFusedProductLse() ? null : diagonalOffset(0, N, N); // one [N, N] offset for both blocks
      const within = (x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D =>
        tf.squeeze(fusedProductLse(x, y, true, false) ?? (self ? productLogSumExp(x, y, self, false, bound) : blockedProductLogSumExp(x, y, true, false, rowsPerBlock)), [0]) as tf.Tensor1D;
      fromA = logAddExp(fromA, within(as, an));
      fromB = logAddExp(fromB, within(bs, bn));
      self?.dispose();
    }
    return tf.add(tf.mean(tf.sub(fromA, positive)), tf.mean(tf.sub(fromB, positive))) as tf.Scalar;
  });
}
