// The GRU as fused native ops (native/blas/gru.c) for models/ops/gru.ts's `gru`: forward and
// backward through time are one native call each instead of a dozen TF.js ops per step, and
// only the (step, row) cells that hold a started row are projected and stored: rows are sorted
// by the column their history starts at (packByStart) and step t updates its first k[t] rows;
// before that a row's state is exactly zero. Left-padded views are mostly padding (~13% of the
// cells hold items on the KuaiRand slice), so the input projection shrinks as much. Null where
// the kernels are not registered: the layer then runs its op-by-op recurrence.
import * as tf from '@tensorflow/tfjs';
import { FUSED, type GruAttrs } from './kernels/fused.ts';
import { fusedEnabled } from './fused.ts';

/** What the fused GRU needs of the layer's weights. */
export interface GruWeights {
  wx: tf.Tensor2D;
  wh: tf.Tensor2D;
  bx?: tf.Tensor;
  bh?: tf.Tensor;
}

/** packByStart's packing: sorted rows (order[i] is the original row), first started step, and
 *  the rows started by each step. */
export interface GruPacking {
  order: Int32Array;
  t0: number;
  k: Int32Array;
}

/**
 * x [B, L, d] with mask values [B, L] (row-major, as read for the packing) -> every state,
 * step-major with rows sorted ([L, B, h], `all`), or the last [B, h] (sorted rows).
 */
export function fusedGru(p: GruWeights, x: tf.Tensor3D, maskValues: ArrayLike<number>, pack: GruPacking, all: boolean): tf.Tensor | null {
  const backend = tf.getBackend();
  if (!fusedEnabled() || !tf.getKernel(FUSED.gru, backend) || !tf.getKernel(FUSED.gruGrad, backend)) return null;
  const [B, L, d] = x.shape;
  const H = p.wh.shape[0];
  let R = 0;
  for (let t = pack.t0; t < L; t++) R += pack.k[t];
  if (R === 0 || H === 0 || d === 0) return null;
  // Packed cells: step t's i-th started row is original row order[i] at column t.
  const cells = new Int32Array(R);
  const mask = new Float32Array(R);
  for (let t = pack.t0, q = 0; t < L; t++) {
    for (let i = 0; i < pack.k[t]; i++, q++) {
      cells[q] = pack.order[i] * L + t;
      mask[q] = maskValues[cells[q]];
    }
  }
  const attrs: GruAttrs = { t0: pack.t0, k: Array.from(pack.k), batch: B, all };
  const named = attrs as unknown as tf.NamedAttrMap;
  return tf.tidy(() => {
    const m = tf.tensor1d(mask);
    let xp = tf.matMul(tf.gather(tf.reshape(x, [B * L, d]), tf.tensor1d(cells, 'int32')), p.wx) as tf.Tensor2D;
    if (p.bx) xp = tf.add(xp, p.bx);
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const [xi, w, b] = args.slice(0, -1) as tf.Tensor[];
      const inputs: tf.NamedTensorMap = { xp: xi, wh: w, mask: m, ...(b ? { bh: b } : {}) };
      const [states, gates] = tf.engine().runKernel(FUSED.gru, inputs, named) as unknown as tf.Tensor[];
      save([w, m, states, gates]);
      return {
        value: all ? tf.reshape(states, [L, B, H]) : tf.reshape(tf.slice(states, [L - 1, 0, 0], [1, B, H]), [B, H]),
        gradFunc: (dy: tf.Tensor, [ws, ms, ss, gs]: tf.Tensor[]) => {
          const [dxp, dwh, dbh] = tf.engine().runKernel(FUSED.gruGrad, { dy, wh: ws, mask: ms, states: ss, gates: gs }, named) as unknown as tf.Tensor[];
          if (p.bh) return [dxp, dwh, dbh];
          dbh.dispose();
          return [dxp, dwh];
        },
      };
    });
    return p.bh ? op(xp, p.wh, p.bh) : op(xp, p.wh);
  });
}
