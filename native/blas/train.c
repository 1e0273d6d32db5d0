// Fused training kernels for the pure TF.js backends (engine/fused.ts calls them through the
// kernels in engine/kernels/fused*.ts). Each replaces a chain of TF.js ops whose intermediates
// are huge next to the inputs: the main loss's [m, B*C] scores and their argMax, InfoNCE's
// [N, N] similarity block and its softmax. Products go to OpenBLAS tile by tile (a tile fits in
// L2), the rest is plain loops that gcc vectorises; hot loops are compiled for AVX-512, AVX2 and
// baseline x86-64 and picked at load time (target_clones), so the build stays portable.
#include "train.h"
#include "pool.h"
#include "fastmath.h"
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


// ---------------------------------------------------------------------------------------------
// Shared pieces


/** While the pool runs tiles on several threads, each tile's sgemm runs on its own thread. */
static int blas_single_begin(void) {
  int saved = openblas_get_num_threads();
  if (pool_threads() > 1 && saved > 1) openblas_set_num_threads(1);
  return saved;
}
static void blas_single_end(int saved) {
  if (openblas_get_num_threads() != saved) openblas_set_num_threads(saved);
}

/** c (nr x nc, leading dimension nc) = a (nr x d) · b (nc x d)ᵀ. */
static void product_tile(const float *a, const float *b, int nr, int nc, int d, float *c) {
  if (d == 0) {
    memset(c, 0, sizeof(float) * (size_t)nr * nc);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, nc, d, 1.0f, a, d, b, d, 0.0f, c, nc);
}

// ---------------------------------------------------------------------------------------------
// max over interests: val[b, c] = max_l u[b, l]·items[c], idx[b, c] = the first l reaching it.

#define MOI_ROWS 256  // score rows (users x interests) per tile
#define MOI_COLS 1024 // candidates per tile: a 1 MB tile

typedef struct {
  const float *u, *items;
  int B, m, d, C, users_per_tile, row_tiles, col_tiles;
  float *val;
  int32_t *idx;
  float *scratch;
} moi_fwd;

HOT static void moi_reduce(const float *S, int nb, int m, int nc, float *val, int32_t *idx, int C) {
  for (int b = 0; b < nb; b++) {
    float *v = val + (size_t)b * C;
    int32_t *w = idx + (size_t)b * C;
    const float *s0 = S + (size_t)b * m * nc;
    for (int c = 0; c < nc; c++) {
      v[c] = s0[c];
      w[c] = 0;
    }
    // Strictly greater replaces: ties keep the first interest, NaN never wins (as ArgMax).
    for (int l = 1; l < m; l++) {
      const float *s = s0 + (size_t)l * nc;
      for (int c = 0; c < nc; c++) {
        bool take = s[c] > v[c];
        v[c] = take ? s[c] : v[c];
        w[c] = take ? l : w[c];
      }
    }
  }
}

static void moi_fwd_task(void *p, int task, int worker) {
  const moi_fwd *k = p;
  int rt = task / k->col_tiles, ct = task % k->col_tiles;
  int b0 = rt * k->users_per_tile, c0 = ct * MOI_COLS;
  int nb = k->B - b0 < k->users_per_tile ? k->B - b0 : k->users_per_tile;
  int nc = k->C - c0 < MOI_COLS ? k->C - c0 : MOI_COLS;
  float *S = k->scratch + (size_t)worker * k->users_per_tile * k->m * MOI_COLS;
  product_tile(k->u + (size_t)b0 * k->m * k->d, k->items + (size_t)c0 * k->d, nb * k->m, nc, k->d, S);
  moi_reduce(S, nb, k->m, nc, k->val + (size_t)b0 * k->C + c0, k->idx + (size_t)b0 * k->C + c0, k->C);
}

bool cmi_moi_forward(const float *u, const float *items, int B, int m, int d, int C, float *val, int32_t *idx) {
  if (B == 0 || C == 0) return true;
  moi_fwd k = {u, items, B, m, d, C, 0, 0, 0, val, idx, NULL};
  k.users_per_tile = MOI_ROWS / m > 0 ? MOI_ROWS / m : 1;
  k.row_tiles = (B + k.users_per_tile - 1) / k.users_per_tile;
  k.col_tiles = (C + MOI_COLS - 1) / MOI_COLS;
  k.scratch = malloc(sizeof(float) * (size_t)pool_threads() * k.users_per_tile * m * MOI_COLS);
  if (!k.scratch) return false;
  int saved = blas_single_begin();
  pool_for(k.row_tiles * k.col_tiles, moi_fwd_task, &k);
  blas_single_end(saved);
  free(k.scratch);
  return true;
}

