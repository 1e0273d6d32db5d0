// Vectorisable float exp and tanh (Cephes's polynomials, max error ~2 ulp) and the
// target_clones attribute of the hot loops, shared by train.c and gru.c.
#ifndef CMI_FASTMATH_H
#define CMI_FASTMATH_H
#include <math.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// x86-64-v4 (AVX-512) and v3 (AVX2 + FMA) are dispatched on the processor's features. Not
// "arch=skylake-avx512": that clone is chosen by CPU model and never runs on newer Xeons.
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif
#define INLINE static inline __attribute__((always_inline))

/** exp(x) in float, Cephes's polynomial (max error ~2 ulp), vectorisable (no table, no branch).
 *  Below -87.33 it is 0, as expf underflows; above 88.37 it is inf. */
INLINE float fast_expf(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365447505531f;
  float xx = x > hi ? hi : x;
  xx = xx < lo ? lo : xx;
  // Round to nearest by the 1.5 * 2^23 trick (no floorf: it does not vectorise on baseline x86).
  float fx = (xx * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xx - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  union {
    int32_t i;
    float f;
  } scale;
  scale.i = ((int32_t)fx + 127) << 23;
  y *= scale.f;
  return x < lo ? 0.0f : y;
}

/** tanh(x) in float, Cephes's tanhf (max error ~2 ulp), vectorisable. */
INLINE float fast_tanhf(float x) {
  const float ax = fabsf(x), z = x * x;
  // |x| < 0.625: the odd polynomial; beyond, 1 - 2 / (exp(2|x|) + 1) with the sign of x.
  const float p =
      ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
       3.33332819422e-1f) * z * x + x;
  float q = 1.0f - 2.0f / (fast_expf(2.0f * ax) + 1.0f);
  q = x < 0 ? -q : q;
  return ax < 0.625f ? p : q;
}

#endif
