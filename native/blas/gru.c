// The GRU recurrence of models/layers.ts (`recurrence`) as two native calls, forward and
// backward through time, instead of a dozen TF.js ops per time step. Rows are sorted by the
// column their history starts at, so step t updates only its first k[t] rows (the ones that have
// started; the others hold an exact zero state). Inputs and their gradients are packed the same
// way: row off[t] + i is row i of step t, so padding is neither projected nor stored. PyTorch's equations, gates in the order r, z, n:
//   r = σ(x_r + h W_hr + b_hr), z = σ(x_z + h W_hz + b_hz), n = tanh(x_n + r (h W_hn + b_hn))
//   h' = h + mask (n + z (h - n) - h)
// exp and tanh are the vectorised Cephes forms of fastmath.h (~2 ulp; libm's scalar calls were
// most of the forward pass on WeChat's longer histories).
// Rows are independent, so each of the pool's threads runs the whole recurrence on a block of
// consecutive rows (blocks balanced by the cells they hold), its own small product per step.
#include "train.h"
#include "pool.h"
#include "fastmath.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/** Offsets of each step's rows in the packed gate arrays: off[t] = Σ_{t0 <= s < t} k[s]. */
static size_t *packed_offsets(const int32_t *k, int L, int t0) {
  size_t *off = malloc(sizeof(size_t) * (size_t)(L + 1));
  if (!off) return NULL;
  size_t acc = 0;
  for (int t = 0; t <= L; t++) {
    off[t] = acc;
    if (t < L && t >= t0) acc += (size_t)k[t];
  }
  return off;
}

INLINE float sigmoidf(float x) { return 1.0f / (1.0f + fast_expf(-x)); }


/** Row blocks [lo[w], lo[w + 1]) for `parts` threads, balanced by the cells (steps >= t0 where
 *  the row has started) they hold: row i holds #{t >= t0 : k[t] > i}. */
static void row_blocks(const int32_t *k, int L, int B, int t0, int parts, int *lo) {
  int64_t total = 0;
  for (int t = t0; t < L; t++) total += k[t];
  int t = t0, w = 1;
  int64_t acc = 0;
  lo[0] = 0;
  for (int i = 0; i < B && w < parts; i++) {
    while (t < L && k[t] <= i) t++; // first step row i has started at
    acc += L - t;
    while (w < parts && acc * parts >= total * w) lo[w++] = i + 1;
  }
  while (w <= parts) lo[w++] = B;
}

typedef struct {
  int L, B, H, t0, all;
  const int32_t *k;
  const size_t *off;
  const float *xp, *wh, *bh, *mask, *dy, *states, *gates;
  float *out_states, *out_gates, *dxp, *dhp, *dh, *dprev, *dwh, *dbh;
  const int *lo;
  float **scratch; // forward: each block's h W_h rows
  int cols;        // backward: columns of 3H per task of W_h's gradient
} gru_job;

static inline int span(int kt, int lo, int hi) { return kt <= lo ? 0 : (kt < hi ? kt : hi) - lo; }

/** One row's gates and new state: gi = r, z, n, h W_hn + b_hn. */
HOT static void gru_cell(const float *restrict x, const float *restrict hpi, const float *restrict bh,
                         const float *restrict prev, float m, int H, float *restrict h, float *restrict gi) {
  for (int q = 0; q < H; q++) {
    const float p = prev ? prev[q] : 0.0f;
    const float hr = hpi[q] + (bh ? bh[q] : 0.0f);
    const float hz = hpi[H + q] + (bh ? bh[H + q] : 0.0f);
    const float hn = hpi[2 * H + q] + (bh ? bh[2 * H + q] : 0.0f);
    const float r = sigmoidf(x[q] + hr);
    const float z = sigmoidf(x[H + q] + hz);
    const float nn = fast_tanhf(x[2 * H + q] + r * hn);
    const float next = nn + z * (p - nn);
    h[q] = p + m * (next - p);
    gi[q] = r, gi[H + q] = z, gi[2 * H + q] = nn, gi[3 * H + q] = hn;
  }
}

