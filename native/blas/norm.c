// Layer norm over the last axis as one kernel each way, for the Transformer layers of
// models/ops/transformer.ts (DSSRec runs ten of them per chunk of 128 sequences): the TF.js
// composition is 9 ops forward and ~20 backward, two of them broadcasting ones, which wasm runs
// slowly; here each row is two passes forward and two backward. Sums in double, so the values
// match the composition to float rounding.
#include "fastmath.h"
#include "pool.h"
#include "napi_check.h"
#include "napi_util.h"
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Rows per task: enough work per hand-off, and a bounded number of partial sums backward. */
#define ROWS_PER_TASK 256

typedef struct {
  int R, D;
  float eps;
  const float *x, *gamma, *beta, *dy;
  float *y, *mean, *rstd, *dx;
  /** Backward: per task, D partial sums of dy·x̂ (dgamma), then D of dy (dbeta). */
  double *partial;
} Norm;

HOT static void forward_task(void *ctx, int task, int worker) {
  (void)worker;
  const Norm *n = ctx;
  const int D = n->D;
  const int end = (task + 1) * ROWS_PER_TASK < n->R ? (task + 1) * ROWS_PER_TASK : n->R;
  for (int r = task * ROWS_PER_TASK; r < end; r++) {
    const float *x = n->x + (size_t)r * D;
    float *y = n->y + (size_t)r * D;
    double s = 0;
    for (int j = 0; j < D; j++) s += x[j];
    const float mu = (float)(s / D);
    double v = 0;
    for (int j = 0; j < D; j++) {
      const double c = x[j] - mu;
      v += c * c;
    }
    const float rs = (float)(1.0 / sqrt(v / D + n->eps));
    for (int j = 0; j < D; j++) y[j] = (x[j] - mu) * rs * n->gamma[j] + n->beta[j];
    n->mean[r] = mu;
    n->rstd[r] = rs;
  }
}

HOT static void backward_task(void *ctx, int task, int worker) {
  (void)worker;
  const Norm *n = ctx;
  const int D = n->D;
  double *dg = n->partial + (size_t)task * 2 * D, *db = dg + D;
  const int end = (task + 1) * ROWS_PER_TASK < n->R ? (task + 1) * ROWS_PER_TASK : n->R;
  for (int r = task * ROWS_PER_TASK; r < end; r++) {
    const float *x = n->x + (size_t)r * D, *dy = n->dy + (size_t)r * D;
    float *dx = n->dx + (size_t)r * D;
    const float mu = n->mean[r], rs = n->rstd[r];
    // dx = rs (g - mean(g) - x̂ mean(g x̂)), g = dy γ
    double sg = 0, sgx = 0;
    for (int j = 0; j < D; j++) {
      const float xh = (x[j] - mu) * rs, g = dy[j] * n->gamma[j];
      sg += g;
      sgx += (double)g * xh;
      dg[j] += (double)dy[j] * xh;
      db[j] += dy[j];
    }
    const float mg = (float)(sg / D), mgx = (float)(sgx / D);
    for (int j = 0; j < D; j++) {
      const float xh = (x[j] - mu) * rs;
      dx[j] = rs * (dy[j] * n->gamma[j] - mg - xh * mgx);
    }
  }
}

/** A Float32Array of at least `need` elements, else throws. */
static bool f32(napi_env env, napi_value v, size_t need, float **data, const char *fn, const char *name) {
  return cmi_view(env, v, napi_float32_array, need, false, (void **)data, fn, name);
}

