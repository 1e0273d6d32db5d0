import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';

/**
 * A kernel we register for one backend. `make` receives the backend's stock kernel of the same
 * name (when there is one: some of ours wrap it) and a lookup for other stock kernels.
 */
export interface EngineKernel {
  kernelName: string;
  backendName: string;
  /** The backend has no such kernel at all: models cannot train without ours. The others only
   *  replace slow stock kernels (CMI_STUDIO_STOCK_KERNELS=1 leaves those stock, to compare). */
  required?: boolean;
  /** Registered only where this holds (the fused kernels need the native addon's build). */
  available?: () => boolean;
  make(stock: KernelConfig | undefined, lookup: (name: string) => KernelConfig | undefined): KernelFunc;
}
