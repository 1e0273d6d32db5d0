// Exact multi-interest top-K retrieval, fused (docs/protocol.md, Retrieval). The TF.js path
// materialises [users, m, items] scores and spends most of its time on the max and argmax over
// the interest axis and on tf.topk. Here each thread takes blocks of users, scores one tile of
// items at a time into a cache-sized buffer with the same sgemm the BatchMatMul kernel uses
// (so every score is bit-identical), keeps the running max over interests, and offers an item
// to the user's top-K candidates only when it beats the current k-th best. The winning interest and
// the NaN check are computed for those few candidates only.
//
// Ranking rules, identical to the TF.js path (test/eval/retrieve-fused.test.ts): merged score =
// max over interests, where any NaN makes it NaN (the wasm Max kernel propagates NaN); item 0,
// the user's history items, NaN and -Infinity never qualify; order by score descending, then
// item id ascending (tf.topk's tie rule); the interest is the first one reaching the maximum
// (our ArgMax kernel's rule). Unfilled slots: item 0, score -Infinity, interest -1.
#include "napi_util.h"
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Score rows per sgemm (users x interests) and items per tile: a 512 x 512 float tile is 1 MiB,
// inside the per-core L2, and each sgemm is large enough to run at full speed.
#ifndef TILE_ROWS
#define TILE_ROWS 512
#endif
#ifndef TILE_ITEMS
#define TILE_ITEMS 512
#endif
#define MAX_THREADS 64

typedef struct {
  float score;
  int32_t item;
  int32_t interest;
} Entry;

typedef struct {
  const float *u;     // [users * m, d]
  const float *table; // [items, d]
  const int32_t *hist; // [users, maxlen]
  int64_t users, m, d, items, maxlen, k;
  int32_t *out_items;
  float *out_scores;
  int32_t *out_interest;
  bool products_only; // the bare sgemm of the same tiles, for benchmarks
  int64_t block_users;
  int64_t next_block; // shared work counter (atomic)
  int failed;
} Job;

// a ranks below b: lower score, or the same score and a larger item id.
static inline bool worse(const Entry *a, const Entry *b) {
  return a->score < b->score || (a->score == b->score && a->item > b->item);
}

static inline void swap(Entry *a, int64_t i, int64_t j) {
  const Entry t = a[i];
  a[i] = a[j];
  a[j] = t;
}

// Reorders a[0..n) so that a[kth] is the entry a best-first sort would put there, with better
// ones before it and worse ones after (quickselect). Entries of one user never tie: item ids
// differ, so `worse` is a strict total order.
static void select_kth(Entry *a, int64_t n, int64_t kth) {
  int64_t lo = 0, hi = n - 1;
  while (hi > lo) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (worse(&a[lo], &a[mid])) swap(a, lo, mid);
    if (worse(&a[lo], &a[hi])) swap(a, lo, hi);
    if (worse(&a[mid], &a[hi])) swap(a, mid, hi);
    const Entry p = a[mid];
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (worse(&p, &a[i])) i++;
      while (worse(&a[j], &p)) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else return;
  }
}

static int best_first(const void *pa, const void *pb) {
  const Entry *a = pa, *b = pb;
  if (worse(a, b)) return 1;
  if (worse(b, a)) return -1;
  return 0;
}

static int cmp_int(const void *pa, const void *pb) {
  int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
  return (a > b) - (a < b);
}

// best[j] = max over the m rows of column j, NaN in later rows ignored (they are caught when a
// candidate is checked); NaN in row 0 stays, and never passes a threshold test.
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static void column_max(const float *tile, int64_t ld, int64_t m, int64_t width, float *best) {
  memcpy(best, tile, (size_t)width * sizeof(float));
  for (int64_t i = 1; i < m; i++) {
    const float *row = tile + i * ld;
    for (int64_t j = 0; j < width; j++) best[j] = row[j] > best[j] ? row[j] : best[j];
  }
}

// Whether any of best[0..width) beats thr: most chunks of a tile hold no candidate.
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
static bool any_above(const float *best, int64_t width, float thr) {
  int any = 0;
  for (int64_t j = 0; j < width; j++) any |= best[j] > thr;
  return any != 0;
}

#define CHUNK 64

// Candidates per user before a selection cuts them back to the best k: 3k amortises each
// selection over 2k candidates, while the threshold lags the exact k-th best only a little.
#define SLACK 3

