// A persistent pthread pool with one primitive, pool_for, for the training kernels (train.c).
// Tasks never dispatch; a second caller thread while the pool is busy runs its tasks inline.
#ifndef CMI_POOL_H
#define CMI_POOL_H

/** One task: `task` in [0, tasks), `worker` in [0, pool_threads()) (0 is the caller). */
typedef void (*pool_task)(void *ctx, int task, int worker);

/** Threads used from now on (the caller included); 1 runs everything on the caller. */
void pool_set_threads(int n);
int pool_threads(void);
/** Runs fn(ctx, t, worker) for every t < tasks across the threads and waits for all. */
void pool_for(int tasks, pool_task fn, void *ctx);

#endif
