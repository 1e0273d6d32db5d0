// UnsortedSegmentSum, the gradient of gather (embedding lookups). The wasm backend has no such
// kernel, and the cpu backend's builds one mask and sum per segment (O(segments x rows)), which
// for a 100k-item table takes tens of seconds per step. This is one pass over the rows, in the
// native addon where it is built (float32: vectorised C, ~5x the JS loop).
import { UnsortedSegmentSum } from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeTrain } from '../blas.ts';
import { typedKernel } from './io.ts';
import type { EngineKernel } from './types.ts';

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as NamedAttrMap).numSegments as number;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
  const native = dtype === 'float32' ? nativeTrain() : null;
  return typedKernel(backend, [x, segmentIds], [numSegments, ...innerShape], dtype, (out, [xv, ids]) => {
    if (native && typeof native.segmentSum === 'function' && xv instanceof Float32Array && ids instanceof Int32Array) {
      return native.segmentSum(rows, inner, numSegments, xv, ids, out as Float32Array);
    }
    for (let r = 0; r < rows; r++) {
      const s = ids[r];
      // As TensorFlow: ids outside [0, numSegments) are dropped.
      if (s < 0 || s >= numSegments) continue;
      const o = s * inner;
      const i = r * inner;
      for (let k = 0; k < inner; k++) out[o + k] += xv[i + k];
    }
  });
};

export const unsortedSegmentSumKernels: EngineKernel[] = ['wasm', 'cpu'].map((backendName) => ({
  kernelName: UnsortedSegmentSum,
  backendName,
  required: backendName === 'wasm',
  make: () => unsortedSegmentSum,
}));
