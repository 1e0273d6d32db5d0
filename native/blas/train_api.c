// Node-API bindings of the training kernels: argument checks (types and sizes, so a wrong call
// throws instead of writing outside an array), then the plain C functions of train.c and gru.c.
#include "pool.h"
#include "train.h"
#include "napi_check.h"
#include "napi_util.h"
#include <stdio.h>



static bool ints(napi_env env, napi_value *argv, int count, int32_t *out, const char *fn) {
  for (int i = 0; i < count; i++) {
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok || out[i] < 0) {
      char msg[120];
      snprintf(msg, sizeof msg, "cmi_blas.%s: size argument %d must be a non-negative integer", fn, i);
      napi_throw_type_error(env, NULL, msg);
      return false;
    }
  }
  return true;
}

static napi_value args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *fn) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    char msg[120];
    snprintf(msg, sizeof msg, "cmi_blas.%s: expected %zu arguments", fn, want);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  napi_value ok;
  napi_get_boolean(env, true, &ok);
  return ok;
}

static napi_value oom(napi_env env, const char *fn) {
  char msg[120];
  snprintf(msg, sizeof msg, "cmi_blas.%s: out of memory for its tiles", fn);
  napi_throw_error(env, NULL, msg);
  return NULL;
}

#define F32 napi_float32_array
#define I32 napi_int32_array
#define Z(n) ((size_t)(n))

// moiForward(B, m, d, C, u, items, val, idx)
static napi_value moi_forward(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  int32_t s[4];
  void *u, *items, *val, *idx;
  const char *fn = "moiForward";
  if (!args(env, info, 8, argv, fn) || !ints(env, argv, 4, s, fn)) return NULL;
  const int B = s[0], m = s[1], d = s[2], C = s[3];
  if (m < 1) return napi_throw_range_error(env, NULL, "cmi_blas.moiForward: m must be at least 1"), NULL;
  if (!cmi_view(env, argv[4], F32, Z(B) * m * d, false, &u, fn, "u") ||
      !cmi_view(env, argv[5], F32, Z(C) * d, false, &items, fn, "items") ||
      !cmi_view(env, argv[6], F32, Z(B) * C, false, &val, fn, "val") ||
      !cmi_view(env, argv[7], I32, Z(B) * C, false, &idx, fn, "idx"))
    return NULL;
  if (!cmi_moi_forward(u, items, B, m, d, C, val, idx)) return oom(env, fn);
  return NULL;
}

// moiBackward(B, m, d, C, u, items, idx, dy, du, ditems)
static napi_value moi_backward(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  int32_t s[4];
  void *u, *items, *idx, *dy, *du, *ditems;
  const char *fn = "moiBackward";
  if (!args(env, info, 10, argv, fn) || !ints(env, argv, 4, s, fn)) return NULL;
  const int B = s[0], m = s[1], d = s[2], C = s[3];
  if (!cmi_view(env, argv[4], F32, Z(B) * m * d, false, &u, fn, "u") ||
      !cmi_view(env, argv[5], F32, Z(C) * d, false, &items, fn, "items") ||
      !cmi_view(env, argv[6], I32, Z(B) * C, false, &idx, fn, "idx") ||
      !cmi_view(env, argv[7], F32, Z(B) * C, false, &dy, fn, "dy") ||
      !cmi_view(env, argv[8], F32, Z(B) * m * d, false, &du, fn, "du") ||
      !cmi_view(env, argv[9], F32, Z(C) * d, false, &ditems, fn, "ditems"))
    return NULL;
  // Winners outside [0, m) would write outside du.
  const int32_t *w = idx;
  for (size_t i = 0; i < Z(B) * C; i++)
    if (w[i] < 0 || w[i] >= m) return napi_throw_range_error(env, NULL, "cmi_blas.moiBackward: idx outside [0, m)"), NULL;
  cmi_moi_backward(u, items, idx, dy, B, m, d, C, du, ditems);
  return NULL;
}

// lseForward(N, M, d, diag, x, y, lseRows, lseCols | null)
static napi_value lse_forward(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  int32_t s[4];
  void *x, *y, *lr, *lc;
  const char *fn = "lseForward";
  if (!args(env, info, 8, argv, fn) || !ints(env, argv, 4, s, fn)) return NULL;
  const int N = s[0], M = s[1], d = s[2];
  const bool diag = s[3] != 0;
  if (!cmi_view(env, argv[4], F32, Z(N) * d, false, &x, fn, "x") || !cmi_view(env, argv[5], F32, Z(M) * d, false, &y, fn, "y") ||
      !cmi_view(env, argv[6], F32, Z(N), false, &lr, fn, "lseRows") || !cmi_view(env, argv[7], F32, Z(M), true, &lc, fn, "lseCols"))
    return NULL;
  if (!cmi_lse_forward(x, y, N, M, d, diag, lr, lc)) return oom(env, fn);
  return NULL;
}

