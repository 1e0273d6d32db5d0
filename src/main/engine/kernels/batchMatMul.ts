// BatchMatMul for wasm: the stock kernel is fast only without transposes; with transposeA or
// transposeB (every matMul gradient, and x·Wᵀ products) it runs 8-25x slower. Transposing the
// operand first (a cheap copy) and multiplying plainly gives the same numbers much faster.
import { BatchMatMul } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { EngineKernel } from './types.ts';

/** Swaps the last two axes of every operand that asks for a transpose. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

export const batchMatMulKernel: EngineKernel = {
  kernelName: BatchMatMul,
  backendName: 'wasm',
  make(stock: KernelConfig | undefined, lookup: (name: string) => KernelConfig | undefined): KernelFunc {
    const plain = stock?.kernelFunc;
    const transposeKernel = lookup('Transpose')?.kernelFunc;
    if (!plain || !transposeKernel) throw new Error('wasm BatchMatMul/Transpose kernels missing');
    return (args) => {
      const { inputs, backend } = args;
      const attrs = args.attrs as NamedAttrMap;
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      if (!attrs.transposeA && !attrs.transposeB) return plain(args);
      const dispose = backend as { disposeData(dataId: object): void };
      const flip = (x: TensorInfo): TensorInfo =>
        transposeKernel({ inputs: { x }, backend, attrs: { perm: swapLastTwo(x.shape.length) } }) as TensorInfo;
      const a2 = attrs.transposeA ? flip(a) : a;
      const b2 = attrs.transposeB ? flip(b) : b;
      const out = plain({ inputs: { a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      if (a2 !== a) dispose.disposeData(a2.dataId);
      if (b2 !== b) dispose.disposeData(b2.dataId);
      return out;
    };
  },
};
