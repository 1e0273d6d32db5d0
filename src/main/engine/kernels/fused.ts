// Kernels for the fused training ops of engine/fused.ts, on the native addon's training kernels
// (native/blas/train.c). Registered for the pure backends only where the addon has them; without
// them engine/fused.ts finds no kernel and the layers keep their TF.js compositions.
import type { KernelFunc, NamedAttrMap, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { nativeTrain, type NativeTrainKernels } from '../blas.ts';
import { typedKernelOutputs } from './io.ts';
import type { EngineKernel } from './types.ts';

/** Names of the fused kernels, shared with engine/fused.ts. */
export const FUSED = {
  maxOverInterests: 'CmiMaxOverInterests',
  maxOverInterestsGrad: 'CmiMaxOverInterestsGrad',
  productLse: 'CmiProductLse',
  productLseGrad: 'CmiProductLseGrad',
  gru: 'CmiGru',
  gruGrad: 'CmiGruGrad',
} as const;

/** The GRU kernels' attributes: the packing of engine/fusedGru.ts. Rows are sorted by start
 *  column; step t updates its first k[t]; packed row Σ_{t0<=s<t} k[s] + i is step t's row i. */
export interface GruAttrs {
  t0: number;
  /** Rows started by each step (a non-decreasing count), one per step. */
  k: number[];
  batch: number;
  all: boolean;
}

const f32 = (a: TypedArray): Float32Array => a as Float32Array;

function kernels(k: NativeTrainKernels): Record<string, KernelFunc> {
  return {
    // u [B, m, d], items [C, d] -> value [B, C], winner [B, C] (int32)
    [FUSED.maxOverInterests]: ({ inputs, backend }) => {
      const { u, items } = inputs as { u: TensorInfo; items: TensorInfo };
      const [B, m, d] = u.shape;
      const C = items.shape[0];
      const outs = [{ shape: [B, C], dtype: 'float32' as const }, { shape: [B, C], dtype: 'int32' as const }];
      return typedKernelOutputs(backend, [u, items], outs, ([val, idx], [uv, iv]) =>
        k.moiForward(B, m, d, C, f32(uv), f32(iv), f32(val), idx as Int32Array),
      );
    },
    // u, items, idx, dy [B, C] -> du [B, m, d], ditems [C, d]
    [FUSED.maxOverInterestsGrad]: ({ inputs, backend }) => {
      const { u, items, idx, dy } = inputs as Record<'u' | 'items' | 'idx' | 'dy', TensorInfo>;
      const [B, m, d] = u.shape;
      const C = items.shape[0];
      const outs = [{ shape: [B, m, d], dtype: 'float32' as const }, { shape: [C, d], dtype: 'float32' as const }];
      return typedKernelOutputs(backend, [u, items, idx, dy], outs, ([du, di], [uv, iv, wv, gv]) =>
        k.moiBackward(B, m, d, C, f32(uv), f32(iv), wv as Int32Array, f32(gv), f32(du), f32(di)),
      );
    },
    // x [N, d], y [M, d] -> row log-sum-exps [N] (and column ones [M] with `columns`)
    [FUSED.productLse]: ({ inputs, backend, attrs }) => {
      const { x, y } = inputs as { x: TensorInfo; y: TensorInfo };
      const { diag, columns } = attrs as NamedAttrMap as { diag: boolean; columns: boolean };
      const [N, d] = x.shape;
      const M = y.shape[0];
      const outs = [{ shape: [N], dtype: 'float32' as const }, ...(columns ? [{ shape: [M], dtype: 'float32' as const }] : [])];
      return typedKernelOutputs(backend, [x, y], outs, ([lr, lc], [xv, yv]) =>
        k.lseForward(N, M, d, diag ? 1 : 0, f32(xv), f32(yv), f32(lr), lc ? f32(lc) : null),
      );
    },
    // x, y, lseRows, dRows (, lseCols, dCols) -> dx [N, d], dy [M, d]
    [FUSED.productLseGrad]: ({ inputs, backend, attrs }) => {
      const { x, y, lseRows, dRows, lseCols, dCols } = inputs as Record<string, TensorInfo | undefined>;
      const { diag } = attrs as NamedAttrMap as { diag: boolean };
      const [N, d] = x!.shape;
      const M = y!.shape[0];
      const ins = [x!, y!, lseRows!, dRows!, ...(lseCols && dCols ? [lseCols, dCols] : [])];
      const outs = [{ shape: [N, d], dtype: 'float32' as const }, { shape: [M, d], dtype: 'float32' as const }];
      return typedKernelOutputs(backend, ins, outs, ([dx, dy], [xv, yv, lr, dr, lc, dc]) =>
        k.lseBackward(N, M, d, diag ? 1 : 0, f32(xv), f32(yv), f32(lr), lc ? f32(lc) : null, f32(dr), dc ? f32(dc) : null, f32(dx), f32(dy)),
      );
    },
    // Packed rows (R of them, see GruAttrs): xp [R, 3H], mask [R], wh [H, 3H] (, bh [3H])
    // -> states [L, B, H], gates [R, 4H]
    [FUSED.gru]: ({ inputs, backend, attrs }) => {
      const { xp, wh, mask, bh } = inputs as Record<string, TensorInfo | undefined>;
      const { t0, k: ks, batch: B } = attrs as NamedAttrMap as unknown as GruAttrs;
      const [L, H, R] = [ks.length, wh!.shape[0], xp!.shape[0]];
      const outs = [{ shape: [L, B, H], dtype: 'float32' as const }, { shape: [R, 4 * H], dtype: 'float32' as const }];
      const ins = [xp!, wh!, mask!, ...(bh ? [bh] : [])];
      return typedKernelOutputs(backend, ins, outs, ([states, gates], [xv, wv, mv, bv]) =>
        k.gruForward(L, B, H, t0, Int32Array.from(ks), f32(xv), f32(wv), bv ? f32(bv) : null, f32(mv), f32(states), f32(gates)),
      );
    },
    // dy, wh, mask, states, gates -> dxp [R, 3H], dwh [H, 3H], dbh [3H]
    [FUSED.gruGrad]: ({ inputs, backend, attrs }) => {
      const { dy, wh, mask, states, gates } = inputs as Record<string, TensorInfo>;
      const { t0, k: ks, all, batch: B } = attrs as NamedAttrMap as unknown as GruAttrs;
      const [L, H, R] = [ks.length, wh.shape[0], mask.shape[0]];
      const outs = [{ shape: [R, 3 * H], dtype: 'float32' as const }, { shape: [H, 3 * H], dtype: 'float32' as const }, { shape: [3 * H], dtype: 'float32' as const }];
      return typedKernelOutputs(backend, [dy, wh, mask, states, gates], outs, ([dxp, dwh, dbh], [gv, wv, mv, sv, qv]) =>
        k.gruBackward(L, B, H, t0, all ? 1 : 0, Int32Array.from(ks), f32(gv), f32(wv), f32(mv), f32(sv), f32(qv), f32(dxp), f32(dwh), f32(dbh)),
      );
    },
  };
}

export const fusedKernels: EngineKernel[] = ['wasm', 'cpu'].flatMap((backendName) =>
  Object.values(FUSED).map((kernelName) => ({
    kernelName,
    backendName,
    available: () => nativeTrain() !== null,
    make: () => kernels(nativeTrain()!)[kernelName],
  })),
);