// lseBackward(N, M, d, diag, x, y, lseRows, lseCols | null, dRows, dCols | null, dx, dy)
static napi_value lse_backward(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  int32_t s[4];
  void *x, *y, *lr, *lc, *dr, *dc, *dx, *dy;
  const char *fn = "lseBackward";
  if (!args(env, info, 12, argv, fn) || !ints(env, argv, 4, s, fn)) return NULL;
  const int N = s[0], M = s[1], d = s[2];
  const bool diag = s[3] != 0;
  if (!cmi_view(env, argv[4], F32, Z(N) * d, false, &x, fn, "x") || !cmi_view(env, argv[5], F32, Z(M) * d, false, &y, fn, "y") ||
      !cmi_view(env, argv[6], F32, Z(N), false, &lr, fn, "lseRows") || !cmi_view(env, argv[7], F32, Z(M), true, &lc, fn, "lseCols") ||
      !cmi_view(env, argv[8], F32, Z(N), false, &dr, fn, "dRows") ||
      !cmi_view(env, argv[9], F32, Z(M), lc == NULL, &dc, fn, "dCols") ||
      !cmi_view(env, argv[10], F32, Z(N) * d, false, &dx, fn, "dx") || !cmi_view(env, argv[11], F32, Z(M) * d, false, &dy, fn, "dy"))
    return NULL;
  if (lc == NULL) dc = NULL;
  if (!cmi_lse_backward(x, y, N, M, d, diag, lr, lc, dr, dc, dx, dy)) return oom(env, fn);
  return NULL;
}

/** k [L] must be a non-decreasing count of started rows within [0, B], t0 its first nonzero
 *  step (L when none); returns Σ_{t>=t0} k[t] (the packed gate rows), or -1 after throwing. */
static int64_t packing(napi_env env, const int32_t *k, int L, int B, int t0, const char *fn) {
  int64_t rows = 0;
  int first = L;
  for (int t = 0; t < L; t++) {
    if (k[t] < 0 || k[t] > B || (t > 0 && k[t] < k[t - 1])) {
      napi_throw_range_error(env, NULL, "cmi_blas.gru: k must be a non-decreasing count of rows within [0, B]");
      return -1;
    }
    if (k[t] > 0 && first == L) first = t;
    if (t >= t0) rows += k[t];
  }
  if (first != t0) {
    char msg[120];
    snprintf(msg, sizeof msg, "cmi_blas.%s: t0 must be the first step with started rows (%d)", fn, first);
    napi_throw_range_error(env, NULL, msg);
    return -1;
  }
  return rows;
}

// gruForward(L, B, H, t0, k, xp, wh, bh | null, mask, states, gates); xp and mask packed
static napi_value gru_forward(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  int32_t s[4];
  void *k, *xp, *wh, *bh, *mask, *states, *gates;
  const char *fn = "gruForward";
  if (!args(env, info, 11, argv, fn) || !ints(env, argv, 4, s, fn)) return NULL;
  const int L = s[0], B = s[1], H = s[2], t0 = s[3];
  if (!cmi_view(env, argv[4], I32, Z(L), false, &k, fn, "k")) return NULL;
  int64_t rows = packing(env, k, L, B, t0, fn);
  if (rows < 0) return NULL;
  if (!cmi_view(env, argv[5], F32, Z(rows) * 3 * H, false, &xp, fn, "xp") ||
      !cmi_view(env, argv[6], F32, Z(H) * 3 * H, false, &wh, fn, "wh") || !cmi_view(env, argv[7], F32, Z(3) * H, true, &bh, fn, "bh") ||
      !cmi_view(env, argv[8], F32, Z(rows), false, &mask, fn, "mask") ||
      !cmi_view(env, argv[9], F32, Z(L) * B * H, false, &states, fn, "states") ||
      !cmi_view(env, argv[10], F32, Z(rows) * 4 * H, false, &gates, fn, "gates"))
    return NULL;
  if (!cmi_gru_forward(L, B, H, t0, k, xp, wh, bh, mask, states, gates)) return oom(env, fn);
  return NULL;
}

