// Persistent workers woken by a generation counter; tasks are handed out by an atomic counter so
// uneven tasks balance. Workers sleep on a condition variable rather than spin: the machine has
// two cores and OpenBLAS's own threads (when enabled) need them between our kernels.
#include "pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define MAX_THREADS 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int threads = 0;  // 0: not yet read from the environment
static int spawned = 0;  // workers 1..spawned exist
static unsigned long generation = 0;
static int active = 0;   // workers still on the current generation
static int busy = 0;     // a pool_for is running (another caller thread then runs inline)
static pool_task cur_fn;
static void *cur_ctx;
static int cur_tasks;
static atomic_int next_task;
static unsigned long born[MAX_THREADS]; // the generation current when each worker was created

static void run_tasks(int worker) {
  for (;;) {
    int t = atomic_fetch_add(&next_task, 1);
    if (t >= cur_tasks) return;
    cur_fn(cur_ctx, t, worker);
  }
}

static void *worker_main(void *arg) {
  int id = (int)(intptr_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&mu);
  seen = born[id]; // not `generation`: the job that created this worker may already be posted
  for (;;) {
    while (generation == seen) pthread_cond_wait(&start_cv, &mu);
    seen = generation;
    if (id >= threads) continue;  // the pool shrank: sit this one out
    pthread_mutex_unlock(&mu);
    run_tasks(id);
    pthread_mutex_lock(&mu);
    if (--active == 0) pthread_cond_signal(&done_cv);
  }
  return NULL;
}

// One thread unless OPENBLAS_NUM_THREADS says otherwise, as for the products (docs/engine.md).
static void init_threads(void) {
  if (threads) return;
  const char *env = getenv("OPENBLAS_NUM_THREADS");
  int n = env ? atoi(env) : 1;
  threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

void pool_set_threads(int n) {
  pthread_mutex_lock(&mu);
  threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
  pthread_mutex_unlock(&mu);
}

int pool_threads(void) {
  pthread_mutex_lock(&mu);
  init_threads();
  int n = threads;
  pthread_mutex_unlock(&mu);
  return n;
}

void pool_for(int tasks, pool_task fn, void *ctx) {
  pthread_mutex_lock(&mu);
  init_threads();
  while (spawned < threads - 1) {
    pthread_t th;
    born[spawned + 1] = generation;
    if (pthread_create(&th, NULL, worker_main, (void *)(intptr_t)(spawned + 1)) != 0) break;
    pthread_detach(th);
    spawned++;
  }
  // Workers 1..threads-1 that exist take part (ids stay below pool_threads(), for scratch).
  int helpers = threads - 1 < spawned ? threads - 1 : spawned;
  // Inline when alone, or when another thread (a second JS worker loading the addon) already
  // holds the pool: correct either way, and the pool is never shared mid-job.
  if (helpers == 0 || tasks <= 1 || busy) {
    pthread_mutex_unlock(&mu);
    for (int t = 0; t < tasks; t++) fn(ctx, t, 0);
    return;
  }
  cur_fn = fn;
  cur_ctx = ctx;
  cur_tasks = tasks;
  atomic_store(&next_task, 0);
  active = helpers;
  busy = 1;
  generation++;
  pthread_cond_broadcast(&start_cv);
  pthread_mutex_unlock(&mu);
  run_tasks(0);
  pthread_mutex_lock(&mu);
  while (active > 0) pthread_cond_wait(&done_cv, &mu);
  busy = 0;
  pthread_mutex_unlock(&mu);
}
