// The optional native OpenBLAS addon (native/blas), built by `npm install` where the system has
// OpenBLAS (Debian: libopenblas-dev). When it loads, the BatchMatMul kernel of the pure
// backends hands matrix products to it; when it does not, they keep their own matMul.
// CMI_STUDIO_BLAS=0 leaves it unloaded, to compare or to rule it out. It uses one thread unless
// OPENBLAS_NUM_THREADS says otherwise: a run then takes one core, as the wasm backend does, and
// a run's many small per-time-step products lose more to thread hand-offs than the few large
// ones gain (docs/engine.md).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeBlas {
  /** For each of `batch` products: c[i] (m×n, row-major) = op(a[i]) · op(b[i]), op(a) m×k and
   *  op(b) k×n, op = transpose where asked. A stride of 0 broadcasts that operand. */
  sgemm(
    transA: boolean,
    transB: boolean,
    batch: number,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    strideA: number,
    b: Float32Array,
    strideB: number,
    c: Float32Array,
  ): void;
  /** OpenBLAS's build, core and thread count, in words. */
  info(): string;
  /** Threads OpenBLAS may use from now on. */
  setThreads(n: number): void;
}

const ADDON = join('native', 'blas', 'build', 'Release', 'cmi_blas.node');

/** The package root: the nearest folder above this file whose package.json is ours (the same
 *  walk works from src/ under tsx and from out/ after electron-vite's build). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cmi-studio') return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** "OpenBLAS 0.3.21 (Cooperlake, 2 threads)" from the library's own long description. */
function describe(info: string): string {
  const version = /OpenBLAS [\d.]+/.exec(info)?.[0] ?? 'OpenBLAS';
  const core = /core (\S+);/.exec(info)?.[1];
  const threads = /(\d+ threads?)/.exec(info)?.[1];
  return `${version} (${[core, threads].filter(Boolean).join(', ')})`;
}

let loaded: { blas: NativeBlas | null; why: string } | null = null;

/** The addon, or null with the reason it is not used. Loaded once per process. */
export function nativeBlas(): { blas: NativeBlas | null; why: string } {
  if (loaded) return loaded;
  if (process.env.CMI_STUDIO_BLAS === '0') return (loaded = { blas: null, why: 'disabled by CMI_STUDIO_BLAS=0' });
  const root = packageRoot();
  const file = root ? join(root, ADDON) : null;
  if (!file || !existsSync(file)) {
    return (loaded = { blas: null, why: 'native/blas not built (install libopenblas-dev, then npm run build:native)' });
  }
  try {
    const blas = createRequire(import.meta.url)(file) as NativeBlas;
    if (!process.env.OPENBLAS_NUM_THREADS) blas.setThreads(1);
    return (loaded = { blas, why: describe(blas.info()) });
  } catch (e) {
    return (loaded = { blas: null, why: `native/blas failed to load: ${(e as Error).message.split('\n')[0]}` });
  }
}
