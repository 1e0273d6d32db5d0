// GRU (PyTorch's equations and gate order r, z, n) over left-padded sequences: the recurrence
// is one op with a hand-written backward pass (docs/engine.md).
import * as tf from '@tensorflow/tfjs';
import { fusedGru } from '../../engine/fusedGru.ts';
import { gradArgs, permuteRows } from './grad.ts';
import { deriveSeed, initUniform } from './init.ts';
import { packByStart } from './padding.ts';

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
