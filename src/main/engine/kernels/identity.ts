// Identity for wasm without a copy: the gradient tape and reshapes call it constantly, and the
// stock wasm kernel copies the whole tensor each time. Sharing the data with a reference count
// is what the cpu backend does.
import { Identity } from '@tensorflow/tfjs';
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
