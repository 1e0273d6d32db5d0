// The optional native OpenBLAS addon (native/blas), built by `npm install` where the system has
// OpenBLAS (Debian: libopenblas-dev). When it loads, the BatchMatMul kernel of the pure
// backends hands matrix products to it; when it does not, they keep their own matMul.
// CMI_STUDIO_BLAS=0 leaves it unloaded, to compare or to rule it out. It uses one thread unless
// OPENBLAS_NUM_THREADS says otherwise: a run then takes one core, as the wasm backend does, and
// a run's many small per-time-step products lose more to thread hand-offs than the few large
// ones gain (docs/engine.md).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { platform } from 'node:os';
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
  /** Threads OpenBLAS and the training kernels may use from now on. */
  setThreads(n: number): void;
  /** Exact top-k of max over each user's m interests of u[user, i] · table[item] (retrieve.c):
   *  u [users·m, d], table [items, d], histories [users, maxlen] excluded, as are item 0, NaN and
   *  -Infinity; ties by item id. Fills [users, k] outputs (0 / -Infinity / -1 past the last
   *  qualifying item). `threads` threads, each with single-threaded sgemm. outItems null: only
   *  the same tiled products, nothing written (a benchmark's baseline). The three retrieval
   *  functions are absent from an addon built before them. */
  retrieveTopK?(...args: RetrieveTopKArgs): void;
  /** The same work on threads of its own: returns at once; the arrays must stay untouched
   *  until retrieveTopKJoin(job) has returned. */
  retrieveTopKStart?(...args: RetrieveTopKArgs): RetrievalJob;
  retrieveTopKJoin?(job: RetrievalJob): void;
}

/**
 * The fused training kernels of the same addon (native/blas/train.c), absent from builds that
 * predate them. Sizes first, then arrays (row-major); outputs must be zero-filled. Each checks
 * that the arrays hold what the sizes need and throws otherwise.
 */
export interface NativeTrainKernels {
  /** val[b,c] = max_l u[b,l]·items[c], idx[b,c] = the first such l. u [B,m,d], items [C,d]. */
  moiForward(B: number, m: number, d: number, C: number, u: Float32Array, items: Float32Array, val: Float32Array, idx: Int32Array): void;
  /** du [B,m,d] and ditems [C,d] from dy [B,C]: the winners-only scatter. */
  moiBackward(B: number, m: number, d: number, C: number, u: Float32Array, items: Float32Array, idx: Int32Array, dy: Float32Array, du: Float32Array, ditems: Float32Array): void;
  /** Row (and column, unless lseCols is null) log-sum-exps of x [N,d] · y [M,d]ᵀ, -1e9 on the
   *  diagonal when diag is 1; never an [N, M] array (online softmax over tiles). */
  lseForward(N: number, M: number, d: number, diag: number, x: Float32Array, y: Float32Array, lseRows: Float32Array, lseCols: Float32Array | null): void;
  /** dx [N,d], dy [M,d] from the gradients of those log-sum-exps, recomputing the tiles. */
  lseBackward(N: number, M: number, d: number, diag: number, x: Float32Array, y: Float32Array, lseRows: Float32Array, lseCols: Float32Array | null, dRows: Float32Array, dCols: Float32Array | null, dx: Float32Array, dy: Float32Array): void;
  /** The GRU recurrence over rows sorted by start column (k[t] rows started by step t, t0 the
   *  first step with any): states [L,B,H], gates [Σ_{t>=t0} k[t], 4H]. xp [L*B,3H], wh [H,3H]. */
  gruForward(L: number, B: number, H: number, t0: number, k: Int32Array, xp: Float32Array, wh: Float32Array, bh: Float32Array | null, mask: Float32Array, states: Float32Array, gates: Float32Array): void;
  /** Its backward pass: dy [L,B,H] (all = 1) or [B,H] -> dxp [L*B,3H], dwh [H,3H], dbh [3H]. */
  gruBackward(L: number, B: number, H: number, t0: number, all: number, k: Int32Array, dy: Float32Array, wh: Float32Array, mask: Float32Array, states: Float32Array, gates: Float32Array, dxp: Float32Array, dwh: Float32Array, dbh: Float32Array): void;
  /** y = tanh(x) elementwise (vectorised, on the pool's threads). */
  tanh(x: Float32Array, y: Float32Array): void;
  /** out [outer, inner] (zero-filled) = Σ over the middle axis of x [outer, R, inner]. */
  sumMiddle(outer: number, R: number, inner: number, x: Float32Array, out: Float32Array): void;
  /** y [rows, n] += bias [n] (unless null), then relu when relu is 1; in place. */
  biasAct(rows: number, n: number, relu: number, y: Float32Array, bias: Float32Array | null): void;
  /** out [segments, inner] (zero-filled) += rows of x [rows, inner] at ids; others dropped. */
  segmentSum(rows: number, inner: number, segments: number, x: Float32Array, ids: Int32Array, out: Float32Array): void;
  /** One Adam update (train/optimizer.ts's composition, bit for bit) of n parameters into
   *  outP, outM, outV; wd 0 adds no decay. Absent from builds before it. */
  adam?(n: number, b1: number, omb1: number, b2: number, omb2: number, sqrtBc2: number, eps: number, stepSize: number, wd: number, p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, outP: Float32Array, outM: Float32Array, outV: Float32Array): void;
  /** y [rows, d] = each row of x times rsqrt(max(its squared norm, eps2)). */
  normalizeRows?(rows: number, d: number, eps2: number, x: Float32Array, y: Float32Array): void;
  /** out [n, inner] = rows ids of x [rows, inner] on the pool; -1, or the position of the first
   *  id outside [0, rows) (nothing written then). */
  gatherRows?(rows: number, inner: number, n: number, x: Float32Array, ids: Int32Array, out: Float32Array): number;
  /** lse and dy null: out [R] = each row's log-sum-exp of x [R, C]; else out [R, C] = its
   *  gradient dy[r]·exp(x - lse[r]). On the pool. */
  lseRows?(R: number, C: number, x: Float32Array, lse: Float32Array | null, dy: Float32Array | null, out: Float32Array): void;
  /** Threads the training kernels run on. */
  poolThreads(): number;
}

