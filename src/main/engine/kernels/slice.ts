// Slice, SplitV and Unpack for wasm. The stock Slice reads its input with readSync, which on
// wasm copies the WHOLE tensor out of the heap for every slice: unstacking a [B, L, 3h] GRU
// projection into L steps copied it L times. These read the heap in place.
import { Slice, SplitV, Unpack, backend_util, slice_util, util } from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { typedKernel } from './io.ts';
import type { EngineKernel } from './types.ts';

/** Copies x[begin : begin + size] (any rank) into a new tensor, row by row of the last axis. */
export function sliceInPlace(backend: object, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
  return typedKernel(backend, [x], size, dtype, (out, [xv]) => {
    const rank = x.shape.length;
    const strides = util.computeStrides(x.shape);
    if (slice_util.isSliceContinous(x.shape, begin, size)) {
      const start = slice_util.computeFlatOffset(begin, strides);
      out.set(xv.subarray(start, start + out.length));
      return;
    }
    const inner = size[rank - 1];
    const rows = out.length / inner;
    const idx = new Array<number>(rank - 1).fill(0); // position among the outer axes
    for (let r = 0; r < rows; r++) {
      let offset = begin[rank - 1];
      for (let k = 0; k < rank - 1; k++) offset += (begin[k] + idx[k]) * strides[k];
      out.set(xv.subarray(offset, offset + inner), r * inner);
      for (let k = rank - 2; k >= 0; k--) {
        if (++idx[k] < size[k]) break;
        idx[k] = 0;
      }
    }
  });
}

const slice: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const a = attrs as NamedAttrMap;
  const [begin, size] = slice_util.parseSliceParams(x, a.begin as number[], a.size as number[]);
  return sliceInPlace(backend, x, begin, size);
};

const splitV: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const a = attrs as NamedAttrMap;
  const axis = util.parseAxisParam(a.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, a.numOrSizeSplits as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const part = sliceInPlace(backend, x, [...begin], size);
    begin[axis] += s;
    return part;
  });
};

const unpack: KernelFunc = ({ inputs, backend, attrs }) => {
  const { value } = inputs as { value: TensorInfo };
  let axis = (attrs as NamedAttrMap).axis as number;
  if (axis < 0) axis += value.shape.length;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = [...value.shape];
  size[axis] = 1;
  return Array.from({ length: value.shape[axis] }, (_, i) => {
    const begin = new Array<number>(value.shape.length).fill(0);
    begin[axis] = i;
    const part = sliceInPlace(backend, value, begin, size);
    return { ...part, shape: outShape };
  });
};

export const sliceKernels: EngineKernel[] = [
  { kernelName: Slice, backendName: 'wasm', make: () => slice },
  { kernelName: SplitV, backendName: 'wasm', make: () => splitV },
  { kernelName: Unpack, backendName: 'wasm', make: () => unpack },
];
