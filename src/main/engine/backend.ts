// Picks the TF.js backend a run trains on: native TensorFlow (GPU, then CPU) when its optional
// package loads, otherwise the fastest pure backend (wasm with SIMD; plain-JS cpu as the last
// resort), and registers the kernels those pure backends lack or do slowly.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { registerEngineKernels } from './kernels/index.ts';
import { nativeBlas } from './blas.ts';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** TF.js backend name now active ('tensorflow', 'wasm', 'cpu'). */
  backend: string;
  /** What it runs on, in words. */
  device: string;
  /** Backends tried before this one and why each was skipped. */
  fallbacks: string[];
}

const CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
/** Pure backends in speed order: measured in docs/engine.md (wasm SIMD is several times cpu). */
const AUTO_ORDER: readonly Exclude<BackendChoice, 'auto'>[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

let current: { choice: BackendChoice; info: BackendInfo } | null = null;
let nativeLoaded: 'tensorflow-gpu' | 'tensorflow' | null = null;
let wasmPathsSet = false;

function message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  if (/Cannot find (package|module)|ERR_MODULE_NOT_FOUND/.test(text)) return 'package not installed';
  return text.split('\n')[0];
}

/** The GPU's name from nvidia-smi, or a generic label when it cannot be asked. */
function gpuName(): Promise<string> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 5000 }, (err, stdout) => {
      const name = err ? '' : stdout.split('\n')[0].trim();
      resolve(name ? `GPU (${name}, CUDA)` : 'GPU (CUDA)');
    });
  });
}

/** Loads a native TensorFlow binding (registers the 'tensorflow' backend) and activates it. */
async function tryNative(kind: 'tensorflow-gpu' | 'tensorflow'): Promise<string> {
  // Both packages register a backend named 'tensorflow'; only one can be loaded per process.
  if (nativeLoaded && nativeLoaded !== kind) throw new Error(`${nativeLoaded} already loaded in this process`);
  if (!nativeLoaded) {
    const pkg = kind === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    await import(pkg); // a variable specifier: optional dependency, may be absent
    nativeLoaded = kind;
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error('backend failed to initialise');
  return kind === 'tensorflow-gpu' ? gpuName() : `CPU (TensorFlow native, ${cpus().length} threads)`;
}

async function tryWasm(): Promise<string> {
  if (!wasmPathsSet) {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    setWasmPaths(join(dir, 'dist') + '/');
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('backend failed to initialise');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = getThreadsCount();
  return `CPU (wasm${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('backend failed to initialise');
  return 'CPU (plain JavaScript)';
}

function attempt(kind: Exclude<BackendChoice, 'auto'>): Promise<string> {
  if (kind === 'tensorflow-gpu' || kind === 'tensorflow') return tryNative(kind);
  return kind === 'wasm' ? tryWasm() : tryCpu();
}

/** The choice after the CMI_STUDIO_BACKEND override, validated. */
function resolveChoice(prefer: BackendChoice): BackendChoice {
  const forced = process.env.CMI_STUDIO_BACKEND?.trim();
  if (!forced) return prefer;
  if (!(CHOICES as readonly string[]).includes(forced)) {
    throw new Error(`CMI_STUDIO_BACKEND='${forced}' is not one of ${CHOICES.join(', ')}`);
  }
  return forced as BackendChoice;
}

/**
 * Activates a backend and returns what runs. 'auto' walks native GPU, native CPU, wasm, cpu and
 * takes the first that initialises; a named backend is required to work (it throws otherwise).
 * The environment variable CMI_STUDIO_BACKEND overrides `prefer`; CMI_STUDIO_STOCK_KERNELS=1
 * keeps TF.js's own kernels wherever it has one (to compare speed, or to rule ours out when
 * chasing a numerical problem). Calling again with the same choice returns the same answer
 * without re-initialising.
 */
export async function initBackend(prefer: BackendChoice = 'auto'): Promise<BackendInfo> {
  const choice = resolveChoice(prefer);
  // TF.js's console advice ("install tfjs-node ...") would land in every CLI's output; the
  // choice and its fallbacks are reported in BackendInfo instead.
  tf.env().set('PROD', true);
  if (current && current.choice === choice && tf.getBackend() === current.info.backend) return current.info;
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  const fallbacks: string[] = [];
  for (const kind of order) {
    try {
      let device = await attempt(kind);
      const backend = tf.getBackend();
      const stock = process.env.CMI_STUDIO_STOCK_KERNELS === '1';
      registerEngineKernels(backend, stock);
      // The pure backends' BatchMatMul hands products to OpenBLAS when its addon is built.
      const { blas, why } = nativeBlas();
      if ((kind === 'wasm' || kind === 'cpu') && blas && !stock) device = `${device}, matmul on ${why}`;
      current = { choice, info: { backend, device, fallbacks } };
      return current.info;
    } catch (e) {
      fallbacks.push(`${kind}: ${message(e)}`);
    }
  }
  throw new Error(`no TF.js backend could be initialised (${fallbacks.join('; ')})`);
}