// Each item enters a user's buffer at most once, so it never needs more than `items` entries.
static inline int64_t job_cap(const Job *job) {
  return SLACK * job->k < job->items ? SLACK * job->k : (job->items > 0 ? job->items : 1);
}

static void run_block(Job *job, int64_t u0, int64_t nu, float *tile, float *best, Entry *bufs, int64_t *sizes, float *thrs, int32_t *hist, int64_t *hpos) {
  const int64_t m = job->m, d = job->d, k = job->k, maxlen = job->maxlen, rows = nu * m, cap = job_cap(job);
  for (int64_t r = 0; r < nu; r++) {
    sizes[r] = 0;
    thrs[r] = -INFINITY;
    hpos[r] = 0;
    memcpy(hist + r * maxlen, job->hist + (u0 + r) * maxlen, (size_t)maxlen * sizeof(int32_t));
    qsort(hist + r * maxlen, (size_t)maxlen, sizeof(int32_t), cmp_int);
  }
  for (int64_t t0 = 0; t0 < job->items; t0 += TILE_ITEMS) {
    const int64_t width = job->items - t0 < TILE_ITEMS ? job->items - t0 : TILE_ITEMS;
    // The BatchMatMul kernel's call for U · tableᵀ, restricted to these rows and items.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)width, (int)d, 1.0f,
                job->u + u0 * m * d, (int)d, job->table + t0 * d, (int)d, 0.0f, tile, (int)width);
    if (job->products_only) continue;
    for (int64_t r = 0; r < nu; r++) {
      const float *ut = tile + r * m * width;
      Entry *buf = bufs + r * cap;
      const int32_t *h = hist + r * maxlen;
      column_max(ut, width, m, width, best);
      // Padding and history items never qualify: masked here, not tested per candidate.
      if (t0 == 0) best[0] = -INFINITY;
      while (hpos[r] < maxlen && h[hpos[r]] < t0 + width) {
        if (h[hpos[r]] >= t0) best[h[hpos[r]] - t0] = -INFINITY;
        hpos[r]++;
      }
      // An item equal to the k-th best has a larger id, so it ranks below: strict >.
      for (int64_t c0 = 0; c0 < width; c0 += CHUNK) {
        const int64_t c1 = c0 + CHUNK < width ? c0 + CHUNK : width;
        if (!any_above(best + c0, c1 - c0, thrs[r])) continue;
        for (int64_t j = c0; j < c1; j++) {
          if (!(best[j] > thrs[r])) continue;
          // The winning interest, and NaN in rows after the first (NaN wins any max).
          float b = ut[j];
          int32_t which = 0;
          bool nan = isnan(b);
          for (int64_t i = 1; i < m; i++) {
            const float v = ut[i * width + j];
            nan |= isnan(v);
            if (v > b) {
              b = v;
              which = (int32_t)i;
            }
          }
          if (nan) continue;
          buf[sizes[r]++] = (Entry){b, (int32_t)(t0 + j), which};
          if (sizes[r] == cap && cap > k) {
            select_kth(buf, cap, k - 1);
            sizes[r] = k;
            thrs[r] = buf[k - 1].score;
          }
        }
      }
    }
  }
  if (job->products_only) return;
  for (int64_t r = 0; r < nu; r++) {
    Entry *buf = bufs + r * cap;
    int64_t n = sizes[r];
    if (n > k) select_kth(buf, n, k - 1), n = k;
    qsort(buf, (size_t)n, sizeof(Entry), best_first);
    const int64_t at = (u0 + r) * k;
    for (int64_t j = 0; j < k; j++) {
      const bool filled = j < n;
      job->out_items[at + j] = filled ? buf[j].item : 0;
      job->out_scores[at + j] = filled ? buf[j].score : -INFINITY;
      job->out_interest[at + j] = filled ? buf[j].interest : -1;
    }
  }
}

static void *worker(void *arg) {
  Job *job = arg;
  const int64_t bu = job->block_users;
  float *tile = malloc((size_t)(bu * job->m * TILE_ITEMS) * sizeof(float));
  float *best = malloc(TILE_ITEMS * sizeof(float));
  Entry *bufs = job->products_only ? NULL : malloc((size_t)(bu * job_cap(job)) * sizeof(Entry));
  int64_t *sizes = malloc((size_t)(2 * bu) * sizeof(int64_t)); // and each user's history cursor
  float *thrs = malloc((size_t)bu * sizeof(float));
  int32_t *hist = malloc((size_t)(bu * (job->maxlen > 0 ? job->maxlen : 1)) * sizeof(int32_t));
  if (!tile || !best || (!bufs && !job->products_only) || !sizes || !thrs || !hist) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_SEQ_CST);
  } else {
    for (;;) {
      const int64_t u0 = __atomic_fetch_add(&job->next_block, bu, __ATOMIC_SEQ_CST);
      if (u0 >= job->users) break;
      run_block(job, u0, job->users - u0 < bu ? job->users - u0 : bu, tile, best, bufs, sizes, thrs, hist, sizes + bu);
    }
  }
  free(tile);
  free(best);
  free(bufs);
  free(thrs);
  free(sizes);
  free(hist);
  return NULL;
}

