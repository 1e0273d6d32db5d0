// _FusedMatMul (tf.fused.matMul: a product, a bias, an activation) for the pure backends with the
// native addon: the product goes to our BatchMatMul (OpenBLAS), then the bias and a linear or
// relu activation are applied in place. The stock kernels run their own slower matMul (Re4's
// [512, 64]·[64, 6400] + bias: 20 ms a call on wasm). Other activations, prelu weights and
// biases that are not one row of the output stay with the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { BatchMatMul, _FusedMatMul } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeBlas, nativeTrain } from '../blas.ts';
import { typedView } from './io.ts';
import type { EngineKernel } from './types.ts';

const prod = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);

function blasFusedMatMul(backendName: string, stock: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as NamedAttrMap;
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    const n = b!.shape[attrs.transposeB ? b!.shape.length - 2 : b!.shape.length - 1];
    const rowBias = !bias || (bias.dtype === 'float32' && prod(bias.shape) === n && bias.shape[bias.shape.length - 1] === n);
    const matMul = tf.getKernel(BatchMatMul, backendName)?.kernelFunc;
    if (preluActivationWeights || !rowBias || (activation !== 'linear' && activation !== 'relu') || a!.dtype !== 'float32' || !matMul) return stock(args);
    const out = matMul({ inputs: { a: a!, b: b! }, backend: args.backend, attrs: { transposeA: attrs.transposeA, transposeB: attrs.transposeB } }) as TensorInfo;
    const y = typedView(args.backend, out) as Float32Array;
    const bv = bias ? (typedView(args.backend, bias) as Float32Array) : null;
    const native = nativeTrain();
    if (native && typeof native.biasAct === 'function') {
      native.biasAct(y.length / n, n, activation === 'relu' ? 1 : 0, y, bv);
      return out;
    }
    for (let r = 0, rows = y.length / n; r < rows; r++) {
      const at = r * n;
      if (bv) for (let j = 0; j < n; j++) y[at + j] += bv[j];
      if (activation === 'relu') for (let j = 0; j < n; j++) if (y[at + j] < 0) y[at + j] = 0;
    }
    return out;
  };
}

export const fusedMatMulKernels: EngineKernel[] = ['wasm', 'cpu'].map((backendName) => ({
  kernelName: _FusedMatMul,
  backendName,
  available: () => nativeBlas().blas !== null,
  make(stock: KernelConfig | undefined): KernelFunc {
    if (!stock) throw new Error(`${backendName} _FusedMatMul kernel missing`);
    return blasFusedMatMul(backendName, stock.kernelFunc);
  },
}));
