// Exact multi-interest top-K retrieval, fused (docs/protocol.md, Retrieval). The TF.js path
// materialises [users, m, items] scores and spends most of its time on the max and argmax over
// the interest axis and on tf.topk. Here each thread takes blocks of users, scores one tile of
// items at a time into a cache-sized buffer with the same sgemm the BatchMatMul kernel uses
// (so every score is bit-identical), keeps the running max over interests, and offers an item
// to the user's top-K heap only when it beats the current k-th best. The winning interest and
// the NaN check are computed for those few candidates only.
//
// Ranking rules, identical to the TF.js path (test/eval/retrieve-fused.test.ts): merged score =
// max over interests, where any NaN makes it NaN (the wasm Max kernel propagates NaN); item 0,
// the user's history items, NaN and -Infinity never qualify; order by score descending, then
// item id ascending (tf.topk's tie rule); the interest is the first one reaching the maximum
// (our ArgMax kernel's rule). Unfilled slots: item 0, score -Infinity, interest -1.
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
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

// Min-heap on `worse`: heap[0] is the current k-th best.
static void sift_down(Entry *h, int64_t n, int64_t i) {
  for (;;) {
    int64_t l = 2 * i + 1, r = l + 1, w = i;
    if (l < n && worse(&h[l], &h[w])) w = l;
    if (r < n && worse(&h[r], &h[w])) w = r;
    if (w == i) return;
    Entry t = h[i];
    h[i] = h[w];
    h[w] = t;
    i = w;
  }
}

static void sift_up(Entry *h, int64_t i) {
  while (i > 0) {
    int64_t p = (i - 1) / 2;
    if (!worse(&h[i], &h[p])) return;
    Entry t = h[i];
    h[i] = h[p];
    h[p] = t;
    i = p;
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

static void run_block(Job *job, int64_t u0, int64_t nu, float *tile, float *best, Entry *heaps, int64_t *sizes, int32_t *hist, int64_t *hpos) {
  const int64_t m = job->m, d = job->d, k = job->k, maxlen = job->maxlen, rows = nu * m;
  for (int64_t r = 0; r < nu; r++) {
    sizes[r] = 0;
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
      Entry *heap = heaps + r * k;
      const int32_t *h = hist + r * maxlen;
      column_max(ut, width, m, width, best);
      // Padding and history items never qualify: masked here, not tested per candidate.
      if (t0 == 0) best[0] = -INFINITY;
      while (hpos[r] < maxlen && h[hpos[r]] < t0 + width) {
        if (h[hpos[r]] >= t0) best[h[hpos[r]] - t0] = -INFINITY;
        hpos[r]++;
      }
      float thr = sizes[r] == k ? heap[0].score : -INFINITY;
      for (int64_t c0 = 0; c0 < width; c0 += CHUNK) {
        const int64_t c1 = c0 + CHUNK < width ? c0 + CHUNK : width;
        if (!any_above(best + c0, c1 - c0, thr)) continue;
        for (int64_t j = c0; j < c1; j++) {
        if (!(best[j] > thr)) continue;
        const int32_t item = (int32_t)(t0 + j);
        float b = ut[j];
        int32_t which = 0;
        bool nan = isnan(b);
        for (int64_t i = 1; i < m; i++) {
          const float v = ut[i * width + j];
          if (isnan(v)) nan = true;
          if (v > b) {
            b = v;
            which = (int32_t)i;
          }
        }
        if (nan) continue;
        const Entry e = {b, item, which};
        if (sizes[r] < k) {
          heap[sizes[r]] = e;
          sift_up(heap, sizes[r]++);
        } else {
          heap[0] = e;
          sift_down(heap, k, 0);
        }
        if (sizes[r] == k) thr = heap[0].score;
        }
      }
    }
  }
  if (job->products_only) return;
  for (int64_t r = 0; r < nu; r++) {
    Entry *heap = heaps + r * k;
    qsort(heap, (size_t)sizes[r], sizeof(Entry), best_first);
    const int64_t at = (u0 + r) * k;
    for (int64_t j = 0; j < k; j++) {
      const bool filled = j < sizes[r];
      job->out_items[at + j] = filled ? heap[j].item : 0;
      job->out_scores[at + j] = filled ? heap[j].score : -INFINITY;
      job->out_interest[at + j] = filled ? heap[j].interest : -1;
    }
  }
}

static void *worker(void *arg) {
  Job *job = arg;
  const int64_t bu = job->block_users;
  float *tile = malloc((size_t)(bu * job->m * TILE_ITEMS) * sizeof(float));
  float *best = malloc(TILE_ITEMS * sizeof(float));
  Entry *heaps = job->products_only ? NULL : malloc((size_t)(bu * job->k) * sizeof(Entry));
  int64_t *sizes = malloc((size_t)(2 * bu) * sizeof(int64_t)); // and each user's history cursor
  int32_t *hist = malloc((size_t)(bu * (job->maxlen > 0 ? job->maxlen : 1)) * sizeof(int32_t));
  if (!tile || !best || (!heaps && !job->products_only) || !sizes || !hist) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_SEQ_CST);
  } else {
    for (;;) {
      const int64_t u0 = __atomic_fetch_add(&job->next_block, bu, __ATOMIC_SEQ_CST);
      if (u0 >= job->users) break;
      run_block(job, u0, job->users - u0 < bu ? job->users - u0 : bu, tile, best, heaps, sizes, hist, sizes + bu);
    }
  }
  free(tile);
  free(best);
  free(heaps);
  free(sizes);
  free(hist);
  return NULL;
}