// A job's threads, started by run_start and waited for by run_join; the caller may do other
// work in between (retrieveTopKStart).
typedef struct {
  Job job;
  pthread_t ids[MAX_THREADS];
  int started;
  int blas_threads;
  bool joined;
  napi_ref refs[6]; // the typed arrays the threads read and write, kept alive until joined
  int nrefs;
} Running;

static int clamp_threads(Job *job, int threads) {
  job->block_users = TILE_ROWS / job->m > 0 ? TILE_ROWS / job->m : 1;
  const int64_t blocks = (job->users + job->block_users - 1) / job->block_users;
  if (threads > blocks) threads = (int)(blocks > 0 ? blocks : 1);
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  return threads < 1 ? 1 : threads;
}

// Starts `threads` workers; with `in_caller`, the caller is one of them and returns when done.
static void run_start(Running *r, int threads, bool in_caller) {
  threads = clamp_threads(&r->job, threads);
  // Each of our threads runs its own single-threaded sgemm.
  r->blas_threads = openblas_get_num_threads();
  if (r->blas_threads != 1) openblas_set_num_threads(1);
  r->started = 0;
  for (int t = in_caller ? 1 : 0; t < threads; t++) {
    if (pthread_create(&r->ids[r->started], NULL, worker, &r->job) == 0) r->started++;
  }
  // No thread could start: the caller does the work.
  if (in_caller || r->started == 0) worker(&r->job);
}

static void run_join(Running *r) {
  for (int t = 0; t < r->started; t++) pthread_join(r->ids[t], NULL);
  r->started = 0;
  if (r->blas_threads != 1) openblas_set_num_threads(r->blas_threads);
  r->joined = true;
}

static bool typed_view(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return false;
  return type == want;
}

