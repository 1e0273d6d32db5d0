// How many threads a training run's worker gets (OpenBLAS and the native addon's pool, through
// OPENBLAS_NUM_THREADS): the cores shared out among the runs training at once. A lone run on
// this 2-core machine gets both (a CMI step 1.23 s on one thread, ~1 s on two: docs/benchmarks.md,
// "Training"); the queue's two runs at once get one each, which finishes a pair sooner than one
// after the other on two threads ("Two runs at once"). Capped at 4: the step's products are
// small, and more threads than that were never measured to gain.
import { availableParallelism } from 'node:os';

const MAX_RUN_THREADS = 4;

export function threadsPerRun(concurrentRuns: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(MAX_RUN_THREADS, Math.floor(cores / Math.max(1, concurrentRuns))));
}

/** The worker's environment: OPENBLAS_NUM_THREADS from `threads`, unless the user set it. */
export function workerEnv(env: NodeJS.ProcessEnv, threads: number): NodeJS.ProcessEnv {
  return env.OPENBLAS_NUM_THREADS ? { ...env } : { ...env, OPENBLAS_NUM_THREADS: String(threads) };
}