// Backward: only the winners carry gradient, so dU[b, idx] += dy·items[c] and
// dItems[c] += dy·u[b, idx]: B·C·d multiply-adds each, m times fewer than the dense products.

typedef struct {
  const float *u, *items, *dy;
  const int32_t *idx;
  int B, m, d, C;
  float *du, *ditems;
} moi_bwd;

#define MOI_USERS_PER_TASK 8
#define MOI_ITEMS_PER_TASK 32

INLINE void axpy(float *restrict y, float a, const float *restrict x, int d) {
  for (int k = 0; k < d; k++) y[k] += a * x[k];
}

HOT static void moi_du_rows(const moi_bwd *k, int b0, int b1) {
  for (int b = b0; b < b1; b++) {
    const float *dy = k->dy + (size_t)b * k->C;
    const int32_t *w = k->idx + (size_t)b * k->C;
    float *du = k->du + (size_t)b * k->m * k->d;
    for (int c = 0; c < k->C; c++) axpy(du + (size_t)w[c] * k->d, dy[c], k->items + (size_t)c * k->d, k->d);
  }
}

HOT static void moi_ditems_cols(const moi_bwd *k, int c0, int c1) {
  for (int b = 0; b < k->B; b++) {
    const float *dy = k->dy + (size_t)b * k->C;
    const int32_t *w = k->idx + (size_t)b * k->C;
    const float *u = k->u + (size_t)b * k->m * k->d;
    for (int c = c0; c < c1; c++) axpy(k->ditems + (size_t)c * k->d, dy[c], u + (size_t)w[c] * k->d, k->d);
  }
}

static void moi_du_task(void *p, int task, int worker) {
  (void)worker;
  const moi_bwd *k = p;
  int b0 = task * MOI_USERS_PER_TASK;
  moi_du_rows(k, b0, b0 + MOI_USERS_PER_TASK < k->B ? b0 + MOI_USERS_PER_TASK : k->B);
}

static void moi_ditems_task(void *p, int task, int worker) {
  (void)worker;
  const moi_bwd *k = p;
  int c0 = task * MOI_ITEMS_PER_TASK;
  moi_ditems_cols(k, c0, c0 + MOI_ITEMS_PER_TASK < k->C ? c0 + MOI_ITEMS_PER_TASK : k->C);
}

void cmi_moi_backward(const float *u, const float *items, const int32_t *idx, const float *dy, int B, int m, int d,
                      int C, float *du, float *ditems) {
  moi_bwd k = {u, items, dy, idx, B, m, d, C, du, ditems};
  pool_for((B + MOI_USERS_PER_TASK - 1) / MOI_USERS_PER_TASK, moi_du_task, &k);
  pool_for((C + MOI_ITEMS_PER_TASK - 1) / MOI_ITEMS_PER_TASK, moi_ditems_task, &k);
}

// ---------------------------------------------------------------------------------------------
// Log-sum-exps of the rows and columns of S = x yᵀ (x [N, d], y [M, d]; with `diag`, -1e9 is
// added on the diagonal, as the unfused offset does). Online softmax over tiles: each row and
// column keeps a running maximum and a sum of exp(s - max), rescaled when the maximum grows.

#define LSE_ROWS 128
#define LSE_COLS 1024

typedef struct {
  const float *x, *y, *lse_r, *lse_c, *dr, *dc;
  int N, M, d, diag, cols;
  float *out_r;             // forward: row log-sum-exps
  float *cmax, *csum, *tmp; // forward: [slots][M] column state, [slots][LSE_COLS] tile maxima;
                            // backward (fixed form): the factors a [N], b [M]
  float *dx;                // backward: dx [N, d]
  float **dyw;              // backward: each slot's dy partial sums [M, d] (slot 0's is dy)
  float *tiles;             // [slots][LSE_ROWS * LSE_COLS]
  float shift;              // fixed shift: every score within [-shift, shift] (lse_bound)
  int fixed;                // 1: exp(s - shift) once per score, no running maxima
} lse_job;

