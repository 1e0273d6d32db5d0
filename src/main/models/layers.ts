// Building blocks every model file shares, so no model re-implements initialisation, lookups,
// the GRU or the losses. Everything is TF.js ops, so it runs on any backend and differentiates
// through tf.variableGrads; the heavy pieces (gru, maxOverInterests, logSumExp, infoNCE) are
// single ops with hand-written gradients to save memory and time (docs/engine.md). Shapes use
// B = batch rows, L = sequence length, m = interests, d = embedding size, C = candidate items.
import * as tf from '@tensorflow/tfjs';
import { fusedMaxOverInterests, fusedProductLse, hasFusedProductLse } from '../engine/fused.ts';
import { fusedGru } from '../engine/fusedGru.ts';

// ---------------------------------------------------------------------------------------------
// Initialisation

/** A stable 31-bit seed for one variable: FNV-1a over the run seed and the variable's name, so
 *  every variable draws its own stream and adding a variable never shifts the others. */
export function deriveSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  const s = `${seed}:${name}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

/** A trainable variable drawn from U(-1/sqrt(d), 1/sqrt(d)), the authors' initialisation
 *  (d = embedding/hidden size; defaults to the last dimension of `shape`). */
export function initUniform(shape: number[], seed: number, d = shape[shape.length - 1]): tf.Variable {
  const bound = 1 / Math.sqrt(d);
  return tf.tidy(() => tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed)));
}

/** An embedding table [rows, dim] with U(-1/sqrt(dim), 1/sqrt(dim)) rows and row 0 (padding)
 *  all zeros, so padding contributes nothing anywhere and is never retrieved. */
export function embeddingTable(rows: number, dim: number, seed: number): tf.Variable<tf.Rank.R2> {
  const bound = 1 / Math.sqrt(dim);
  return tf.tidy(() => {
    const body = tf.randomUniform([rows - 1, dim], -bound, bound, 'float32', seed);
    return tf.variable(tf.concat([tf.zeros([1, dim]), body], 0) as tf.Tensor2D);
  });
}

// ---------------------------------------------------------------------------------------------
// Lookups and masks

/** Rows of `table` for integer ids of any shape: [...ids.shape, d]. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  return tf.gather(table, ids);
}

/** 1 where the id is a real item, 0 on padding (id 0); float32, same shape as `ids`. */
export function idMask<T extends tf.Tensor>(ids: T): T {
  return tf.cast(tf.greater(ids, 0), 'float32') as T;
}

/** x / max(||x||, eps) along `axis`, like torch's F.normalize. Written with a clamped squared
 *  norm so an all-zero row (padding) has a finite gradient. */
export function l2normalize<T extends tf.Tensor>(x: T, axis = -1, eps = 1e-12): T {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), axis, true);
    return tf.mul(x, tf.rsqrt(tf.maximum(sq, eps * eps))) as T;
  });
}

/** Mean of x [B, L, d] over the valid steps of mask [B, L] -> [B, d]; 0 for empty rows. */
export function maskedMean(x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const m = tf.expandDims(mask, -1);
    const total = tf.sum(tf.mul(x, m), 1);
    return tf.div(total, tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
  });
}

/** Softmax of `logits` along `axis` where masked entries (mask 0, broadcastable) get exactly 0;
 *  a row with no valid entry is all zeros. */
export function maskedSoftmax<T extends tf.Tensor>(logits: T, mask: tf.Tensor, axis = -1): T {
  return tf.tidy(() => {
    const shifted = tf.add(logits, tf.mul(tf.sub(1, mask), -1e9));
    return tf.mul(tf.softmax(shifted, axis), mask) as T;
  });
}

// ---------------------------------------------------------------------------------------------
// GRU (PyTorch's equations and gate order r, z, n)

export interface GruParams {
  /** [in, 3h] input weights for the r, z, n gates side by side. */
  wx: tf.Variable<tf.Rank.R2>;
  /** [h, 3h] recurrent weights. */
  wh: tf.Variable<tf.Rank.R2>;
  bx?: tf.Variable;
  bh?: tf.Variable;
}

/** GRU weights drawn U(-1/sqrt(hidden), 1/sqrt(hidden)) as torch.nn.GRU and the authors do. */
export function gruParams(inDim: number, hidden: number, opts: { bias: boolean }, seed: number): GruParams {
  const p: GruParams = {
    wx: initUniform([inDim, 3 * hidden], deriveSeed(seed, 'wx'), hidden) as tf.Variable<tf.Rank.R2>,
    wh: initUniform([hidden, 3 * hidden], deriveSeed(seed, 'wh'), hidden) as tf.Variable<tf.Rank.R2>,
  };
  if (opts.bias) {
    p.bx = initUniform([3 * hidden], deriveSeed(seed, 'bx'), hidden);
    p.bh = initUniform([3 * hidden], deriveSeed(seed, 'bh'), hidden);
  }
  return p;
}

/** The variables of a GRU under `prefix`, for a model's `variables` record. */
export function gruVariables(prefix: string, p: GruParams): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = { [`${prefix}.wx`]: p.wx, [`${prefix}.wh`]: p.wh };
  if (p.bx) out[`${prefix}.bx`] = p.bx;
  if (p.bh) out[`${prefix}.bh`] = p.bh;
  return out;
}

/** Unpacks tf.customGrad's variadic arguments: the input tensors, then the save function. */
function gradArgs(args: Array<tf.Tensor | tf.GradSaveFunc>): { inputs: tf.Tensor[]; save: tf.GradSaveFunc } {
  return { inputs: args.slice(0, -1) as tf.Tensor[], save: args[args.length - 1] as tf.GradSaveFunc };
}

/**
 * x's rows (axis 0) in the order `order`, whose inverse permutation is `inverse`. The same as
 * tf.gather(x, order), but its gradient is the inverse gather rather than gather's general
 * gradient (a scatter-add into zeros), which a permutation does not need.
 */
export function permuteRows<T extends tf.Tensor>(x: T, order: tf.Tensor1D, inverse: tf.Tensor1D): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const { inputs: [xi], save } = gradArgs(args);
    save([inverse]); // kept for the backward pass, which may outlive the caller's scope
    return { value: tf.gather(xi, order), gradFunc: (dy: tf.Tensor, [inv]: tf.Tensor[]) => tf.gather(dy, inv) };
  });
  return op(x) as T;
}

/** How a batch is packed for the recurrence: see packByStart. */
type Packing = { order: Int32Array; inverse: Int32Array; t0: number; k: Int32Array };

/**
 * The recurrent part of a GRU as one op with a hand-written backward pass (backpropagation
 * through time), over rows sorted by the column they start at (packByStart). xp [L*B, 3h] are
 * the input projections x W_x (+ b_x), step-major (row t*B + b), gates in PyTorch's order r, z,
 * n; mask [L, B], step-major too. Returns every step's state, step-major [L, B, h] (`all`), or
 * the last one [B, h], rows still sorted. Why one op: TF.js keeps the gradient of every taped
 * intermediate until the whole backward pass ends, so a step-by-step GRU holds a dozen [B, h]
 * gradients per step; here each step's temporaries are freed as the loop goes, and the tape
 * keeps only r, z, n, h W_h's n-part and the states.
 *
 * Before a row's first valid column its state is exactly zero, so step t computes only the k_t
 * rows that have started, a contiguous block at the top of step t's rows. Left-padded
 * histories are mostly padding (a contrastive view holds a tenth of maxlen here), so this skips
 * most of the work with the same result: a started row still follows the mask (holes in it
 * keep the state, as before).
 */
function recurrence(xp: tf.Tensor2D, wh: tf.Tensor2D, bh: tf.Tensor1D | null, mask: tf.Tensor2D, pack: Packing, all: boolean): tf.Tensor {
  const [L, B] = mask.shape;
  const H = wh.shape[0];
  const { t0, k } = pack;
  /** x grown to `rows` rows with zeros below. */
  const padRows = (x: tf.Tensor2D, rows: number): tf.Tensor2D => (x.shape[0] === rows ? x : tf.concat([x, tf.zeros([rows - x.shape[0], x.shape[1]])]));
  const run = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const { inputs, save } = gradArgs(args);
    const [xpIn, whIn] = inputs as [tf.Tensor2D, tf.Tensor2D];
    const bhIn = bh ? (inputs[2] as tf.Tensor1D) : null;
    const prevs: tf.Tensor2D[] = [];
    const states: tf.Tensor2D[] = [];
    const kept: tf.Tensor[] = [];
    for (let t = t0; t < L; t++) {
      const kt = k[t];
      const [prev, mt, h, r, z, n, hn] = tf.tidy(() => {
        const prev = t === t0 ? (tf.zeros([kt, H]) as tf.Tensor2D) : padRows(states[t - t0 - 1], kt);
        const mt = tf.reshape(tf.slice(mask, [t, 0], [1, kt]), [kt, 1]);
        const xt = tf.slice(xpIn, [t * B, 0], [kt, 3 * H]);
        const hp = bhIn ? tf.add(tf.matMul(prev, whIn), bhIn) : tf.matMul(prev, whIn);
        const [xr, xz, xn] = tf.split(xt, 3, 1);
        const [hr, hz, hnT] = tf.split(hp, 3, 1);
        const rT = tf.sigmoid(tf.add(xr, hr));
        const zT = tf.sigmoid(tf.add(xz, hz));
        const nT = tf.tanh(tf.add(xn, tf.mul(rT, hnT)));
        // (1 - z) n + z h, then masked: padding steps leave h unchanged.
        const next = tf.add(nT, tf.mul(zT, tf.sub(prev, nT)));
        return [prev, mt, tf.add(prev, tf.mul(mt, tf.sub(next, prev))), rT, zT, nT, hnT];
      });
      prevs.push(prev as tf.Tensor2D);
      states.push(h as tf.Tensor2D);
      kept.push(mt, r, z, n, hn);
    }
    save([whIn, ...prevs, ...kept]);
    const value = tf.tidy(() => {
      if (!all) return states.length ? padRows(states[states.length - 1], B) : tf.zeros([B, H]);
      const full = Array.from({ length: L }, (_, t) => (t < t0 ? tf.zeros([B, H]) : padRows(states[t - t0], B)));
      return tf.reshape(tf.concat(full, 0), [L, B, H]);
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const S = L - t0;
        const whS = saved[0];
        const prevS = saved.slice(1, 1 + S) as tf.Tensor2D[];
        const gates = saved.slice(1 + S);
        const dyFlat = all ? tf.reshape(dy, [L * B, H]) : dy;
        /** Rows [0, rows) of the upstream gradient of step t's state (the last state's when not `all`). */
        const upstream = (t: number, rows: number): tf.Tensor => tf.slice(dyFlat, [all ? t * B : 0, 0], [rows, H]);
        const whT = tf.transpose(whS);
        const dxp: tf.Tensor[] = new Array(S);
        const dhps: tf.Tensor[] = new Array(S);
        let dh: tf.Tensor = S ? upstream(L - 1, k[L - 1]) : tf.zeros([0, H]);
        for (let t = L - 1; t >= t0; t--) {
          const [mt, r, z, n, hn] = gates.slice(5 * (t - t0), 5 * (t - t0) + 5);
          const prev = prevS[t - t0];
          const out = tf.tidy(() => {
            const dNext = tf.mul(dh, mt);
            const dPreN = tf.mul(tf.mul(dNext, tf.sub(1, z)), tf.sub(1, tf.square(n)));
            const dPreR = tf.mul(tf.mul(dPreN, hn), tf.mul(r, tf.sub(1, r)));
            const dPreZ = tf.mul(tf.mul(dNext, tf.sub(prev, n)), tf.mul(z, tf.sub(1, z)));
            const dhp = tf.concat([dPreR, dPreZ, tf.mul(dPreN, r)], 1);
            const dPrev = tf.add(tf.add(tf.sub(dh, dNext), tf.mul(dNext, z)), tf.matMul(dhp, whT));
            // Rows that start at t had a constant zero state before it: their gradient stops.
            let dh1: tf.Tensor | undefined;
            if (t > t0) {
              dh1 = tf.slice(dPrev, [0, 0], [k[t - 1], H]);
              if (all) dh1 = tf.add(dh1, upstream(t - 1, k[t - 1]));
            }
            return { dx: padRows(tf.concat([dPreR, dPreZ, dPreN], 1) as tf.Tensor2D, B), dh1, dhp };
          });
          dh.dispose();
          dxp[t - t0] = out.dx;
          dhps[t - t0] = out.dhp;
          dh = out.dh1 ?? tf.zeros([0, H]);
        }
        // W_h's and b_h's gradients sum over all steps: one large product over the stacked
        // steps instead of L small ones (and L column sums) inside the sequential loop.
        const [dWh, dBh, dXp] = tf.tidy(() => {
          if (!S) return [tf.zerosLike(whS), tf.zeros([3 * H]), tf.zeros([L * B, 3 * H])];
          const dHp = tf.concat(dhps, 0);
          const prevAll = tf.concat(prevS, 0); // the state each step started from
          const before = t0 > 0 ? [tf.zeros([t0 * B, 3 * H])] : [];
          return [
            tf.matMul(prevAll, dHp, true, false),
            tf.reshape(tf.matMul(tf.ones([1, dHp.shape[0]]), dHp), [3 * H]),
            tf.concat([...before, ...dxp], 0),
          ];
        });
        tf.dispose([...dxp, ...dhps, dh, whT, ...(all ? [dyFlat] : [])]);
        return bh ? [dXp, dWh, dBh] : (tf.dispose(dBh), [dXp, dWh]);
      },
    };
  });
  return bh ? run(xp, wh, bh) : run(xp, wh);
}

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

/**
 * Runs a GRU over x [B, L, d] with mask [B, L] (left-padded), with PyTorch's equations. Padding
 * steps keep the previous state, so the state after column L-1 is the state after the last
 * valid item. The input projections of all steps are one matMul. `all` (every step's state,
 * [B, L, h]) is built unless { all: false }.
 */
export function gru(p: GruParams, x: tf.Tensor3D, mask: tf.Tensor2D): { last: tf.Tensor2D; all: tf.Tensor3D };
export function gru(p: GruParams, x: tf.Tensor3D, mask: tf.Tensor2D, opts: { all: false }): { last: tf.Tensor2D };
export function gru(p: GruParams, x: tf.Tensor3D, mask: tf.Tensor2D, opts: { all?: boolean } = {}): { last: tf.Tensor2D; all?: tf.Tensor3D } {
  return tf.tidy(() => {
    const [B, L, d] = x.shape;
    const values = mask.dataSync();
    const pack = packByStart(values, B, L);
    const order = tf.tensor1d(pack.order, 'int32');
    const inverse = tf.tensor1d(pack.inverse, 'int32');
    /** States from the fused native GRU where available (engine/fusedGru.ts), else the ops. */
    const states = (all: boolean): tf.Tensor => {
      const fused = fusedGru(p, x, values, pack, all);
      if (fused) return fused;
      // Sorted and step-major before the projection: x is a third of xp's size, and each step's
      // rows are then one contiguous block.
      const xs = tf.reshape(tf.transpose(permuteRows(x, order, inverse), [1, 0, 2]), [L * B, d]);
      let xp = tf.matMul(xs, p.wx) as tf.Tensor2D;
      if (p.bx) xp = tf.add(xp, p.bx);
      const ms = tf.transpose(tf.gather(mask, order)) as tf.Tensor2D;
      return recurrence(xp, p.wh, (p.bh ?? null) as tf.Tensor1D | null, ms, pack, all);
    };
    if (opts.all === false) return { last: permuteRows(states(false), inverse, order) as tf.Tensor2D };
    const allSorted = states(true); // [L, B, h]
    const all = permuteRows(tf.transpose(allSorted, [1, 0, 2]), inverse, order) as tf.Tensor3D;
    return { last: tf.squeeze(tf.slice(all, [0, L - 1, 0], [B, 1, -1]), [1]) as tf.Tensor2D, all };
  });
}

// ---------------------------------------------------------------------------------------------
// Scores and losses

/**
 * max over interests of u_l^T v: interests [B, m, d], items [C, d] -> [B, C]. Forward picks each
 * candidate's winning interest with argMax + gather; the gradient scatters dy into the winners
 * (a segment sum) and multiplies back, instead of tf.max's equality mask over all m interests,
 * and keeps only the winners' positions, not the [B, m, C] scores. Scores are laid out
 * interest-major, [m, B, C], so the winner's flat position is best * B*C + (b*C + c) and the
 * argMax runs over whole contiguous blocks. maxOverInterests runs the fused kernel instead where
 * the backend has it (engine/fused.ts); this composition is the reference it is tested against.
 */
export const maxOverInterestsOps = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const { inputs: [interests, items], save } = gradArgs(args);
  const [B, m, d] = interests.shape;
  const C = items.shape[0];
  const u = tf.reshape(tf.transpose(interests, [1, 0, 2]), [m * B, d]);
  const scores = tf.matMul(u, items, false, true); // [m*B, C]
  const best = tf.argMax(tf.reshape(scores, [m, B * C]), 0); // [B*C], no gradient
  const flat = tf.add(tf.mul(best, tf.scalar(B * C, 'int32')), tf.range(0, B * C, 1, 'int32'));
  save([u, items, flat]);
  return {
    value: tf.reshape(tf.gather(tf.reshape(scores, [-1]), flat), [B, C]),
    gradFunc: (dy: tf.Tensor, [us, vs, where]: tf.Tensor[]) => {
      const dScores = tf.reshape(tf.unsortedSegmentSum(tf.reshape(dy, [-1]), where as tf.Tensor1D, m * B * C), [m * B, C]);
      // d items = dScoresᵀ u, computed as (uᵀ dScores)ᵀ so only the small u is transposed.
      const dU = tf.transpose(tf.reshape(tf.matMul(dScores, vs), [m, B, d]), [1, 0, 2]);
      return [dU, tf.transpose(tf.matMul(us, dScores, true, false))];
    },
  };
}) as (interests: tf.Tensor3D, items: tf.Tensor2D) => tf.Tensor2D;

/** max over interests of u_l^T v (maxOverInterestsOps), fused where the backend has the kernel. */
export function maxOverInterests(interests: tf.Tensor3D, items: tf.Tensor2D): tf.Tensor2D {
  return fusedMaxOverInterests(interests, items) ?? maxOverInterestsOps(interests, items);
}

/**
 * log sum exp over the last axis of x [R, C] -> [R]. Computed from softmax, which every backend
 * implements as one fast kernel: the softmax at the row's maximum is exp(0)/S, so
 * lse = max - log(max(softmax)); its gradient is softmax itself.
 */
export const logSumExp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const { inputs: [x], save } = gradArgs(args);
  const p = tf.softmax(x);
  save([p]);
  return {
    value: tf.sub(tf.max(x, 1), tf.log(tf.max(p, 1))),
    gradFunc: (dy: tf.Tensor, [probs]: tf.Tensor[]) => tf.mul(tf.expandDims(dy, 1), probs),
  };
}) as (x: tf.Tensor2D) => tf.Tensor1D;

/** log(exp(u) + exp(v)) elementwise, without overflow. */
function logAddExp(u: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const m = tf.maximum(u, v);
  return tf.add(m, tf.log(tf.add(tf.exp(tf.sub(u, m)), tf.exp(tf.sub(v, m)))));
}

/** Row r's entry at column labels[r]: x [R, C] -> [R], differentiable in x (a gather). */
function pick(x: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const [R, C] = x.shape;
  const flat = tf.add(tf.mul(tf.range(0, R, 1, 'int32'), tf.scalar(C, 'int32')), tf.cast(labels, 'int32'));
  return tf.gather(tf.reshape(x, [-1]), flat) as tf.Tensor1D;
}

/** Mean cross-entropy of logits [R, C] against integer labels [R]: mean(lse - logit[label]). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sub(logSumExp(logits), pick(logits, labels))) as tf.Scalar);
}

/**
 * Sampled softmax over explicit candidates: row r scores every candidate item with max over
 * its interests, divides by `temperature`, and takes cross-entropy against candidate
 * labels[r]. interests [R, m, d], candidates [C] item ids, labels [R] indices into candidates.
 */
export function candidateSoftmaxLoss(
  interests: tf.Tensor3D,
  candidates: tf.Tensor1D,
  labels: tf.Tensor1D,
  itemTable: tf.Tensor2D,
  temperature: number,
): tf.Scalar {
  return tf.tidy(() => {
    const logits = tf.div(maxOverInterests(interests, embed(itemTable, candidates) as tf.Tensor2D), temperature);
    return crossEntropy(logits as tf.Tensor2D, labels);
  });
}

export interface SampledSoftmaxOptions {
  /**
   * true (default; CMI paper eq. 7): candidates are every row's positive and every sampled
   * negative, concat(pos, neg), so other rows' positives act as negatives too.
   * false (the authors' code): a row's own positive plus all sampled negatives of the batch.
   */
  inBatchPositives?: boolean;
}

/**
 * The in-batch sampled softmax with shared negatives every model trains with.
 * interests [B, m, d]; pos [B] (the row's positive); neg [N] the batch's sampled negatives.
 */
export function sampledSoftmaxLoss(
  interests: tf.Tensor3D,
  pos: tf.Tensor1D,
  neg: tf.Tensor1D,
  itemTable: tf.Tensor2D,
  temperature: number,
  opts: SampledSoftmaxOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const B = pos.shape[0];
    if (opts.inBatchPositives ?? true) {
      return candidateSoftmaxLoss(interests, tf.concat([pos, neg]), tf.range(0, B, 1, 'int32'), itemTable, temperature);
    }
    const posVec = embed(itemTable, pos) as tf.Tensor2D;
    const posScore = tf.max(tf.sum(tf.mul(interests, tf.expandDims(posVec, 1)), 2), 1, true);
    const negScore = maxOverInterests(interests, embed(itemTable, neg) as tf.Tensor2D);
    const logits = tf.div(tf.concat([posScore, negScore], 1), temperature) as tf.Tensor2D;
    return crossEntropy(logits, tf.zeros([B], 'int32'));
  });
}

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
