// Kernels of a training step beside the fused layers, on the native addon's threads
// (native/blas/adam.c, train.c), called through engine/fused.ts: the optimiser's Adam update
// and the sphere projection's row normalisation (train/optimizer.ts, models/base.ts's
// projectToSphere: over a [100k, 64] item table their TF.js compositions, ~10 and 5
// elementwise ops on one thread, cost ~0.3 s a step), and row log-sum-exps with their gradient
// (models/ops/losses.ts's logSumExp: a softmax, two max reductions and a product).
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeTrain } from '../blas.ts';
import { typedKernelOutputs } from './io.ts';
import type { EngineKernel } from './types.ts';

export const STEP_KERNELS = { adam: 'CmiAdam', normalizeRows: 'CmiNormalizeRows', lseRows: 'CmiLogSumExp', lseRowsGrad: 'CmiLogSumExpGrad' } as const;

/** Adam's scalars as the composition uses them (train/optimizer.ts); wd 0: no decay term. */
export interface AdamAttrs {
  b1: number;
  omb1: number;
  b2: number;
  omb2: number;
  sqrtBc2: number;
  eps: number;
  stepSize: number;
  wd: number;
}

const f32 = (a: unknown): Float32Array => a as Float32Array;

// p, m, v, g (float32, one shape) -> p', m', v'
const adam: KernelFunc = ({ inputs, backend, attrs }) => {
  const { p, m, v, g } = inputs as Record<'p' | 'm' | 'v' | 'g', TensorInfo>;
  const a = attrs as NamedAttrMap as unknown as AdamAttrs;
  const n = p.shape.reduce((x, y) => x * y, 1);
  const outs = [0, 1, 2].map(() => ({ shape: [...p.shape], dtype: 'float32' as const }));
  return typedKernelOutputs(backend, [p, m, v, g], outs, ([op, om, ov], [pv, mv, vv, gv]) =>
    nativeTrain()!.adam!(n, a.b1, a.omb1, a.b2, a.omb2, a.sqrtBc2, a.eps, a.stepSize, a.wd, f32(pv), f32(mv), f32(vv), f32(gv), f32(op), f32(om), f32(ov)),
  false);
};

// x [rows, d] -> x / max(||row||, sqrt(eps2))
const normalizeRows: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const { eps2 } = attrs as NamedAttrMap as { eps2: number };
  const [rows, d] = x.shape;
  return typedKernelOutputs(backend, [x], [{ shape: [rows, d], dtype: 'float32' }], ([y], [xv]) => nativeTrain()!.normalizeRows!(rows, d, eps2, f32(xv), f32(y)), false)[0];
};

// x [R, C] -> lse [R]
const lseRows: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  const [R, C] = x.shape;
  return typedKernelOutputs(backend, [x], [{ shape: [R], dtype: 'float32' }], ([out], [xv]) => nativeTrain()!.lseRows!(R, C, f32(xv), null, null, f32(out)), false)[0];
};

// x [R, C], lse [R], dy [R] -> dx [R, C]
const lseRowsGrad: KernelFunc = ({ inputs, backend }) => {
  const { x, lse, dy } = inputs as Record<'x' | 'lse' | 'dy', TensorInfo>;
  const [R, C] = x.shape;
  return typedKernelOutputs(backend, [x, lse, dy], [{ shape: [R, C], dtype: 'float32' }], ([out], [xv, lv, gv]) =>
    nativeTrain()!.lseRows!(R, C, f32(xv), f32(lv), f32(gv), f32(out)), false)[0];
};

const hasLseRows = (): boolean => typeof nativeTrain()?.lseRows === 'function';

export const stepKernels: EngineKernel[] = ['wasm', 'cpu'].flatMap((backendName) => [
  { kernelName: STEP_KERNELS.lseRows, backendName, available: hasLseRows, make: () => lseRows },
  { kernelName: STEP_KERNELS.lseRowsGrad, backendName, available: hasLseRows, make: () => lseRowsGrad },
  { kernelName: STEP_KERNELS.adam, backendName, available: () => typeof nativeTrain()?.adam === 'function', make: () => adam },
  { kernelName: STEP_KERNELS.normalizeRows, backendName, available: () => typeof nativeTrain()?.normalizeRows === 'function', make: () => normalizeRows },
]);