/** Scores s = x_i·y_j lie in [-b, b] for b = max|x_i| · max|y_j| (Cauchy-Schwarz). When b is
 *  at most LSE_FIXED (InfoNCE over unit vectors / τ: b = 1/τ = 10 by default) the online
 *  softmax's running maxima are not needed: exp(s - b) is in [e^-2b, 1], far from float's
 *  underflow, so row and column sums take one exp per score (the running form takes two, and
 *  a max pass), and the backward pass's two exps become e^(s-b) times per-row and per-column
 *  factors (exp(b - lse) <= e^2b). Values differ from the running form by float rounding. */
#define LSE_FIXED 40.0f

static float max_norm(const float *x, int n, int d) {
  float top = 0.0f;
  for (int i = 0; i < n; i++) {
    float sq = 0.0f;
    for (int j = 0; j < d; j++) sq += x[(size_t)i * d + j] * x[(size_t)i * d + j];
    top = sq > top ? sq : top;
  }
  return sqrtf(top);
}

/** The fixed shift when it applies, else -1. A masked diagonal with one column (or one row,
 *  for the column sums) leaves a row with no unmasked score: the running form then. */
static float lse_bound(const float *x, const float *y, int N, int M, int d, bool diag, bool cols) {
  if (diag && (M < 2 || (cols && N < 2))) return -1.0f;
  // A little headroom over the bound: the products' rounding can exceed it by a few ulps.
  const float b = max_norm(x, N, d) * max_norm(y, M, d) * 1.0001f + 1e-6f;
  return b <= LSE_FIXED ? b : -1.0f;
}

static void lse_scores(const lse_job *k, int r0, int nr, int c0, int nc, float *S) {
  product_tile(k->x + (size_t)r0 * k->d, k->y + (size_t)c0 * k->d, nr, nc, k->d, S);
  if (!k->diag) return;
  for (int i = 0; i < nr; i++) {
    int j = r0 + i - c0;
    if (j >= 0 && j < nc) S[(size_t)i * nc + j] += -1e9f;
  }
}

/** One tile's contribution to the running row (and column) maxima and sums. */
HOT static void lse_accumulate(const float *S, int nr, int nc, bool cols, float *rmax, float *rsum, float *cmax,
                               float *csum, float *tcol) {
  if (cols)
    for (int j = 0; j < nc; j++) tcol[j] = -INFINITY;
  for (int i = 0; i < nr; i++) {
    const float *s = S + (size_t)i * nc;
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < nc; j++) mx = s[j] > mx ? s[j] : mx;
    if (mx > rmax[i]) {
      if (rsum[i] > 0) rsum[i] *= fast_expf(rmax[i] - mx);
      rmax[i] = mx;
    }
    if (cols)
      for (int j = 0; j < nc; j++) tcol[j] = s[j] > tcol[j] ? s[j] : tcol[j];
  }
  if (cols) {
    for (int j = 0; j < nc; j++) {
      if (tcol[j] > cmax[j]) {
        if (csum[j] > 0) csum[j] *= fast_expf(cmax[j] - tcol[j]);
        cmax[j] = tcol[j];
      }
    }
  }
  for (int i = 0; i < nr; i++) {
    const float *s = S + (size_t)i * nc;
    const float mr = rmax[i];
    float acc = 0.0f;
    if (cols) {
#pragma omp simd reduction(+ : acc)
      for (int j = 0; j < nc; j++) {
        acc += fast_expf(s[j] - mr);
        csum[j] += fast_expf(s[j] - cmax[j]);
      }
    } else {
#pragma omp simd reduction(+ : acc)
      for (int j = 0; j < nc; j++) acc += fast_expf(s[j] - mr);
    }
    rsum[i] += acc;
  }
}