// Reads the 13 arguments of retrieveTopK / retrieveTopKStart into r->job; false after throwing.
static bool read_job(napi_env env, napi_callback_info info, const char *name, Running *r, int32_t *threads, napi_value *arrays) {
  size_t argc = 13;
  napi_value argv[13];
  char msg[200];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 13) {
    snprintf(msg, sizeof msg, "cmi_blas.%s: expected 13 arguments", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  int64_t users, m, d, items, maxlen, k;
  napi_valuetype out_type;
  if (napi_get_value_int64(env, argv[1], &users) != napi_ok || napi_get_value_int64(env, argv[2], &m) != napi_ok ||
      napi_get_value_int64(env, argv[3], &d) != napi_ok || napi_get_value_int64(env, argv[5], &items) != napi_ok ||
      napi_get_value_int64(env, argv[7], &maxlen) != napi_ok || napi_get_value_int64(env, argv[8], &k) != napi_ok ||
      napi_get_value_int32(env, argv[9], threads) != napi_ok || napi_typeof(env, argv[10], &out_type) != napi_ok) {
    snprintf(msg, sizeof msg, "cmi_blas.%s: sizes must be numbers", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  void *u, *table, *hist, *oi = NULL, *os = NULL, *ow = NULL;
  size_t lu, lt, lh, loi = 0, los = 0, low = 0;
  const bool products_only = out_type == napi_null;
  if (!typed_view(env, argv[0], napi_float32_array, &u, &lu) || !typed_view(env, argv[4], napi_float32_array, &table, &lt) ||
      !typed_view(env, argv[6], napi_int32_array, &hist, &lh) ||
      (!products_only && (!typed_view(env, argv[10], napi_int32_array, &oi, &loi) ||
                          !typed_view(env, argv[11], napi_float32_array, &os, &los) ||
                          !typed_view(env, argv[12], napi_int32_array, &ow, &low)))) {
    snprintf(msg, sizeof msg, "cmi_blas.%s: u, table, outScores must be Float32Arrays; histories, outItems, outInterest Int32Arrays", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  if (users < 0 || m < 1 || d < 1 || items < 0 || maxlen < 0 || k < 1 || *threads < 1 || items > INT32_MAX ||
      (size_t)(users * m * d) > lu || (size_t)(items * d) > lt || (size_t)(users * maxlen) > lh ||
      (!products_only && ((size_t)(users * k) > loi || (size_t)(users * k) > los || (size_t)(users * k) > low))) {
    snprintf(msg, sizeof msg, "cmi_blas.%s: shapes do not fit the arrays", name);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  const Job job = {u, table, hist, users, m, d, items, maxlen, k, oi, os, ow, products_only, 0, 0, 0};
  r->job = job;
  const int which[6] = {0, 4, 6, 10, 11, 12};
  for (int i = 0; i < (products_only ? 3 : 6); i++) arrays[i] = argv[which[i]];
  r->nrefs = products_only ? 3 : 6;
  return true;
}

// retrieveTopK(u, users, m, d, table, items, histories, maxlen, k, threads, outItems,
// outScores, outInterest): fills the outputs before returning. With outItems null: only the
// tiles' products (a benchmark's bare-sgemm baseline for the same work), no output.
static napi_value retrieve_top_k(napi_env env, napi_callback_info info) {
  Running r = {0};
  int32_t threads;
  napi_value arrays[6];
  if (!read_job(env, info, "retrieveTopK", &r, &threads, arrays)) return NULL;
  if (r.job.users > 0) {
    run_start(&r, threads, true);
    run_join(&r);
  }
  if (r.job.failed) napi_throw_error(env, NULL, "cmi_blas.retrieveTopK: out of memory");
  return NULL;
}

static void release(napi_env env, Running *r) {
  for (int i = 0; i < r->nrefs; i++) napi_delete_reference(env, r->refs[i]);
  r->nrefs = 0;
}

// A handle collected without retrieveTopKJoin: its threads still hold the arrays' memory.
static void finalize_running(napi_env env, void *data, void *hint) {
  (void)hint;
  Running *r = data;
  if (!r->joined) run_join(r);
  release(env, r);
  free(r);
}

// retrieveTopKStart(same arguments): starts the work on `threads` threads of its own and
// returns a handle at once; retrieveTopKJoin(handle) waits for it. The arrays must not be
// touched in between (the threads write the outputs).
static napi_value retrieve_top_k_start(napi_env env, napi_callback_info info) {
  Running *r = calloc(1, sizeof(Running));
  if (!r) {
    napi_throw_error(env, NULL, "cmi_blas.retrieveTopKStart: out of memory");
    return NULL;
  }
  int32_t threads;
  napi_value arrays[6], handle;
  if (!read_job(env, info, "retrieveTopKStart", r, &threads, arrays)) {
    free(r);
    return NULL;
  }
  for (int i = 0; i < r->nrefs; i++) {
    if (napi_create_reference(env, arrays[i], 1, &r->refs[i]) != napi_ok) {
      r->nrefs = i;
      release(env, r);
      free(r);
      napi_throw_error(env, NULL, "cmi_blas.retrieveTopKStart: N-API call failed");
      return NULL;
    }
  }
  if (r->job.users > 0) run_start(r, threads, false);
  else r->joined = true;
  if (napi_create_external(env, r, finalize_running, NULL, &handle) != napi_ok) {
    if (!r->joined) run_join(r);
    release(env, r);
    free(r);
    napi_throw_error(env, NULL, "cmi_blas.retrieveTopKStart: N-API call failed");
    return NULL;
  }
  return handle;
}

static napi_value retrieve_top_k_join(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_typeof(env, argv[0], &type) != napi_ok ||
      type != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "cmi_blas.retrieveTopKJoin: expected a handle from retrieveTopKStart");
    return NULL;
  }
  Running *r = data;
  if (!r->joined) run_join(r);
  release(env, r);
  if (r->job.failed) napi_throw_error(env, NULL, "cmi_blas.retrieveTopK: out of memory");
  r->job.failed = 0;
  return NULL;
}

// Called from blas.c's init: adds the retrieval functions to the addon's exports.
napi_status register_retrieve(napi_env env, napi_value exports) {
  const cmi_export fns[] = {{"retrieveTopK", retrieve_top_k}, {"retrieveTopKStart", retrieve_top_k_start}, {"retrieveTopKJoin", retrieve_top_k_join}};
  return cmi_register(env, exports, fns, sizeof fns / sizeof fns[0]);
}
