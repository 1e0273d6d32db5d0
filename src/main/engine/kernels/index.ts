// The kernels we add to (wasm) or replace in (cpu, wasm) TF.js's pure backends. Native
// TensorFlow backends (tfjs-node, tfjs-node-gpu) have fast versions of all of them and are left
// alone. docs/engine.md says why each one is here and what it saves.
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '@tensorflow/tfjs';
import type { EngineKernel } from './types.ts';
import { unsortedSegmentSumKernels } from './unsortedSegmentSum.ts';
import { batchMatMulKernels } from './batchMatMul.ts';
import { sliceKernels } from './slice.ts';
import { identityKernel, transposeKernel } from './identity.ts';
import { argMaxKernels } from './argMax.ts';
import { gatherKernel } from './gather.ts';
import { fusedKernels } from './fused.ts';
import { tanhKernels } from './tanh.ts';
import { sumKernels } from './sum.ts';
import { fusedMatMulKernels } from './fusedMatMul.ts';
import { stepKernels } from './step.ts';
import { layerNormKernels } from './layerNorm.ts';

export const engineKernels: EngineKernel[] = [
  ...unsortedSegmentSumKernels,
  ...argMaxKernels,
  ...batchMatMulKernels,
  gatherKernel,
  ...sliceKernels,
  identityKernel,
  transposeKernel,
  ...fusedKernels,
  ...tanhKernels,
  ...sumKernels,
  ...fusedMatMulKernels,
  ...stepKernels,
  ...layerNormKernels,
];

/** Kernel functions we registered, so a repeated call recognises its own work. */
const ours = new WeakSet<KernelFunc>();

/** Registers our kernels for `backendName` in place of the stock ones; safe to call repeatedly.
 *  With `requiredOnly`, only those the backend lacks. Returns the names newly registered. */
export function registerEngineKernels(backendName: string, requiredOnly = false): string[] {
  const done: string[] = [];
  for (const k of engineKernels) {
    if (k.backendName !== backendName || (requiredOnly && !k.required) || (k.available && !k.available())) continue;
    const existing = tf.getKernel(k.kernelName, backendName);
    if (existing && ours.has(existing.kernelFunc)) continue;
    const kernelFunc = k.make(existing, (name) => tf.getKernel(name, backendName));
    ours.add(kernelFunc);
    if (existing) tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({ kernelName: k.kernelName, backendName, kernelFunc });
    done.push(k.kernelName);
  }
  return done;
}
