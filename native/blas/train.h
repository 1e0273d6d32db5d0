// Fused training kernels (train.c, gru.c) and their Node-API bindings (train_api.c).
#ifndef CMI_TRAIN_H
#define CMI_TRAIN_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** val[b, c] = max over l of u[b, l]·items[c]; idx[b, c] = the first l reaching it.
 *  u [B, m, d], items [C, d]. false: out of memory. */
bool cmi_moi_forward(const float *u, const float *items, int B, int m, int d, int C, float *val, int32_t *idx);
/** Adds the gradient of val (dy [B, C]) into du [B, m, d] and ditems [C, d] (zeroed). */
void cmi_moi_backward(const float *u, const float *items, const int32_t *idx, const float *dy, int B, int m, int d,
                      int C, float *du, float *ditems);
/** Row (and, when lse_c is not NULL, column) log-sum-exps of x yᵀ (-1e9 on the diagonal with
 *  diag), x [N, d], y [M, d]. false: out of memory. */
bool cmi_lse_forward(const float *x, const float *y, int N, int M, int d, bool diag, float *lse_r, float *lse_c);
/** dx [N, d], dy [M, d] (zeroed) from the gradients dr [N] (and dc [M]) of those log-sum-exps. */
bool cmi_lse_backward(const float *x, const float *y, int N, int M, int d, bool diag, const float *lse_r,
                      const float *lse_c, const float *dr, const float *dc, float *dx, float *dy);

/** The GRU recurrence over rows sorted by start column (k[t]: rows started by step t, t0: the
 *  first step with any), on R = Σ_{t>=t0} k[t] packed rows (step t's i-th started row is row
 *  Σ_{t0<=s<t} k[s] + i): xp [R, 3H] input projections, mask [R]; wh [H, 3H], bh [3H] or NULL.
 *  Writes states [L, B, H] (zeroed; rows not started stay 0) and gates [R, 4H]. */
bool cmi_gru_forward(int L, int B, int H, int t0, const int32_t *k, const float *xp, const float *wh, const float *bh,
                     const float *mask, float *states, float *gates);
/** Backpropagation through time: dy [L, B, H] (all) or [B, H] (last state only) -> dxp
 *  [R, 3H] (packed), dwh [H, 3H], dbh [3H] (all zeroed by the caller). */
bool cmi_gru_backward(int L, int B, int H, int t0, const int32_t *k, bool all, const float *dy, const float *wh,
                      const float *mask, const float *states, const float *gates, float *dxp, float *dwh, float *dbh);

/** y = tanh(x), n elements (y may be x). */
void cmi_tanh(const float *x, float *y, size_t n);

/** out [outer, inner] (zeroed) = the sum over the middle axis of x [outer, R, inner]. */
void cmi_sum_middle(const float *x, float *out, size_t outer, size_t R, size_t inner);
/** y [rows, n] += bias [n] (when not NULL), then max(y, 0) with relu; in place. */
void cmi_bias_act(float *y, const float *bias, size_t rows, size_t n, bool relu);

/** out [segments, inner] (zeroed) += rows of x [rows, inner] at ids [rows]; others dropped. */
void cmi_segment_sum(const float *x, const int32_t *ids, size_t rows, size_t inner, size_t segments, float *out);

/** Adam's scalars, float32 as the composition's scalar tensors: b1, 1 - b1, b2, 1 - b2,
 *  sqrt(1 - b2^t), eps, lr / (1 - b1^t), the weight decay (added to g only when decay). */
typedef struct {
  float b1, omb1, b2, omb2, sqrt_bc2, eps, step_size, wd;
  bool decay;
} cmi_adam_coef;
/** One Adam update of n parameters p with moments m, v and gradient g into out_* (adam.c). */
void cmi_adam(const float *p, const float *m, const float *v, const float *g, size_t n, cmi_adam_coef c, float *out_p,
              float *out_m, float *out_v);
/** y [rows, d] = x · rsqrt(max(Σ_j x², eps2)) per row (y may be x). */
void cmi_normalize_rows(const float *x, float *y, size_t rows, size_t d, float eps2);

/** out [n, inner] = rows ids[i] of x [rows, inner] (adam.c); -1, or the first index i whose id
 *  is outside [0, rows) (nothing written then). */
int64_t cmi_gather_rows(const float *x, size_t rows, size_t inner, const int32_t *ids, size_t n, float *out);

/** lse == NULL: out [R] = the log-sum-exp of each row of x [R, C]; else out [R, C] = dy[r] ·
 *  exp(x - lse[r]), its gradient. */
void cmi_lse_rows(const float *x, size_t R, size_t C, const float *lse, const float *dy, float *out);

/** Adds the training kernels to the addon's exports. */
napi_value cmi_train_register(napi_env env, napi_value exports);
#endif