/** The fixed-shift form: rsum[i] += Σ_j e^(s - shift), csum[j] += Σ_i e^(s - shift). */
HOT static void lse_accumulate_fixed(const float *S, int nr, int nc, bool cols, float shift, float *rsum, float *csum) {
  for (int i = 0; i < nr; i++) {
    const float *s = S + (size_t)i * nc;
    float acc = 0.0f;
    if (cols) {
#pragma omp simd reduction(+ : acc)
      for (int j = 0; j < nc; j++) {
        const float e = fast_expf(s[j] - shift);
        acc += e;
        csum[j] += e;
      }
    } else {
#pragma omp simd reduction(+ : acc)
      for (int j = 0; j < nc; j++) acc += fast_expf(s[j] - shift);
    }
    rsum[i] += acc;
  }
}

static void lse_fwd_task(void *p, int task, int worker) {
  const lse_job *k = p;
  int r0 = task * LSE_ROWS, nr = k->N - r0 < LSE_ROWS ? k->N - r0 : LSE_ROWS;
  float rmax[LSE_ROWS], rsum[LSE_ROWS];
  for (int i = 0; i < nr; i++) rmax[i] = k->fixed ? k->shift : -INFINITY, rsum[i] = 0.0f;
  float *S = k->tiles + (size_t)worker * LSE_ROWS * LSE_COLS;
  float *cmax = k->cmax + (size_t)worker * k->M, *csum = k->csum + (size_t)worker * k->M;
  for (int c0 = 0; c0 < k->M; c0 += LSE_COLS) {
    int nc = k->M - c0 < LSE_COLS ? k->M - c0 : LSE_COLS;
    lse_scores(k, r0, nr, c0, nc, S);
    if (k->fixed)
      lse_accumulate_fixed(S, nr, nc, k->cols, k->shift, rsum, csum + c0);
    else
      lse_accumulate(S, nr, nc, k->cols, rmax, rsum, cmax + c0, csum + c0, k->tmp + (size_t)worker * LSE_COLS);
  }
  for (int i = 0; i < nr; i++) k->out_r[r0 + i] = rmax[i] + logf(rsum[i]);
}

/** The row tiles of one reduction slot: tiles slot, slot + slots, ... Column state and dy
 *  partial sums belong to a slot, not to whichever thread ran a tile, and are combined in slot
 *  order: a run's result then depends on its thread count only, never on the scheduling (a
 *  resumed run ends exactly where an uninterrupted one does). */
typedef struct {
  lse_job *k;
  int tiles, slots;
  void (*task)(void *, int, int);
} lse_slots;

static void lse_slot_task(void *p, int slot, int worker) {
  (void)worker;
  const lse_slots *s = p;
  for (int t = slot; t < s->tiles; t += s->slots) s->task(s->k, t, slot);
}

static void lse_for(lse_job *k, int slots, void (*task)(void *, int, int)) {
  lse_slots s = {k, (k->N + LSE_ROWS - 1) / LSE_ROWS, slots, task};
  pool_for(slots, lse_slot_task, &s);
}

