// The GRU recurrence as one fused op (native/blas/gru.c) for models/layers.ts's `recurrence`:
// forward and backward through time are one native call each instead of a dozen TF.js ops per
// step, over the same packing by start column (step t updates only its first k[t] rows). Null
// where the kernels are not registered: the layer then runs its op-by-op recurrence.
import * as tf from '@tensorflow/tfjs';
import { FUSED, type GruAttrs } from './kernels/fused.ts';
import { fusedEnabled } from './fused.ts';

/** The packing of packByStart that the kernels need: first started step, rows started by t. */
export interface GruPacking {
  t0: number;
  k: Int32Array;
}

/**
 * xp [L*B, 3H] (step-major input projections, rows sorted by start), wh [H, 3H], bh [3H] or
 * null, mask [L, B] (sorted, step-major) -> every state [L, B, H] (`all`) or the last [B, H].
 */
export function fusedRecurrence(xp: tf.Tensor2D, wh: tf.Tensor2D, bh: tf.Tensor1D | null, mask: tf.Tensor2D, pack: GruPacking, all: boolean): tf.Tensor | null {
  const backend = tf.getBackend();
  if (!fusedEnabled() || !tf.getKernel(FUSED.gru, backend) || !tf.getKernel(FUSED.gruGrad, backend)) return null;
  const [L, B] = mask.shape;
  const H = wh.shape[0];
  if (L === 0 || B === 0 || H === 0) return null;
  const attrs: GruAttrs = { t0: pack.t0, k: Array.from(pack.k), all };
  const named = attrs as unknown as tf.NamedAttrMap;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [x, w, b] = args.slice(0, -1) as tf.Tensor[];
    const inputs: tf.NamedTensorMap = { xp: x, wh: w, mask, ...(b ? { bh: b } : {}) };
    const [states, gates] = tf.engine().runKernel(FUSED.gru, inputs, named) as unknown as tf.Tensor[];
    save([w, mask, states, gates]);
    return {
      value: all ? tf.reshape(states, [L, B, H]) : tf.reshape(tf.slice(states, [L - 1, 0, 0], [1, B, H]), [B, H]),
      gradFunc: (dy: tf.Tensor, [ws, ms, ss, gs]: tf.Tensor[]) => {
        const [dxp, dwh, dbh] = tf.engine().runKernel(FUSED.gruGrad, { dy, wh: ws, mask: ms, states: ss, gates: gs }, named) as unknown as tf.Tensor[];
        if (bh) return [dxp, dwh, dbh];
        dbh.dispose();
        return [dxp, dwh];
      },
    };
  });
  return bh ? op(xp, wh, bh) : op(xp, wh);
}
