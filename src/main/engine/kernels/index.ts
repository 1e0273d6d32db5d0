// The kernels we add to (wasm) or replace in (cpu) TF.js's pure backends. Native TensorFlow
// backends (tfjs-node, tfjs-node-gpu) have fast versions of all of them and are left alone.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { unsortedSegmentSumKernels } from './unsortedSegmentSum.ts';

export const engineKernels: KernelConfig[] = [...unsortedSegmentSumKernels];

/** Registers our kernels for `backendName`, replacing the stock ones; safe to call repeatedly. */
export function registerEngineKernels(backendName: string): string[] {
  const done: string[] = [];
  for (const config of engineKernels) {
    if (config.backendName !== backendName) continue;
    const existing = tf.getKernel(config.kernelName, backendName);
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing) tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel(config);
    done.push(config.kernelName);
  }
  return done;
}