/** argv[0], argv[1]: R, D (positive integers); false after throwing otherwise. */
static bool sizes(napi_env env, napi_value *argv, int *R, int *D, const char *fn) {
  if (napi_get_value_int32(env, argv[0], R) != napi_ok || napi_get_value_int32(env, argv[1], D) != napi_ok || *R < 0 || *D < 1) {
    char msg[120];
    snprintf(msg, sizeof msg, "cmi_blas.%s: R must be a non-negative and D a positive integer", fn);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static int tasks_for(int R) { return (R + ROWS_PER_TASK - 1) / ROWS_PER_TASK; }

// layerNormForward(R, D, eps, x [R,D], gamma [D], beta [D], y [R,D], mean [R], rstd [R])
static napi_value ln_forward(napi_env env, napi_callback_info info) {
  const char *fn = "layerNormForward";
  napi_value argv[9];
  size_t argc = 9;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 9) {
    napi_throw_type_error(env, NULL, "cmi_blas.layerNormForward: expected 9 arguments");
    return NULL;
  }
  Norm n = {0};
  double eps;
  if (!sizes(env, argv, &n.R, &n.D, fn)) return NULL;
  if (napi_get_value_double(env, argv[2], &eps) != napi_ok || !(eps >= 0)) {
    napi_throw_type_error(env, NULL, "cmi_blas.layerNormForward: eps must be a non-negative number");
    return NULL;
  }
  n.eps = (float)eps;
  const size_t RD = (size_t)n.R * n.D;
  float *x, *gamma, *beta;
  if (!f32(env, argv[3], RD, &x, fn, "x") || !f32(env, argv[4], n.D, &gamma, fn, "gamma") || !f32(env, argv[5], n.D, &beta, fn, "beta") ||
      !f32(env, argv[6], RD, &n.y, fn, "y") || !f32(env, argv[7], n.R, &n.mean, fn, "mean") || !f32(env, argv[8], n.R, &n.rstd, fn, "rstd"))
    return NULL;
  n.x = x;
  n.gamma = gamma;
  n.beta = beta;
  pool_for(tasks_for(n.R), forward_task, &n);
  return NULL;
}

// layerNormBackward(R, D, x, gamma, mean, rstd, dy, dx [R,D], dgamma [D], dbeta [D])
static napi_value ln_backward(napi_env env, napi_callback_info info) {
  const char *fn = "layerNormBackward";
  napi_value argv[10];
  size_t argc = 10;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 10) {
    napi_throw_type_error(env, NULL, "cmi_blas.layerNormBackward: expected 10 arguments");
    return NULL;
  }
  Norm n = {0};
  if (!sizes(env, argv, &n.R, &n.D, fn)) return NULL;
  const size_t RD = (size_t)n.R * n.D;
  float *x, *gamma, *mean, *rstd, *dy, *dgamma, *dbeta;
  if (!f32(env, argv[2], RD, &x, fn, "x") || !f32(env, argv[3], n.D, &gamma, fn, "gamma") || !f32(env, argv[4], n.R, &mean, fn, "mean") ||
      !f32(env, argv[5], n.R, &rstd, fn, "rstd") || !f32(env, argv[6], RD, &dy, fn, "dy") || !f32(env, argv[7], RD, &n.dx, fn, "dx") ||
      !f32(env, argv[8], n.D, &dgamma, fn, "dgamma") || !f32(env, argv[9], n.D, &dbeta, fn, "dbeta"))
    return NULL;
  n.x = x;
  n.gamma = gamma;
  n.mean = mean;
  n.rstd = rstd;
  n.dy = dy;
  const int tasks = tasks_for(n.R);
  n.partial = calloc((size_t)(tasks > 0 ? tasks : 1) * 2 * n.D, sizeof(double));
  if (!n.partial) {
    napi_throw_error(env, NULL, "cmi_blas.layerNormBackward: out of memory");
    return NULL;
  }
  pool_for(tasks, backward_task, &n);
  // Partial sums in task order: the same result for any thread count.
  for (int j = 0; j < n.D; j++) {
    double g = 0, b = 0;
    for (int t = 0; t < tasks; t++) {
      g += n.partial[(size_t)t * 2 * n.D + j];
      b += n.partial[(size_t)t * 2 * n.D + n.D + j];
    }
    dgamma[j] = (float)g;
    dbeta[j] = (float)b;
  }
  free(n.partial);
  return NULL;
}

// Called from blas.c's init: adds the layer-norm functions to the addon's exports.
napi_status register_norm(napi_env env, napi_value exports) {
  const cmi_export fns[] = {{"layerNormForward", ln_forward}, {"layerNormBackward", ln_backward}};
  return cmi_register(env, exports, fns, sizeof fns / sizeof fns[0]);
}
