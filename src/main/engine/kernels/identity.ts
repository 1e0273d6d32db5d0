// Identity for wasm without a copy: the gradient tape and reshapes call it constantly, and the
// stock wasm kernel copies the whole tensor each time. Sharing the data with a reference count
// is what the cpu backend does.
import { Identity, Transpose } from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { EngineKernel } from './types.ts';

export const identityKernel: EngineKernel = {
  kernelName: Identity,
  backendName: 'wasm',
  make(stock): KernelFunc {
    const copy = stock?.kernelFunc;
    return (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') {
        if (!copy) throw new Error('wasm Identity kernel missing');
        return copy(args);
      }
      (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    };
  },
};

/** A transpose that keeps the order of every axis longer than 1 (an identity permutation, or
 *  one that only moves size-1 axes) leaves the data as it is. The stock wasm kernel copies it
 *  then: every gather's gradient makes two such transposes (of [204800, 64] and of the item
 *  table's [100k, 64] on WeChat, ~25 ms a step); this shares the data as Identity does. */
export const transposeKernel: EngineKernel = {
  kernelName: Transpose,
  backendName: 'wasm',
  make(stock): KernelFunc {
    const transpose = stock?.kernelFunc;
    if (!transpose) throw new Error('wasm Transpose kernel missing');
    return (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const perm = (args.attrs as { perm: number[] }).perm;
      const kept = perm.filter((axis) => x.shape[axis] !== 1);
      if (x.dtype === 'string' || kept.some((axis, i) => i > 0 && axis < kept[i - 1])) return transpose(args);
      (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: perm.map((axis) => x.shape[axis]), dtype: x.dtype };
    };
  },
};