static void run_job(Job *job, int threads) {
  job->block_users = TILE_ROWS / job->m > 0 ? TILE_ROWS / job->m : 1;
  const int64_t blocks = (job->users + job->block_users - 1) / job->block_users;
  if (threads > blocks) threads = (int)(blocks > 0 ? blocks : 1);
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads < 1) threads = 1;
  // Each of our threads runs its own single-threaded sgemm.
  const int blas_threads = openblas_get_num_threads();
  if (blas_threads != 1) openblas_set_num_threads(1);
  pthread_t ids[MAX_THREADS];
  int started = 0;
  for (int t = 1; t < threads; t++) {
    if (pthread_create(&ids[started], NULL, worker, job) == 0) started++;
  }
  worker(job);
  for (int t = 0; t < started; t++) pthread_join(ids[t], NULL);
  if (blas_threads != 1) openblas_set_num_threads(blas_threads);
}

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, NULL, "cmi_blas: N-API call failed");      \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

static bool typed_view(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return false;
  return type == want;
}

// retrieveTopK(u, users, m, d, table, items, histories, maxlen, k, threads, outItems,
// outScores, outInterest). With outItems null: only the tiles' products (a benchmark's
// bare-sgemm baseline for the same work), no output.
static napi_value retrieve_top_k(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 13) {
    napi_throw_type_error(env, NULL, "cmi_blas.retrieveTopK: expected 13 arguments");
    return NULL;
  }
  int64_t users, m, d, items, maxlen, k;
  int32_t threads;
  CHECK(napi_get_value_int64(env, argv[1], &users));
  CHECK(napi_get_value_int64(env, argv[2], &m));
  CHECK(napi_get_value_int64(env, argv[3], &d));
  CHECK(napi_get_value_int64(env, argv[5], &items));
  CHECK(napi_get_value_int64(env, argv[7], &maxlen));
  CHECK(napi_get_value_int64(env, argv[8], &k));
  CHECK(napi_get_value_int32(env, argv[9], &threads));
  void *u, *table, *hist, *oi = NULL, *os = NULL, *ow = NULL;
  size_t lu, lt, lh, loi = 0, los = 0, low = 0;
  napi_valuetype out_type;
  CHECK(napi_typeof(env, argv[10], &out_type));
  const bool products_only = out_type == napi_null;
  if (!typed_view(env, argv[0], napi_float32_array, &u, &lu) || !typed_view(env, argv[4], napi_float32_array, &table, &lt) ||
      !typed_view(env, argv[6], napi_int32_array, &hist, &lh) ||
      (!products_only && (!typed_view(env, argv[10], napi_int32_array, &oi, &loi) ||
                          !typed_view(env, argv[11], napi_float32_array, &os, &los) ||
                          !typed_view(env, argv[12], napi_int32_array, &ow, &low)))) {
    napi_throw_type_error(env, NULL, "cmi_blas.retrieveTopK: u, table, outScores must be Float32Arrays; histories, outItems, outInterest Int32Arrays");
    return NULL;
  }
  if (users < 0 || m < 1 || d < 1 || items < 0 || maxlen < 0 || k < 1 || threads < 1 || items > INT32_MAX ||
      (size_t)(users * m * d) > lu || (size_t)(items * d) > lt || (size_t)(users * maxlen) > lh ||
      (!products_only && ((size_t)(users * k) > loi || (size_t)(users * k) > los || (size_t)(users * k) > low))) {
    napi_throw_range_error(env, NULL, "cmi_blas.retrieveTopK: shapes do not fit the arrays");
    return NULL;
  }
  Job job = {u, table, hist, users, m, d, items, maxlen, k, oi, os, ow, products_only, 0, 0, 0};
  if (users > 0) run_job(&job, threads);
  if (job.failed) {
    napi_throw_error(env, NULL, "cmi_blas.retrieveTopK: out of memory");
    return NULL;
  }
  return NULL;
}

// Called from blas.c's init: adds retrieveTopK to the addon's exports.
napi_status register_retrieve(napi_env env, napi_value exports) {
  napi_value fn;
  napi_status s = napi_create_function(env, "retrieveTopK", NAPI_AUTO_LENGTH, retrieve_top_k, NULL, &fn);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, exports, "retrieveTopK", fn);
}
