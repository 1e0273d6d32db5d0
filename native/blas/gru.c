// The GRU recurrence of models/layers.ts (`recurrence`) as two native calls, forward and
// backward through time, instead of a dozen TF.js ops per time step. Rows are sorted by the
// column their history starts at, so step t updates only its first k[t] rows (the ones that have
// started; the others hold an exact zero state). Inputs and their gradients are packed the same
// way: row off[t] + i is row i of step t, so padding is neither projected nor stored. PyTorch's equations, gates in the order r, z, n:
//   r = σ(x_r + h W_hr + b_hr), z = σ(x_z + h W_hz + b_hz), n = tanh(x_n + r (h W_hn + b_hn))
//   h' = h + mask (n + z (h - n) - h)
// exp and tanh are libm's here (the gates are a small part of the step: valid rows only).
#include "train.h"
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

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

bool cmi_gru_forward(int L, int B, int H, int t0, const int32_t *k, const float *xp, const float *wh, const float *bh,
                     const float *mask, float *states, float *gates) {
  const int G = 3 * H;
  size_t *off = packed_offsets(k, L, t0);
  float *hp = malloc(sizeof(float) * ((size_t)B * G + 1));
  if (!off || !hp) {
    free(off), free(hp);
    return false;
  }
  for (int t = t0; t < L; t++) {
    const int kt = k[t];
    if (kt == 0) continue;
    const float *prev = t > t0 ? states + (size_t)(t - 1) * B * H : NULL; // rows >= k[t-1] are 0
    if (prev && H > 0) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kt, G, H, 1.0f, prev, H, wh, G, 0.0f, hp, G);
    } else {
      memset(hp, 0, sizeof(float) * (size_t)kt * G);
    }
    float *h = states + (size_t)t * B * H;
    float *g = gates + off[t] * 4 * H;
    for (int i = 0; i < kt; i++) {
      const float *x = xp + (off[t] + i) * G;
      const float *hpi = hp + (size_t)i * G;
      const float m = mask[off[t] + i];
      float *gi = g + (size_t)i * 4 * H; // r, z, n, h W_hn + b_hn
      for (int j = 0; j < H; j++) {
        const float p = prev ? prev[(size_t)i * H + j] : 0.0f;
        const float hr = hpi[j] + (bh ? bh[j] : 0.0f);
        const float hz = hpi[H + j] + (bh ? bh[H + j] : 0.0f);
        const float hn = hpi[2 * H + j] + (bh ? bh[2 * H + j] : 0.0f);
        const float r = sigmoidf(x[j] + hr);
        const float z = sigmoidf(x[H + j] + hz);
        const float n = tanhf(x[2 * H + j] + r * hn);
        const float next = n + z * (p - n);
        h[(size_t)i * H + j] = p + m * (next - p);
        gi[j] = r, gi[H + j] = z, gi[2 * H + j] = n, gi[3 * H + j] = hn;
      }
    }
  }
  free(off), free(hp);
  return true;
}

bool cmi_gru_backward(int L, int B, int H, int t0, const int32_t *k, bool all, const float *dy, const float *wh,
                      const float *mask, const float *states, const float *gates, float *dxp, float *dwh, float *dbh) {
  const int G = 3 * H;
  if (t0 >= L) return true;
  size_t *off = packed_offsets(k, L, t0);
  float *dhp = malloc(sizeof(float) * (off ? off[L] * G + 1 : 1)); // every step's d(h W_h + b_h)
  float *dh = malloc(sizeof(float) * ((size_t)B * H + 1));          // d state, rows [0, k[t])
  float *dprev = malloc(sizeof(float) * ((size_t)B * H + 1));
  if (!off || !dhp || !dh || !dprev) {
    free(off), free(dhp), free(dh), free(dprev);
    return false;
  }
  memcpy(dh, all ? dy + (size_t)(L - 1) * B * H : dy, sizeof(float) * (size_t)k[L - 1] * H);
  for (int t = L - 1; t >= t0; t--) {
    const int kt = k[t];
    const float *prev = t > t0 ? states + (size_t)(t - 1) * B * H : NULL;
    const float *g = gates + off[t] * 4 * H;
    float *dhpt = dhp + off[t] * G;
    for (int i = 0; i < kt; i++) {
      const float m = mask[off[t] + i];
      const float *gi = g + (size_t)i * 4 * H;
      float *dx = dxp + (off[t] + i) * G;
      float *dp = dhpt + (size_t)i * G;
      for (int j = 0; j < H; j++) {
        const float r = gi[j], z = gi[H + j], n = gi[2 * H + j], hn = gi[3 * H + j];
        const float p = prev ? prev[(size_t)i * H + j] : 0.0f;
        const float d = dh[(size_t)i * H + j];
        const float dNext = d * m;
        const float dPreN = dNext * (1.0f - z) * (1.0f - n * n);
        const float dPreR = dPreN * hn * (r * (1.0f - r));
        const float dPreZ = dNext * (p - n) * (z * (1.0f - z));
        dx[j] = dPreR, dx[H + j] = dPreZ, dx[2 * H + j] = dPreN;
        dp[j] = dPreR, dp[H + j] = dPreZ, dp[2 * H + j] = dPreN * r;
        dprev[(size_t)i * H + j] = d - dNext + dNext * z;
      }
    }
    if (t == t0) break; // rows starting at t0 had a constant zero state before it
    // d prev += d hp · W_hᵀ, then the state gradient of step t-1 (its rows [0, k[t-1])).
    if (kt > 0 && H > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kt, H, G, 1.0f, dhpt, G, wh, G, 1.0f, dprev, H);
    const int kp = k[t - 1];
    const float *up = all ? dy + (size_t)(t - 1) * B * H : NULL;
    for (size_t q = 0; q < (size_t)kp * H; q++) dh[q] = dprev[q] + (up ? up[q] : 0.0f);
  }
  // W_h's and b_h's gradients sum over the steps: prev_tᵀ · dhp_t (prev is 0 at t0).
  for (int t = t0 + 1; t < L; t++) {
    if (k[t] == 0 || H == 0) continue;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, G, k[t], 1.0f, states + (size_t)(t - 1) * B * H, H,
                dhp + off[t] * G, G, 1.0f, dwh, G);
  }
  for (size_t q = 0; q < off[L]; q++)
    for (int j = 0; j < G; j++) dbh[j] += dhp[q * G + j];
  free(off), free(dhp), free(dh), free(dprev);
  return true;
}
