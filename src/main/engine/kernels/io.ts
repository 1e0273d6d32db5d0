// Typed-array access to kernel inputs and outputs on the two pure-JS-hosted backends, so each
// kernel file is written once as a loop over plain arrays. The wasm backend keeps tensors in
// the WebAssembly heap; the cpu backend keeps them in JS typed arrays.
import type { DataType, TensorInfo, TypedArray } from '@tensorflow/tfjs';

/** The part of tfjs-backend-wasm's BackendWasm a kernel needs. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}

/** The part of tfjs-backend-cpu's MathBackendCPU a kernel needs. */
interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: DataType, values: TypedArray): TensorInfo;
  readSync(dataId: object): unknown;
}

function isWasm(b: object): b is WasmBackendLike {
  return typeof (b as Partial<WasmBackendLike>).typedArrayFromHeap === 'function';
}

function isCpu(b: object): b is CpuBackendLike {
  return typeof (b as Partial<CpuBackendLike>).makeTensorInfo === 'function';
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Allocates an output (zero-filled unless `zero` is false, for bodies that write every element),
 * hands `body` the output and input arrays, and returns the output. On wasm the views are taken
 * after allocating, because growing the heap detaches earlier views; `body` must not run tensor
 * ops.
 */
export function typedKernel(
  backend: object,
  inputs: TensorInfo[],
  outShape: number[],
  outDtype: 'float32' | 'int32',
  body: (out: TypedArray, ins: TypedArray[]) => void,
  zero = true,
): TensorInfo {
  if (isWasm(backend)) {
    const out = backend.makeOutput(outShape, outDtype);
    const outView = backend.typedArrayFromHeap(out);
    if (zero) outView.fill(0);
    body(outView, inputs.map((t) => backend.typedArrayFromHeap(t)));
    return out;
  }
  if (isCpu(backend)) {
    const values = outDtype === 'int32' ? new Int32Array(sizeOf(outShape)) : new Float32Array(sizeOf(outShape));
    body(values, inputs.map((t) => backend.readSync(t.dataId) as TypedArray));
    return backend.makeTensorInfo(outShape, outDtype, values);
  }
  throw new Error('typedKernel: unsupported backend (expected wasm or cpu)');
}

/** typedKernel for kernels with several outputs (zero-filled unless `zero` is false), e.g. a
 *  value and its winners. */
export function typedKernelOutputs(
  backend: object,
  inputs: TensorInfo[],
  outputs: Array<{ shape: number[]; dtype: 'float32' | 'int32' }>,
  body: (outs: TypedArray[], ins: TypedArray[]) => void,
  zero = true,
): TensorInfo[] {
  if (isWasm(backend)) {
    const outs = outputs.map((o) => backend.makeOutput(o.shape, o.dtype));
    // Views only after every allocation: growing the heap detaches earlier ones.
    const views = outs.map((t) => backend.typedArrayFromHeap(t));
    if (zero) for (const v of views) v.fill(0);
    body(views, inputs.map((t) => backend.typedArrayFromHeap(t)));
    return outs;
  }
  if (isCpu(backend)) {
    const values = outputs.map((o) => (o.dtype === 'int32' ? new Int32Array(sizeOf(o.shape)) : new Float32Array(sizeOf(o.shape))));
    body(values, inputs.map((t) => backend.readSync(t.dataId) as TypedArray));
    return outputs.map((o, i) => backend.makeTensorInfo(o.shape, o.dtype, values[i]));
  }
  throw new Error('typedKernelOutputs: unsupported backend (expected wasm or cpu)');
}

/** The array behind a tensor a kernel just produced, to finish it in place (a bias, an
 *  activation) before handing it on: the wasm heap view, or the cpu backend's stored values. */
export function typedView(backend: object, t: TensorInfo): TypedArray {
  if (isWasm(backend)) return backend.typedArrayFromHeap(t);
  if (isCpu(backend)) return backend.readSync(t.dataId) as TypedArray;
  throw new Error('typedView: unsupported backend (expected wasm or cpu)');
}
