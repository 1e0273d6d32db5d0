// The optimiser's update (train/optimizer.ts, torch's Adam) as one pass on the pool's threads.
// The TF.js composition runs ~10 elementwise ops over every variable, one thread each; over
// WeChat's [100k, 64] item table that was ~0.3 s of a step. Same float32 operations in the same
// order as the composition, so the result is bit-identical: contraction into fused multiply-adds
// (which gcc does by default) is switched off for this file.
#pragma GCC optimize("fp-contract=off")
#include "train.h"
#include "pool.h"
#include <math.h>
#include <string.h>

#define ADAM_CHUNK 32768

typedef struct {
  const float *p, *m, *v, *g;
  float *op, *om, *ov;
  size_t n;
  cmi_adam_coef c;
} adam_job;

static void adam_range(const adam_job *k, size_t i0, size_t n) {
  const cmi_adam_coef c = k->c;
  for (size_t i = i0; i < i0 + n; i++) {
    const float p = k->p[i];
    // As the composition: g = raw + p·wd (only when wd > 0), m' = m·b1 + g·(1-b1),
    // v' = v·b2 + g²·(1-b2), p' = p - m' / (sqrt(v') / sqrt(bc2) + eps) · (lr / bc1).
    const float g = c.decay ? k->g[i] + p * c.wd : k->g[i];
    const float m = k->m[i] * c.b1 + g * c.omb1;
    const float v = k->v[i] * c.b2 + (g * g) * c.omb2;
    const float denom = sqrtf(v) / c.sqrt_bc2 + c.eps;
    k->om[i] = m, k->ov[i] = v;
    k->op[i] = p - (m / denom) * c.step_size;
  }
}

static void adam_task(void *ctx, int task, int worker) {
  (void)worker;
  const adam_job *k = ctx;
  size_t i0 = (size_t)task * ADAM_CHUNK;
  adam_range(k, i0, k->n - i0 < ADAM_CHUNK ? k->n - i0 : ADAM_CHUNK);
}

void cmi_adam(const float *p, const float *m, const float *v, const float *g, size_t n, cmi_adam_coef c, float *out_p,
              float *out_m, float *out_v) {
  adam_job k = {p, m, v, g, out_p, out_m, out_v, n, c};
  if (n > 0) pool_for((int)((n + ADAM_CHUNK - 1) / ADAM_CHUNK), adam_task, &k);
}

// Rows scaled to unit length, as models/ops/masks.ts's l2normalize (x · rsqrt(max(Σx², eps²)))
// after every step (projectToSphere): five TF.js ops over the whole item table before.

typedef struct {
  const float *x;
  float *y;
  size_t rows, d;
  float eps2;
} norm_job;

#define NORM_ROWS 1024

static void norm_task(void *ctx, int task, int worker) {
  (void)worker;
  const norm_job *k = ctx;
  size_t r0 = (size_t)task * NORM_ROWS, r1 = r0 + NORM_ROWS < k->rows ? r0 + NORM_ROWS : k->rows;
  for (size_t r = r0; r < r1; r++) {
    const float *x = k->x + r * k->d;
    float *y = k->y + r * k->d;
    float sq = 0.0f;
    for (size_t j = 0; j < k->d; j++) sq += x[j] * x[j];
    const float s = 1.0f / sqrtf(sq > k->eps2 ? sq : k->eps2);
    for (size_t j = 0; j < k->d; j++) y[j] = x[j] * s;
  }
}

void cmi_normalize_rows(const float *x, float *y, size_t rows, size_t d, float eps2) {
  norm_job k = {x, y, rows, d, eps2};
  if (rows > 0) pool_for((int)((rows + NORM_ROWS - 1) / NORM_ROWS), norm_task, &k);
}

// GatherV2 of float32 rows (axis 0, the embedding lookups): out[i] = x[ids[i]], rows of
// `inner` floats, on the pool. The wasm kernel copies row by row from JS (~37 ms for a
// [2048, 100] lookup of 64-float rows); a copy is exact.

typedef struct {
  const float *x;
  const int32_t *ids;
  float *out;
  size_t n, inner;
} gather_job;

#define GATHER_ROWS 4096

static void gather_task(void *ctx, int task, int worker) {
  (void)worker;
  const gather_job *k = ctx;
  size_t r0 = (size_t)task * GATHER_ROWS, r1 = r0 + GATHER_ROWS < k->n ? r0 + GATHER_ROWS : k->n;
  for (size_t r = r0; r < r1; r++) memcpy(k->out + r * k->inner, k->x + (size_t)k->ids[r] * k->inner, sizeof(float) * k->inner);
}

int64_t cmi_gather_rows(const float *x, size_t rows, size_t inner, const int32_t *ids, size_t n, float *out) {
  for (size_t i = 0; i < n; i++)
    if (ids[i] < 0 || (size_t)ids[i] >= rows) return (int64_t)i;
  gather_job k = {x, ids, out, n, inner};
  if (n > 0 && inner > 0) pool_for((int)((n + GATHER_ROWS - 1) / GATHER_ROWS), gather_task, &k);
  return -1;
}
