// The optimiser's Adam update and the sphere projection's row normalisation as single kernels
// on the native addon's threads (native/blas/adam.c), for train/optimizer.ts and
// models/base.ts's projectToSphere through engine/fused.ts. Over a [100k, 64] item table the
// TF.js compositions (~10 and 5 elementwise ops, one thread) cost ~0.3 s a step.
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeTrain } from '../blas.ts';
import { typedKernelOutputs } from './io.ts';
import type { EngineKernel } from './types.ts';

export const STEP_KERNELS = { adam: 'CmiAdam', normalizeRows: 'CmiNormalizeRows' } as const;

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

export const stepKernels: EngineKernel[] = ['wasm', 'cpu'].flatMap((backendName) => [
  { kernelName: STEP_KERNELS.adam, backendName, available: () => typeof nativeTrain()?.adam === 'function', make: () => adam },
  { kernelName: STEP_KERNELS.normalizeRows, backendName, available: () => typeof nativeTrain()?.normalizeRows === 'function', make: () => normalizeRows },
]);
