// BatchMatMul for the pure backends. Where the native OpenBLAS addon loads (engine/blas.ts),
// float32 products go to its sgemm, which takes transposes as flags and runs 10-20x faster than
// TF.js's own matMul on one core (docs/engine.md); it also broadcasts batch dims like [2,1]
// against [1,3] correctly, which the stock wasm kernel gets wrong. Otherwise, on wasm: the stock kernel is fast
// only without transposes; with transposeA or transposeB (every matMul gradient, and x·Wᵀ
// products) it runs 8-25x slower, so the operand is transposed first (a cheap copy) and
// multiplied plainly, which gives the same numbers much faster.
import * as tf from '@tensorflow/tfjs';
import { BatchMatMul, backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeBlas, type NativeBlas } from '../blas.ts';
import { typedKernel } from './io.ts';
import type { EngineKernel } from './types.ts';

const prod = (xs: number[]): number => xs.reduce((p, x) => p * x, 1);

/** Offset of each output batch element's operand matrix, for an operand whose batch dims
 *  `outer` broadcast to `full` (dims of size 1 repeat). */
function batchOffsets(outer: number[], full: number[], matrixSize: number): number[] {
  const dims = [...Array<number>(full.length - outer.length).fill(1), ...outer];
  const offsets: number[] = [];
  const index = full.map(() => 0);
  for (let z = 0; z < prod(full); z++) {
    let flat = 0;
    for (let i = 0; i < full.length; i++) flat = flat * dims[i] + (dims[i] === 1 ? 0 : index[i]);
    offsets.push(flat * matrixSize);
    for (let i = full.length - 1; i >= 0 && ++index[i] === full[i]; i--) index[i] = 0;
  }
  return offsets;
}

/** Shapes of BLAS calls for op(a)·op(b) with TF.js's batch broadcasting, or null where the
 *  stock kernel should decide (other dtypes, mismatched inner sizes: it raises the error). */
function plan(a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean) {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [ra, rb] = [a.shape.length, b.shape.length];
  if (ra < 2 || rb < 2) return null;
  const m = a.shape[ta ? ra - 1 : ra - 2];
  const k = a.shape[ta ? ra - 2 : ra - 1];
  const n = b.shape[tb ? rb - 2 : rb - 1];
  if (b.shape[tb ? rb - 1 : rb - 2] !== k) return null;
  const [outerA, outerB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  let outer: number[];
  try {
    outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  const [batch, ba, bb] = [prod(outer), prod(outerA), prod(outerB)];
  const shapes = { outShape: [...outer, m, n], batch, m, n, k };
  // Usually each operand spans the whole batch in order or is one matrix reused by all: one
  // strided call. Otherwise (batch dims [2,1] against [1,3], say) one call per output matrix.
  if ((ba === batch || ba === 1) && (bb === batch || bb === 1)) {
    return { ...shapes, strideA: ba === 1 ? 0 : m * k, strideB: bb === 1 ? 0 : k * n, offsets: null };
  }
  return { ...shapes, strideA: 0, strideB: 0, offsets: [batchOffsets(outerA, outer, m * k), batchOffsets(outerB, outer, k * n)] };
}

/** Kernel functions that hand products to OpenBLAS, to tell whether a backend's matMul does. */
const onBlas = new WeakSet<KernelFunc>();

/** Whether `backendName`'s registered BatchMatMul runs on the OpenBLAS addon: then a native
 *  kernel calling the same sgemm computes bit-identical products (eval/retrieve.ts). */
export function matMulOnBlas(backendName: string): boolean {
  const k = tf.getKernel(BatchMatMul, backendName);
  return k !== undefined && onBlas.has(k.kernelFunc);
}

function blasMatMul(blas: NativeBlas, fallback: KernelFunc): KernelFunc {
  const kernel: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = args.attrs as NamedAttrMap;
    const [ta, tb] = [Boolean(attrs.transposeA), Boolean(attrs.transposeB)];
    const p = plan(a, b, ta, tb);
    if (!p) return fallback(args);
    const { batch, m, n, k } = p;
    // sgemm writes every element of the output, so it is not zero-filled first.
    return typedKernel(args.backend, [a, b], p.outShape, 'float32', (out, [av, bv]) => {
      // The cpu backend may hold a float32 tensor in another array type (after some casts).
      const f32 = (x: ArrayLike<number>): Float32Array => (x instanceof Float32Array ? x : Float32Array.from(x));
      const [A, B, C] = [f32(av), f32(bv), out as Float32Array];
      if (!p.offsets) return blas.sgemm(ta, tb, batch, m, n, k, A, p.strideA, B, p.strideB, C);
      const [offA, offB] = p.offsets;
      for (let z = 0; z < batch; z++) {
        blas.sgemm(ta, tb, 1, m, n, k, A.subarray(offA[z], offA[z] + m * k), 0, B.subarray(offB[z], offB[z] + k * n), 0, C.subarray(z * m * n, (z + 1) * m * n));
      }
    }, false);
  };
  onBlas.add(kernel);
  return kernel;
}

/** Swaps the last two axes of every operand that asks for a transpose. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/** The wasm stock kernel with transposes done as copies first. */
function wasmTransposeFirst(plain: KernelFunc, transposeKernel: KernelFunc): KernelFunc {
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
}

export const batchMatMulKernels: EngineKernel[] = ['wasm', 'cpu'].map((backendName) => ({
  kernelName: BatchMatMul,
  backendName,
  make(stock: KernelConfig | undefined, lookup: (name: string) => KernelConfig | undefined): KernelFunc {
    const plain = stock?.kernelFunc;
    if (!plain) throw new Error(`${backendName} BatchMatMul kernel missing`);
    let own = plain;
    if (backendName === 'wasm') {
      const transposeKernel = lookup('Transpose')?.kernelFunc;
      if (!transposeKernel) throw new Error('wasm Transpose kernel missing');
      own = wasmTransposeFirst(plain, transposeKernel);
    }
    const { blas } = nativeBlas();
    return blas ? blasMatMul(blas, own) : own;
  },
}));