bool cmi_lse_forward(const float *x, const float *y, int N, int M, int d, bool diag, float *lse_r, float *lse_c) {
  if (N == 0 || M == 0) return true;
  int workers = pool_threads();
  lse_job k = {x, y, NULL, NULL, NULL, NULL, N, M, d, diag, lse_c != NULL, lse_r, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
  k.tiles = malloc(sizeof(float) * (size_t)workers * LSE_ROWS * LSE_COLS);
  k.tmp = malloc(sizeof(float) * (size_t)workers * LSE_COLS);
  k.cmax = malloc(sizeof(float) * (size_t)workers * M);
  k.csum = calloc((size_t)workers * M, sizeof(float));
  if (!k.tiles || !k.tmp || !k.cmax || !k.csum) {
    free(k.tiles), free(k.tmp), free(k.cmax), free(k.csum);
    return false;
  }
  k.shift = lse_bound(x, y, N, M, d, diag, lse_c != NULL);
  k.fixed = k.shift >= 0;
  // The fixed form's column "maxima" are the shift itself, so the merge below applies as is.
  for (size_t j = 0; j < (size_t)workers * M; j++) k.cmax[j] = k.fixed ? k.shift : -INFINITY;
  int saved = blas_single_begin();
  lse_for(&k, workers, lse_fwd_task);
  blas_single_end(saved);
  if (lse_c) {
    for (int j = 0; j < M; j++) {
      float top = -INFINITY;
      for (int w = 0; w < workers; w++) top = k.cmax[(size_t)w * M + j] > top ? k.cmax[(size_t)w * M + j] : top;
      float sum = 0.0f;
      for (int w = 0; w < workers; w++) {
        float s = k.csum[(size_t)w * M + j];
        if (s > 0) sum += s * expf(k.cmax[(size_t)w * M + j] - top);
      }
      lse_c[j] = top + logf(sum);
    }
  }
  free(k.tiles), free(k.tmp), free(k.cmax), free(k.csum);
  return true;
}

/** d scores in place: g = dr_i exp(s - lse_r_i) (+ dc_j exp(s - lse_c_j)). */
HOT static void lse_grad_tile(float *S, int nr, int nc, const float *dr, const float *lr, const float *dc,
                              const float *lc) {
  for (int i = 0; i < nr; i++) {
    float *s = S + (size_t)i * nc;
    const float a = dr[i], l = lr[i];
    if (dc) {
      for (int j = 0; j < nc; j++) s[j] = a * fast_expf(s[j] - l) + dc[j] * fast_expf(s[j] - lc[j]);
    } else {
      for (int j = 0; j < nc; j++) s[j] = a * fast_expf(s[j] - l);
    }
  }
}

/** The fixed-shift form: g = e^(s - shift) (a_i + b_j), a_i = dr_i e^(shift - lse_r_i), b_j
 *  likewise for the columns (none without them). */
HOT static void lse_grad_tile_fixed(float *S, int nr, int nc, float shift, const float *a, const float *b) {
  for (int i = 0; i < nr; i++) {
    float *s = S + (size_t)i * nc;
    const float ai = a[i];
    if (b) {
      for (int j = 0; j < nc; j++) s[j] = fast_expf(s[j] - shift) * (ai + b[j]);
    } else {
      for (int j = 0; j < nc; j++) s[j] = fast_expf(s[j] - shift) * ai;
    }
  }
}

static void lse_bwd_task(void *p, int task, int worker) {
  const lse_job *k = p;
  int r0 = task * LSE_ROWS, nr = k->N - r0 < LSE_ROWS ? k->N - r0 : LSE_ROWS;
  float *S = k->tiles + (size_t)worker * LSE_ROWS * LSE_COLS;
  float *dyw = k->dyw[worker];
  if (k->d == 0) return;
  for (int c0 = 0; c0 < k->M; c0 += LSE_COLS) {
    int nc = k->M - c0 < LSE_COLS ? k->M - c0 : LSE_COLS;
    lse_scores(k, r0, nr, c0, nc, S);
    if (k->fixed)
      lse_grad_tile_fixed(S, nr, nc, k->shift, k->tmp + r0, k->cols ? k->tmp + k->N + c0 : NULL);
    else
      lse_grad_tile(S, nr, nc, k->dr + r0, k->lse_r + r0, k->cols ? k->dc + c0 : NULL, k->cols ? k->lse_c + c0 : NULL);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, k->d, nc, 1.0f, S, nc, k->y + (size_t)c0 * k->d, k->d,
                1.0f, k->dx + (size_t)r0 * k->d, k->d);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nc, k->d, nr, 1.0f, S, nc, k->x + (size_t)r0 * k->d, k->d,
                1.0f, dyw + (size_t)c0 * k->d, k->d);
  }
}

