// GatherV2 for wasm. The stock kernel copies the whole index tensor out of the heap and
// validates it in a separate pass before gathering; embedding lookups and the "pick the
// winning interest" gather (millions of indices) paid for that on every step. This validates
// while it copies, reading the heap in place; rows of a float32 table (the embedding lookups)
// are copied on the native addon's threads where it is built.
import { GatherV2, backend_util, util } from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeTrain } from '../blas.ts';
import { typedKernel } from './io.ts';
import type { EngineKernel } from './types.ts';

const gather: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
  const a = attrs as NamedAttrMap;
  const axis = util.parseAxisParam(a.axis as number, x.shape)[0];
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, axis, (a.batchDims as number) ?? 0);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const perBatch = indices.shape.reduce((p, q) => p * q, 1) / batchSize;
  const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
  const native = nativeTrain();
  return typedKernel(backend, [x, indices], info.outputShape, dtype, (out, [xv, iv]) => {
    // Rows of a float32 table (the embedding lookups): one copy per row on the addon's threads.
    if (native?.gatherRows && batchSize === 1 && outerSize === 1 && xv instanceof Float32Array && iv instanceof Int32Array) {
      const bad = native.gatherRows(dimSize, sliceSize, perBatch, xv, iv, out as Float32Array);
      if (bad >= 0) throw new Error(`GatherV2: the index value ${iv[bad]} is not in [0, ${dimSize - 1}]`);
      return;
    }
    let o = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let outer = 0; outer < outerSize; outer++) {
        const base = (b * outerSize + outer) * dimSize;
        for (let k = 0; k < perBatch; k++) {
          const index = iv[b * perBatch + k];
          if (!(index >= 0 && index < dimSize)) throw new Error(`GatherV2: the index value ${index} is not in [0, ${dimSize - 1}]`);
          const from = (base + index) * sliceSize;
          if (sliceSize === 1) out[o] = xv[from];
          else out.set(xv.subarray(from, from + sliceSize), o);
          o += sliceSize;
        }
      }
    }
  }, false); // every element is written
};

export const gatherKernel: EngineKernel = { kernelName: GatherV2, backendName: 'wasm', make: () => gather };
