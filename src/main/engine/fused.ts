// Fused training ops for the shared ops (models/ops/): each returns null when its kernel
// is not registered for the active backend (tfjs-node, a missing or older native addon,
// CMI_STUDIO_STOCK_KERNELS=1), and the layer then runs its TF.js composition, so every model is
// still written once against the TF.js API. Values and gradients equal the compositions to float
// rounding (test/engine/fused.test.ts); docs/engine.md says what each saves.
import * as tf from '@tensorflow/tfjs';
import { FUSED } from './kernels/fused.ts';
import { STEP_KERNELS, type AdamAttrs } from './kernels/step.ts';

let enabled = true;

/** Turns the fused ops off (or back on) for this process: to compare with the compositions. */
export function useFusedKernels(on: boolean): void {
  enabled = on;
}

/** Whether the fused ops are on (useFusedKernels). */
export function fusedEnabled(): boolean {
  return enabled;
}

function ready(kernelName: string, grad: string, shapes: number[][]): boolean {
  if (!enabled) return false;
  const backend = tf.getBackend();
  // Empty tensors: the compositions handle them, and the kernels gain nothing there.
  if (shapes.some((s) => s.some((n) => n === 0))) return false;
  return tf.getKernel(kernelName, backend) !== undefined && tf.getKernel(grad, backend) !== undefined;
}

type Args = Array<tf.Tensor | tf.GradSaveFunc>;
const run = (name: string, inputs: tf.NamedTensorMap, attrs: object = {}): tf.Tensor[] =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as unknown as tf.Tensor[];

const maxOverInterestsOp = tf.customGrad((...args: Args) => {
  const [u, items] = args as [tf.Tensor3D, tf.Tensor2D];
  const save = args[2] as tf.GradSaveFunc;
  const [value, winner] = run(FUSED.maxOverInterests, { u, items });
  save([u, items, winner]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, [us, vs, w]: tf.Tensor[]) => run(FUSED.maxOverInterestsGrad, { u: us, items: vs, idx: w, dy }),
  };
}) as (interests: tf.Tensor3D, items: tf.Tensor2D) => tf.Tensor2D;

/**
 * max over interests of u_l·v: interests [B, m, d], items [C, d] -> [B, C], the gradient going
 * to the first winning interest (as argMax picks it). One kernel: score tiles of L2 size are
 * reduced over the m interests as they are computed, so neither the [m, B, C] scores nor an
 * argMax pass over them exist; the backward pass scatters dy to the winners only.
 */
export function fusedMaxOverInterests(interests: tf.Tensor3D, items: tf.Tensor2D): tf.Tensor2D | null {
  if (!ready(FUSED.maxOverInterests, FUSED.maxOverInterestsGrad, [interests.shape, items.shape])) return null;
  return maxOverInterestsOp(interests, items);
}

/** Whether fusedProductLse runs (rather than returning null) on the active backend. */
export function hasFusedProductLse(): boolean {
  return ready(FUSED.productLse, FUSED.productLseGrad, []);
}

/**
 * Row log-sum-exps of x yᵀ (-1e9 added on the diagonal with `maskDiagonal`), and with `columns`
 * the column ones too: x [N, d], y [M, d] -> [1 or 2, N] (columns need M = N). An online softmax
 * over tiles: no [N, M] tensor in the forward pass, and the backward pass recomputes the tiles.
 */
export function fusedProductLse(x: tf.Tensor2D, y: tf.Tensor2D, maskDiagonal: boolean, columns: boolean): tf.Tensor2D | null {
  if (!ready(FUSED.productLse, FUSED.productLseGrad, [x.shape, y.shape])) return null;
  if (columns && x.shape[0] !== y.shape[0]) throw new Error(`fusedProductLse: columns need as many rows in y (${y.shape[0]}) as in x (${x.shape[0]})`);
  const op = tf.customGrad((...args: Args) => {
    const [a, b] = args as [tf.Tensor2D, tf.Tensor2D];
    const save = args[2] as tf.GradSaveFunc;
    const lses = run(FUSED.productLse, { x: a, y: b }, { diag: maskDiagonal, columns });
    save([a, b, ...lses]);
    return {
      value: columns ? tf.stack(lses) : tf.expandDims(lses[0], 0),
      gradFunc: (dy: tf.Tensor, [as, bs, lr, lc]: tf.Tensor[]) => {
        const d = tf.unstack(dy);
        const inputs: tf.NamedTensorMap = { x: as, y: bs, lseRows: lr, dRows: d[0] };
        if (columns) Object.assign(inputs, { lseCols: lc, dCols: d[1] });
        const grads = run(FUSED.productLseGrad, inputs, { diag: maskDiagonal });
        tf.dispose(d);
        return grads;
      },
    };
  });
  return op(x, y) as tf.Tensor2D;
}

/** A kernel without gradient (optimiser and projection updates, off the tape), when on. */
function readyPlain(kernelName: string, ...ts: tf.Tensor[]): boolean {
  return enabled && ts.every((t) => t.dtype === 'float32' && t.size > 0) && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * One Adam update of p with moments m, v and gradient g (train/optimizer.ts's composition, the
 * same float32 operations in the same order, so bit-identical), in one pass on the addon's
 * threads: [p', m', v'], or null where the kernel is not registered.
 */
export function fusedAdam(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: AdamAttrs): tf.Tensor[] | null {
  if (!readyPlain(STEP_KERNELS.adam, p, m, v, g)) return null;
  return run(STEP_KERNELS.adam, { p, m, v, g }, attrs);
}

/** Rows of x [R, d] scaled to unit length as l2normalize does (eps 1e-12), without gradient;
 *  null where the kernel is not registered. */
export function fusedNormalizeRows(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D | null {
  if (x.rank !== 2 || !readyPlain(STEP_KERNELS.normalizeRows, x)) return null;
  return run(STEP_KERNELS.normalizeRows, { x }, { eps2: eps * eps }) as unknown as tf.Tensor2D;
}

const logSumExpOp = tf.customGrad((...args: Args) => {
  const [x] = args as [tf.Tensor2D];
  const save = args[1] as tf.GradSaveFunc;
  const lse = run(STEP_KERNELS.lseRows, { x }) as unknown as tf.Tensor1D;
  save([x, lse]);
  return {
    value: lse,
    gradFunc: (dy: tf.Tensor, [xs, ls]: tf.Tensor[]) => run(STEP_KERNELS.lseRowsGrad, { x: xs, lse: ls, dy }) as unknown as tf.Tensor,
  };
}) as (x: tf.Tensor2D) => tf.Tensor1D;

/** log-sum-exp of each row of x [R, C] -> [R] in one pass per row on the addon's threads (its
 *  gradient exp(x - lse) likewise); null where the kernels are not registered. */
export function fusedLogSumExp(x: tf.Tensor2D): tf.Tensor1D | null {
  if (x.rank !== 2 || !readyPlain(STEP_KERNELS.lseRows, x) || !tf.getKernel(STEP_KERNELS.lseRowsGrad, tf.getBackend())) return null;
  return logSumExpOp(x);
}