static void gru_fwd_block(void *ctx, int task, int worker) {
  (void)worker;
  gru_job *j = ctx;
  const int H = j->H, G = 3 * H, B = j->B, lo = j->lo[task], hi = j->lo[task + 1];
  float *hp = j->scratch[task];
  for (int t = j->t0; t < j->L; t++) {
    const int n = span(j->k[t], lo, hi);
    if (n == 0) continue;
    const float *prev = t > j->t0 ? j->out_states + (size_t)(t - 1) * B * H + (size_t)lo * H : NULL; // rows >= k[t-1] are 0
    if (prev && H > 0) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, G, H, 1.0f, prev, H, j->wh, G, 0.0f, hp, G);
    } else {
      memset(hp, 0, sizeof(float) * (size_t)n * G);
    }
    float *h = j->out_states + (size_t)t * B * H + (size_t)lo * H;
    const size_t row0 = j->off[t] + (size_t)lo;
    float *g = j->out_gates + row0 * 4 * H;
    for (int i = 0; i < n; i++)
      gru_cell(j->xp + (row0 + i) * G, hp + (size_t)i * G, j->bh, prev ? prev + (size_t)i * H : NULL, j->mask[row0 + i], H,
               h + (size_t)i * H, g + (size_t)i * 4 * H);
  }
}

/** Threads for the row blocks (never more than rows), with OpenBLAS single-threaded inside. */
static int blocks_for(int B) {
  int w = pool_threads();
  return w < 1 ? 1 : (w > B ? (B > 0 ? B : 1) : w);
}

bool cmi_gru_forward(int L, int B, int H, int t0, const int32_t *k, const float *xp, const float *wh, const float *bh,
                     const float *mask, float *states, float *gates) {
  const int G = 3 * H, parts = blocks_for(B);
  size_t *off = packed_offsets(k, L, t0);
  int lo[parts + 1];
  float *scratch[parts];
  for (int w = 0; w < parts; w++) scratch[w] = NULL;
  bool ok = off != NULL;
  if (ok) row_blocks(k, L, B, t0, parts, lo);
  for (int w = 0; ok && w < parts; w++) ok = (scratch[w] = malloc(sizeof(float) * ((size_t)(lo[w + 1] - lo[w]) * G + 1))) != NULL;
  if (ok) {
    gru_job j = {L, B, H, t0, 0, k, off, xp, wh, bh, mask, NULL, NULL, NULL, states, gates, NULL, NULL, NULL, NULL, NULL, NULL, lo, scratch, 0};
    int saved = openblas_get_num_threads();
    if (parts > 1 && saved > 1) openblas_set_num_threads(1);
    pool_for(parts, gru_fwd_block, &j);
    if (parts > 1 && saved > 1) openblas_set_num_threads(saved);
  }
  for (int w = 0; w < parts; w++) free(scratch[w]);
  free(off);
  return ok;
}