/** The addon's training kernels, or null when the addon is not loaded or predates them. */
export function nativeTrain(): NativeTrainKernels | null {
  const { blas } = nativeBlas();
  const k = blas as (NativeBlas & Partial<NativeTrainKernels>) | null;
  return k && typeof k.moiForward === 'function' && typeof k.gruForward === 'function' ? (k as NativeBlas & NativeTrainKernels) : null;
}

/** The fused layer norm of the same addon (native/blas/norm.c), absent from older builds.
 *  Rows of D values, row-major; outputs need not be zero-filled. */
export interface NativeNormKernels {
  /** y = (x - mean) * rstd * gamma + beta per row, rstd = 1 / sqrt(var + eps); mean and rstd [R] kept. */
  layerNormForward(R: number, D: number, eps: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  /** dx [R, D], dgamma [D], dbeta [D] from dy [R, D] and the forward pass's mean and rstd. */
  layerNormBackward(R: number, D: number, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
}

/** The addon's layer-norm kernels, or null when the addon is not loaded or predates them. */
export function nativeNorm(): NativeNormKernels | null {
  const k = nativeBlas().blas as (NativeBlas & Partial<NativeNormKernels>) | null;
  return k && typeof k.layerNormForward === 'function' && typeof k.layerNormBackward === 'function' ? (k as NativeBlas & NativeNormKernels) : null;
}

/** out[i] = u_i < threshold ? 0 : scale for the next out.length draws u_i of the sfc32 stream
 *  whose state [a, b, c, d] is `state` (data/rng.ts), written back (native/blas/dropout.c); null
 *  when the addon is not loaded or predates it. */
export function nativeDropoutMask(): ((state: Uint32Array, threshold: number, scale: number, out: Float32Array) => void) | null {
  const k = nativeBlas().blas as (NativeBlas & { dropoutMask?: (state: Uint32Array, threshold: number, scale: number, out: Float32Array) => void }) | null;
  return k && typeof k.dropoutMask === 'function' ? k.dropoutMask.bind(k) : null;
}

export type RetrieveTopKArgs = [
  u: Float32Array,
  users: number,
  m: number,
  d: number,
  table: Float32Array,
  items: number,
  histories: Int32Array,
  maxlen: number,
  k: number,
  threads: number,
  outItems: Int32Array | null,
  outScores: Float32Array | null,
  outInterest: Int32Array | null,
];

/** An opaque handle to retrieval work in progress. */
export type RetrievalJob = { readonly __retrievalJob: unique symbol };

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

/**
 * The OpenBLAS kernel family for this x86 processor, when OPENBLAS_CORETYPE is unset. Debian's
 * OpenBLAS 0.3.21 does not recognise recent Xeons (Sapphire Rapids and later) and falls back to
 * its SSE3 "Prescott" kernels, 1.5x slower for a CMI step here; the processor's own flags name
 * the widest family it runs. null: leave OpenBLAS's detection alone.
 */
export function coreTypeFor(cpuFlags: ReadonlySet<string>): string | null {
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => cpuFlags.has(f))) return 'SkylakeX';
  if (cpuFlags.has('avx2') && cpuFlags.has('fma')) return 'Haswell';
  return null;
}

function cpuFlags(): Set<string> {
  if (platform() !== 'linux' || !existsSync('/proc/cpuinfo')) return new Set();
  const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  return new Set(line.trim().split(/\s+/));
}

/** A small product of every transpose case against a plain loop: a forced kernel family that
 *  computes wrong results (older OpenBLAS builds do on some processors) is never used. */
export function blasComputesCorrectly(blas: NativeBlas): boolean {
  const [m, n, k] = [7, 5, 9];
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(2 * i + 1));
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const c = new Float32Array(m * n);
      blas.sgemm(ta, tb, 1, m, n, k, a, 0, b, 0, c);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let want = 0;
          for (let p = 0; p < k; p++) want += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
          if (!(Math.abs(c[i * n + j] - want) <= 1e-4 * (1 + Math.abs(want)))) return false;
        }
      }
    }
  }
  return true;
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
    // OpenBLAS reads OPENBLAS_CORETYPE once, when the addon loads it.
    const forced = process.env.OPENBLAS_CORETYPE ? null : coreTypeFor(cpuFlags());
    if (forced) process.env.OPENBLAS_CORETYPE = forced;
    const blas = createRequire(import.meta.url)(file) as NativeBlas;
    if (!process.env.OPENBLAS_NUM_THREADS) blas.setThreads(1);
    if (!blasComputesCorrectly(blas)) {
      return (loaded = { blas: null, why: `native/blas: OpenBLAS ${process.env.OPENBLAS_CORETYPE ?? '(detected)'} kernels computed a wrong product; set OPENBLAS_CORETYPE to an older family` });
    }
    return (loaded = { blas, why: describe(blas.info()) });
  } catch (e) {
    return (loaded = { blas: null, why: `native/blas failed to load: ${(e as Error).message.split('\n')[0]}` });
  }
}
