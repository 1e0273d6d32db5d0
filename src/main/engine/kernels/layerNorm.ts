// The fused layer norm's kernels (native/blas/norm.c) for engine/fusedNorm.ts, on the pure
// backends where the addon has them. Without them fusedLayerNorm finds no kernel and the layer
// keeps its TF.js composition.
import type { KernelFunc, NamedAttrMap, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { nativeNorm, type NativeNormKernels } from '../blas.ts';
import { typedKernelOutputs } from './io.ts';
import type { EngineKernel } from './types.ts';

/** Names shared with engine/fusedNorm.ts. */
export const LAYER_NORM = { forward: 'CmiLayerNorm', backward: 'CmiLayerNormGrad' } as const;

const f32 = (a: TypedArray): Float32Array => a as Float32Array;
const rowsOf = (shape: number[]): number => shape.slice(0, -1).reduce((a, b) => a * b, 1);

function kernels(k: NativeNormKernels): Record<string, KernelFunc> {
  return {
    // x [..., D], gamma [D], beta [D] -> y [..., D], mean [rows], rstd [rows]
    [LAYER_NORM.forward]: ({ inputs, backend, attrs }) => {
      const { x, gamma, beta } = inputs as Record<'x' | 'gamma' | 'beta', TensorInfo>;
      const { eps } = attrs as NamedAttrMap as { eps: number };
      const D = x.shape[x.shape.length - 1];
      const R = rowsOf(x.shape);
      const outs = [{ shape: x.shape, dtype: 'float32' as const }, { shape: [R], dtype: 'float32' as const }, { shape: [R], dtype: 'float32' as const }];
      return typedKernelOutputs(backend, [x, gamma, beta], outs, ([y, mean, rstd], [xv, gv, bv]) =>
        k.layerNormForward(R, D, eps, f32(xv), f32(gv), f32(bv), f32(y), f32(mean), f32(rstd)),
      );
    },
    // x, gamma, mean, rstd, dy -> dx [..., D], dgamma [D], dbeta [D]
    [LAYER_NORM.backward]: ({ inputs, backend }) => {
      const { x, gamma, mean, rstd, dy } = inputs as Record<'x' | 'gamma' | 'mean' | 'rstd' | 'dy', TensorInfo>;
      const D = x.shape[x.shape.length - 1];
      const R = rowsOf(x.shape);
      const outs = [{ shape: x.shape, dtype: 'float32' as const }, { shape: [D], dtype: 'float32' as const }, { shape: [D], dtype: 'float32' as const }];
      return typedKernelOutputs(backend, [x, gamma, mean, rstd, dy], outs, ([dx, dg, db], [xv, gv, mv, rv, dv]) =>
        k.layerNormBackward(R, D, f32(xv), f32(gv), f32(mv), f32(rv), f32(dv), f32(dx), f32(dg), f32(db)),
      );
    },
  };
}

export const layerNormKernels: EngineKernel[] = ['wasm', 'cpu'].flatMap((backendName) =>
  Object.values(LAYER_NORM).map((kernelName) => ({
    kernelName,
    backendName,
    available: () => nativeNorm() !== null,
    make: () => kernels(nativeNorm()!)[kernelName],
  })),
);