// gruBackward(L, B, H, t0, all, k, dy, wh, mask, states, gates, dxp, dwh, dbh)
static napi_value gru_backward(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  int32_t s[5];
  void *k, *dy, *wh, *mask, *states, *gates, *dxp, *dwh, *dbh;
  const char *fn = "gruBackward";
  if (!args(env, info, 14, argv, fn) || !ints(env, argv, 5, s, fn)) return NULL;
  const int L = s[0], B = s[1], H = s[2], t0 = s[3];
  const bool all = s[4] != 0;
  if (!cmi_view(env, argv[5], I32, Z(L), false, &k, fn, "k")) return NULL;
  int64_t rows = packing(env, k, L, B, t0, fn);
  if (rows < 0) return NULL;
  if (!cmi_view(env, argv[6], F32, all ? Z(L) * B * H : Z(B) * H, false, &dy, fn, "dy") ||
      !cmi_view(env, argv[7], F32, Z(H) * 3 * H, false, &wh, fn, "wh") ||
      !cmi_view(env, argv[8], F32, Z(rows), false, &mask, fn, "mask") ||
      !cmi_view(env, argv[9], F32, Z(L) * B * H, false, &states, fn, "states") ||
      !cmi_view(env, argv[10], F32, Z(rows) * 4 * H, false, &gates, fn, "gates") ||
      !cmi_view(env, argv[11], F32, Z(rows) * 3 * H, false, &dxp, fn, "dxp") ||
      !cmi_view(env, argv[12], F32, Z(H) * 3 * H, false, &dwh, fn, "dwh") ||
      !cmi_view(env, argv[13], F32, Z(3) * H, false, &dbh, fn, "dbh"))
    return NULL;
  if (!cmi_gru_backward(L, B, H, t0, k, all, dy, wh, mask, states, gates, dxp, dwh, dbh)) return oom(env, fn);
  return NULL;
}

// tanh(x, y): y = tanh(x) elementwise, same length.
static napi_value tanh_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *x, *y;
  size_t n;
  napi_typedarray_type type;
  const char *fn = "tanh";
  if (!args(env, info, 2, argv, fn) || !cmi_view(env, argv[0], F32, 0, false, &x, fn, "x")) return NULL;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &n, &x, NULL, NULL));
  if (!cmi_view(env, argv[1], F32, n, false, &y, fn, "y")) return NULL;
  cmi_tanh(x, y, n);
  return NULL;
}

// sumMiddle(outer, R, inner, x, out)
static napi_value sum_middle_js(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t s[3];
  void *x, *out;
  const char *fn = "sumMiddle";
  if (!args(env, info, 5, argv, fn) || !ints(env, argv, 3, s, fn)) return NULL;
  if (!cmi_view(env, argv[3], F32, Z(s[0]) * s[1] * s[2], false, &x, fn, "x") ||
      !cmi_view(env, argv[4], F32, Z(s[0]) * s[2], false, &out, fn, "out"))
    return NULL;
  cmi_sum_middle(x, out, s[0], s[1], s[2]);
  return NULL;
}

// biasAct(rows, n, relu, y, bias | null)
static napi_value bias_act_js(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t s[3];
  void *y, *bias;
  const char *fn = "biasAct";
  if (!args(env, info, 5, argv, fn) || !ints(env, argv, 3, s, fn)) return NULL;
  if (!cmi_view(env, argv[3], F32, Z(s[0]) * s[1], false, &y, fn, "y") || !cmi_view(env, argv[4], F32, Z(s[1]), true, &bias, fn, "bias"))
    return NULL;
  cmi_bias_act(y, bias, s[0], s[1], s[2] != 0);
  return NULL;
}

// segmentSum(rows, inner, segments, x, ids, out)
static napi_value segment_sum_js(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t s[3];
  void *x, *ids, *out;
  const char *fn = "segmentSum";
  if (!args(env, info, 6, argv, fn) || !ints(env, argv, 3, s, fn)) return NULL;
  if (!cmi_view(env, argv[3], F32, Z(s[0]) * s[1], false, &x, fn, "x") || !cmi_view(env, argv[4], I32, Z(s[0]), false, &ids, fn, "ids") ||
      !cmi_view(env, argv[5], F32, Z(s[2]) * s[1], false, &out, fn, "out"))
    return NULL;
  cmi_segment_sum(x, ids, s[0], s[1], s[2], out);
  return NULL;
}

static bool floats(napi_env env, napi_value *argv, int count, float *out, const char *fn) {
  for (int i = 0; i < count; i++) {
    double x;
    if (napi_get_value_double(env, argv[i], &x) != napi_ok) {
      char msg[120];
      snprintf(msg, sizeof msg, "cmi_blas.%s: argument %d must be a number", fn, i);
      napi_throw_type_error(env, NULL, msg);
      return false;
    }
    out[i] = (float)x; // rounded as TF.js rounds a scalar into a float32 tensor
  }
  return true;
}