static void gru_bwd_block(void *ctx, int task, int worker) {
  (void)worker;
  gru_job *j = ctx;
  const int H = j->H, G = 3 * H, B = j->B, L = j->L, lo = j->lo[task], hi = j->lo[task + 1];
  const bool all = j->all;
  float *dh = j->dh, *dprev = j->dprev;
  const int n0 = span(j->k[L - 1], lo, hi);
  memcpy(dh + (size_t)lo * H, (all ? j->dy + (size_t)(L - 1) * B * H : j->dy) + (size_t)lo * H, sizeof(float) * (size_t)n0 * H);
  for (int t = L - 1; t >= j->t0; t--) {
    const int n = span(j->k[t], lo, hi);
    const float *prev = t > j->t0 ? j->states + (size_t)(t - 1) * B * H : NULL;
    const size_t row0 = j->off[t] + (size_t)lo;
    const float *g = j->gates + row0 * 4 * H;
    float *dhpt = j->dhp + row0 * G;
    for (int i = 0; i < n; i++) {
      const size_t row = (size_t)(lo + i);
      const float m = j->mask[row0 + i];
      const float *gi = g + (size_t)i * 4 * H;
      float *dx = j->dxp + (row0 + i) * G;
      float *dp = dhpt + (size_t)i * G;
      for (int q = 0; q < H; q++) {
        const float r = gi[q], z = gi[H + q], nn = gi[2 * H + q], hn = gi[3 * H + q];
        const float p = prev ? prev[row * H + q] : 0.0f;
        const float d = dh[row * H + q];
        const float dNext = d * m;
        const float dPreN = dNext * (1.0f - z) * (1.0f - nn * nn);
        const float dPreR = dPreN * hn * (r * (1.0f - r));
        const float dPreZ = dNext * (p - nn) * (z * (1.0f - z));
        dx[q] = dPreR, dx[H + q] = dPreZ, dx[2 * H + q] = dPreN;
        dp[q] = dPreR, dp[H + q] = dPreZ, dp[2 * H + q] = dPreN * r;
        dprev[row * H + q] = d - dNext + dNext * z;
      }
    }
    if (t == j->t0) break; // rows starting at t0 had a constant zero state before it
    // d prev += d hp · W_hᵀ, then the state gradient of step t-1 (its rows [0, k[t-1])).
    if (n > 0 && H > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, H, G, 1.0f, dhpt, G, j->wh, G, 1.0f, dprev + (size_t)lo * H, H);
    const int np = span(j->k[t - 1], lo, hi);
    const float *up = all ? j->dy + (size_t)(t - 1) * B * H : NULL;
    for (size_t q = (size_t)lo * H; q < (size_t)(lo + np) * H; q++) dh[q] = dprev[q] + (up ? up[q] : 0.0f);
  }
}

/** W_h's and b_h's gradients, columns [c0, c0 + cols) of 3H: Σ_t prev_tᵀ · dhp_t. */
static void gru_dw_block(void *ctx, int task, int worker) {
  (void)worker;
  gru_job *j = ctx;
  const int H = j->H, G = 3 * H, c0 = task * j->cols, nc = G - c0 < j->cols ? G - c0 : j->cols;
  for (int t = j->t0 + 1; t < j->L; t++) {
    if (j->k[t] == 0 || H == 0) continue;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, nc, j->k[t], 1.0f, j->states + (size_t)(t - 1) * j->B * H, H,
                j->dhp + j->off[t] * G + c0, G, 1.0f, j->dwh + c0, G);
  }
  for (size_t q = 0; q < j->off[j->L]; q++)
    for (int c = c0; c < c0 + nc; c++) j->dbh[c] += j->dhp[q * G + c];
}

bool cmi_gru_backward(int L, int B, int H, int t0, const int32_t *k, bool all, const float *dy, const float *wh,
                      const float *mask, const float *states, const float *gates, float *dxp, float *dwh, float *dbh) {
  const int G = 3 * H, parts = blocks_for(B);
  if (t0 >= L) return true;
  size_t *off = packed_offsets(k, L, t0);
  float *dhp = malloc(sizeof(float) * (off ? off[L] * G + 1 : 1)); // every step's d(h W_h + b_h)
  float *dh = malloc(sizeof(float) * ((size_t)B * H + 1));          // d state, rows [0, k[t])
  float *dprev = malloc(sizeof(float) * ((size_t)B * H + 1));
  if (!off || !dhp || !dh || !dprev) {
    free(off), free(dhp), free(dh), free(dprev);
    return false;
  }
  int lo[parts + 1];
  row_blocks(k, L, B, t0, parts, lo);
  gru_job j = {L, B, H, t0, all, k, off, NULL, wh, NULL, mask, dy, states, gates, NULL, NULL, dxp, dhp, dh, dprev, dwh, dbh, lo, NULL, 0};
  int saved = openblas_get_num_threads();
  if (pool_threads() > 1 && saved > 1) openblas_set_num_threads(1);
  pool_for(parts, gru_bwd_block, &j);
  // One block of columns per thread (multiples of 16 floats, so each stays vector-aligned).
  j.cols = ((G + pool_threads() - 1) / pool_threads() + 15) / 16 * 16;
  if (G > 0) pool_for((G + j.cols - 1) / j.cols, gru_dw_block, &j);
  if (pool_threads() > 1 && saved > 1) openblas_set_num_threads(saved);
  free(off), free(dhp), free(dh), free(dprev);
  return true;
}
