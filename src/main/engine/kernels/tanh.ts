// Tanh on the native addon (native/blas/train.c): vectorised and on the pool's threads. TF.js's
// wasm kernel costs ~9 ns an element; Re4's proposal keys alone ([102400, 256]) took 0.23 s a
// step. Only float32 inputs; anything else goes to the stock kernel.
import { Tanh } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { nativeTrain } from '../blas.ts';
import { typedKernel } from './io.ts';
import type { EngineKernel } from './types.ts';

function nativeTanh(stock: KernelFunc): KernelFunc {
  const k = nativeTrain()!;
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return stock(args);
    return typedKernel(args.backend, [x], x.shape, 'float32', (out, [xv]) => k.tanh(xv as Float32Array, out as Float32Array), false);
  };
}

export const tanhKernels: EngineKernel[] = ['wasm', 'cpu'].map((backendName) => ({
  kernelName: Tanh,
  backendName,
  available: () => typeof nativeTrain()?.tanh === 'function',
  make(stock: KernelConfig | undefined): KernelFunc {
    if (!stock) throw new Error(`${backendName} Tanh kernel missing`);
    return nativeTanh(stock.kernelFunc);
  },
}));