// adam(n, b1, 1-b1, b2, 1-b2, sqrt(bc2), eps, lr/bc1, wd, p, m, v, g, outP, outM, outV); wd 0: none
static napi_value adam_js(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  int32_t n;
  float c[8];
  void *a[7];
  const char *fn = "adam";
  static const char *names[] = {"p", "m", "v", "g", "outP", "outM", "outV"};
  if (!args(env, info, 16, argv, fn) || !ints(env, argv, 1, &n, fn) || !floats(env, argv + 1, 8, c, fn)) return NULL;
  for (int i = 0; i < 7; i++)
    if (!cmi_view(env, argv[9 + i], F32, Z(n), false, &a[i], fn, names[i])) return NULL;
  cmi_adam_coef coef = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[7] > 0};
  cmi_adam(a[0], a[1], a[2], a[3], Z(n), coef, a[4], a[5], a[6]);
  return NULL;
}

// normalizeRows(rows, d, eps2, x, y)
static napi_value normalize_rows_js(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t s[2];
  float eps2;
  void *x, *y;
  const char *fn = "normalizeRows";
  if (!args(env, info, 5, argv, fn) || !ints(env, argv, 2, s, fn) || !floats(env, argv + 2, 1, &eps2, fn)) return NULL;
  if (!cmi_view(env, argv[3], F32, Z(s[0]) * s[1], false, &x, fn, "x") || !cmi_view(env, argv[4], F32, Z(s[0]) * s[1], false, &y, fn, "y"))
    return NULL;
  cmi_normalize_rows(x, y, Z(s[0]), Z(s[1]), eps2);
  return NULL;
}

// gatherRows(rows, inner, n, x, ids, out): -1, or the position of the first id outside [0, rows)
static napi_value gather_rows_js(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t s[3];
  void *x, *ids, *out;
  const char *fn = "gatherRows";
  if (!args(env, info, 6, argv, fn) || !ints(env, argv, 3, s, fn)) return NULL;
  if (!cmi_view(env, argv[3], F32, Z(s[0]) * s[1], false, &x, fn, "x") || !cmi_view(env, argv[4], I32, Z(s[2]), false, &ids, fn, "ids") ||
      !cmi_view(env, argv[5], F32, Z(s[2]) * s[1], false, &out, fn, "out"))
    return NULL;
  napi_value result;
  CHECK(napi_create_double(env, (double)cmi_gather_rows(x, Z(s[0]), Z(s[1]), ids, Z(s[2]), out), &result));
  return result;
}

// lseRows(R, C, x, lse | null, dy | null, out): out [R] log-sum-exps, or with lse and dy the
// gradient [R, C]
static napi_value lse_rows_js(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t s[2];
  void *x, *lse, *dy, *out;
  const char *fn = "lseRows";
  if (!args(env, info, 6, argv, fn) || !ints(env, argv, 2, s, fn)) return NULL;
  if (!cmi_view(env, argv[2], F32, Z(s[0]) * s[1], false, &x, fn, "x") || !cmi_view(env, argv[3], F32, Z(s[0]), true, &lse, fn, "lse") ||
      !cmi_view(env, argv[4], F32, Z(s[0]), lse == NULL, &dy, fn, "dy") ||
      !cmi_view(env, argv[5], F32, lse ? Z(s[0]) * s[1] : Z(s[0]), false, &out, fn, "out"))
    return NULL;
  cmi_lse_rows(x, Z(s[0]), Z(s[1]), lse, lse ? dy : NULL, out);
  return NULL;
}

// poolThreads(): threads the training kernels use.
static napi_value pool_threads_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_int32(env, pool_threads(), &out));
  return out;
}

napi_value cmi_train_register(napi_env env, napi_value exports) {
  const cmi_export fns[] = {{"moiForward", moi_forward}, {"moiBackward", moi_backward}, {"lseForward", lse_forward},
             {"lseBackward", lse_backward}, {"gruForward", gru_forward},
             {"gruBackward", gru_backward}, {"tanh", tanh_js},
             {"sumMiddle", sum_middle_js}, {"biasAct", bias_act_js},
             {"segmentSum", segment_sum_js}, {"adam", adam_js},
             {"normalizeRows", normalize_rows_js}, {"gatherRows", gather_rows_js}, {"lseRows", lse_rows_js},
             {"poolThreads", pool_threads_js}};
  CHECK(cmi_register(env, exports, fns, sizeof fns / sizeof fns[0]));
  return exports;
}