bool cmi_lse_backward(const float *x, const float *y, int N, int M, int d, bool diag, const float *lse_r,
                      const float *lse_c, const float *dr, const float *dc, float *dx, float *dy) {
  if (N == 0 || M == 0) return true;
  int workers = pool_threads();
  lse_job k = {x, y, lse_r, lse_c, dr, dc, N, M, d, diag, lse_c != NULL, NULL, NULL, NULL, NULL, dx, NULL, NULL, 0, 0};
  k.tiles = malloc(sizeof(float) * (size_t)workers * LSE_ROWS * LSE_COLS);
  // Worker 0 accumulates straight into dy (zeroed by the caller), the others into their own.
  float *extra = workers > 1 ? calloc((size_t)(workers - 1) * M * d + 1, sizeof(float)) : NULL;
  k.dyw = malloc(sizeof(float *) * (size_t)workers);
  if (!k.tiles || !k.dyw || (workers > 1 && !extra)) {
    free(k.tiles), free(extra), free(k.dyw);
    return false;
  }
  k.dyw[0] = dy;
  for (int w = 1; w < workers; w++) k.dyw[w] = extra + (size_t)(w - 1) * M * d;
  // The fixed form's factors a [N] and b [M] in tmp, when every one is in float range (they
  // are when the log-sum-exps came from the same inputs).
  k.shift = lse_bound(x, y, N, M, d, diag, lse_c != NULL);
  k.fixed = k.shift >= 0 && (k.tmp = malloc(sizeof(float) * ((size_t)N + M))) != NULL;
  for (int i = 0; k.fixed && i < N + (lse_c ? M : 0); i++) {
    const float l = i < N ? lse_r[i] : lse_c[i - N], g = i < N ? dr[i] : dc[i - N];
    if (!(k.shift - l < 88.0f)) k.fixed = 0; // also NaN
    else k.tmp[i] = g * fast_expf(k.shift - l);
  }
  int saved = blas_single_begin();
  lse_for(&k, workers, lse_bwd_task);
  blas_single_end(saved);
  for (int w = 1; w < workers; w++) {
    const float *src = k.dyw[w];
    for (size_t i = 0; i < (size_t)M * d; i++) dy[i] += src[i];
  }
  free(k.dyw), free(extra), free(k.tiles), free(k.tmp);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Elementwise tanh on the pool: TF.js's wasm Tanh costs ~9 ns an element (Re4's [102400, 256]
// activations: 0.23 s a call); this is Cephes's tanhf, vectorised (max error ~2 ulp).


#define UNARY_CHUNK 65536

typedef struct {
  const float *x;
  float *y;
  size_t n;
} unary_job;

HOT static void tanh_range(const float *restrict x, float *restrict y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = fast_tanhf(x[i]);
}

static void tanh_task(void *p, int task, int worker) {
  (void)worker;
  const unary_job *k = p;
  size_t i0 = (size_t)task * UNARY_CHUNK, n = k->n - i0 < UNARY_CHUNK ? k->n - i0 : UNARY_CHUNK;
  tanh_range(k->x + i0, k->y + i0, n);
}

void cmi_tanh(const float *x, float *y, size_t n) {
  unary_job k = {x, y, n};
  pool_for((int)((n + UNARY_CHUNK - 1) / UNARY_CHUNK), tanh_task, &k);
}

// Sum over the middle axis of x [outer, R, inner] -> out [outer, inner] (zeroed), and a row bias
// plus relu in place: loops that V8 runs 5-10x slower than vectorised C on these sizes.

#define SUM_CHUNK 2048

typedef struct {
  const float *x;
  float *out;
  size_t outer, R, inner, chunks;
} sum_job;

HOT static void sum_block(const float *restrict x, float *restrict out, size_t R, size_t inner, size_t n) {
  for (size_t r = 0; r < R; r++) {
    const float *row = x + r * inner;
    for (size_t i = 0; i < n; i++) out[i] += row[i];
  }
}

static void sum_task(void *p, int task, int worker) {
  (void)worker;
  const sum_job *k = p;
  size_t o = (size_t)task / k->chunks, i0 = ((size_t)task % k->chunks) * SUM_CHUNK;
  size_t n = k->inner - i0 < SUM_CHUNK ? k->inner - i0 : SUM_CHUNK;
  sum_block(k->x + o * k->R * k->inner + i0, k->out + o * k->inner + i0, k->R, k->inner, n);
}

void cmi_sum_middle(const float *x, float *out, size_t outer, size_t R, size_t inner) {
  sum_job k = {x, out, outer, R, inner, (inner + SUM_CHUNK - 1) / SUM_CHUNK};
  if (outer == 0 || inner == 0) return;
  pool_for((int)(outer * k.chunks), sum_task, &k);
}

HOT static void bias_rows(float *restrict y, const float *restrict bias, size_t rows, size_t n, bool relu) {
  for (size_t r = 0; r < rows; r++) {
    float *v = y + r * n;
    if (bias)
      for (size_t j = 0; j < n; j++) v[j] += bias[j];
    if (relu)
      for (size_t j = 0; j < n; j++) v[j] = v[j] < 0.0f ? 0.0f : v[j];
  }
}

void cmi_bias_act(float *y, const float *bias, size_t rows, size_t n, bool relu) { bias_rows(y, bias, rows, n, relu); }

// UnsortedSegmentSum (gather's gradient: every embedding lookup's backward), float32: rows of x
// added into out[ids[r]]; ids outside [0, segments) are dropped, as TensorFlow does. On the pool,
// each thread owns a range of segments and adds its rows in row order, so every segment's sum
// is the same as on one thread, bit for bit.
typedef struct {
  const float *x;
  const int32_t *ids;
  size_t rows, inner, segments, parts;
  float *out;
} segsum_job;

HOT static void segment_sum_range(const float *x, const int32_t *ids, size_t rows, size_t inner, size_t lo, size_t hi,
                                  float *out) {
  for (size_t r = 0; r < rows; r++) {
    const int32_t s = ids[r];
    if (s < 0 || (size_t)s < lo || (size_t)s >= hi) continue;
    float *restrict o = out + (size_t)s * inner;
    const float *restrict v = x + r * inner;
    for (size_t k = 0; k < inner; k++) o[k] += v[k];
  }
}

static void segsum_task(void *p, int task, int worker) {
  (void)worker;
  const segsum_job *k = p;
  size_t lo = k->segments * (size_t)task / k->parts, hi = k->segments * (size_t)(task + 1) / k->parts;
  segment_sum_range(k->x, k->ids, k->rows, k->inner, lo, hi, k->out);
}

void cmi_segment_sum(const float *x, const int32_t *ids, size_t rows, size_t inner, size_t segments, float *out) {
  // Every thread reads all ids: worth it only when the rows are wide enough.
  size_t parts = inner >= 16 && rows * inner >= 65536 ? (size_t)pool_threads() : 1;
  segsum_job k = {x, ids, rows, inner, segments, parts, out};
  pool_for((int)parts, segsum_task, &k);
}

// Row log-sum-exps of x [R, C] (every model's sampled-softmax cross-entropy: CMI's [2048, 3072]
// main-loss logits) and their gradient, on the pool: TF.js's composition is a softmax, two max
// reductions and a product over the whole matrix, one thread each.

#define LSE_ROW_BLOCK 32

typedef struct {
  const float *x, *lse, *dy;
  float *out;
  size_t R, C;
} lse_rows_job;

HOT static void lse_rows_range(const float *restrict x, float *restrict out, size_t rows, size_t C) {
  for (size_t r = 0; r < rows; r++) {
    const float *v = x + r * C;
    float mx = -INFINITY;
    for (size_t j = 0; j < C; j++) mx = v[j] > mx ? v[j] : mx;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (size_t j = 0; j < C; j++) sum += fast_expf(v[j] - mx);
    out[r] = mx + logf(sum);
  }
}

HOT static void lse_rows_grad_range(const float *restrict x, const float *restrict lse, const float *restrict dy,
                                    float *restrict dx, size_t rows, size_t C) {
  for (size_t r = 0; r < rows; r++) {
    const float *v = x + r * C;
    float *g = dx + r * C;
    const float l = lse[r], d = dy[r];
    for (size_t j = 0; j < C; j++) g[j] = d * fast_expf(v[j] - l);
  }
}

static void lse_rows_task(void *p, int task, int worker) {
  (void)worker;
  const lse_rows_job *k = p;
  size_t r0 = (size_t)task * LSE_ROW_BLOCK, n = k->R - r0 < LSE_ROW_BLOCK ? k->R - r0 : LSE_ROW_BLOCK;
  if (k->dy)
    lse_rows_grad_range(k->x + r0 * k->C, k->lse + r0, k->dy + r0, k->out + r0 * k->C, n, k->C);
  else
    lse_rows_range(k->x + r0 * k->C, k->out + r0, n, k->C);
}

void cmi_lse_rows(const float *x, size_t R, size_t C, const float *lse, const float *dy, float *out) {
  lse_rows_job k = {x, lse, dy, out, R, C};
  if (R > 0 && C > 0) pool_for((int)((R + LSE_ROW_BLOCK - 1) / LSE_ROW_BLOCK), lse_rows_task, &k);
}
