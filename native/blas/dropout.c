// Dropout masks for models/ops/transformer.ts's hostDropout, drawn from the same sfc32 stream
// as data/rng.ts (Rng.fillDropoutMask): DSSRec draws ~50M of them a step, and the JS loop
// cost ~10 ns a draw against ~4 here. The state is read from and written back to a Uint32Array
// [a, b, c, d], so the stream continues exactly where the JS generator would.
#include "napi_check.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

// dropoutMask(state Uint32Array[4], threshold, scale, out Float32Array):
// out[i] = u_i < threshold ? 0 : scale for the next out.length draws u_i.
static napi_value dropout_mask(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = 4;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type ts, to;
  size_t ns = 0, n = 0;
  void *sp = NULL, *op = NULL;
  bool a = false, b = false;
  double threshold, scale;
  if (argc != 4 || napi_is_typedarray(env, argv[0], &a) != napi_ok || !a || napi_is_typedarray(env, argv[3], &b) != napi_ok || !b ||
      napi_get_typedarray_info(env, argv[0], &ts, &ns, &sp, NULL, NULL) != napi_ok || ts != napi_uint32_array || ns != 4 ||
      napi_get_typedarray_info(env, argv[3], &to, &n, &op, NULL, NULL) != napi_ok || to != napi_float32_array ||
      napi_get_value_double(env, argv[1], &threshold) != napi_ok || napi_get_value_double(env, argv[2], &scale) != napi_ok) {
    napi_throw_type_error(env, NULL, "cmi_blas.dropoutMask: expected (Uint32Array(4) state, threshold, scale, Float32Array out)");
    return NULL;
  }
  uint32_t *st = sp;
  float *out = op;
  uint32_t sa = st[0], sb = st[1], sc = st[2], sd = st[3];
  const float s = (float)scale;
  for (size_t i = 0; i < n; i++) {
    const uint32_t t = sa + sb + sd;
    sd += 1;
    sa = sb ^ (sb >> 9);
    sb = sc + (sc << 3);
    sc = ((sc << 21) | (sc >> 11)) + t;
    out[i] = (double)t < threshold ? 0.0f : s;
  }
  st[0] = sa;
  st[1] = sb;
  st[2] = sc;
  st[3] = sd;
  return NULL;
}

// Called from blas.c's init.
napi_status register_dropout(napi_env env, napi_value exports) {
  napi_value f;
  napi_status s = napi_create_function(env, "dropoutMask", NAPI_AUTO_LENGTH, dropout_mask, NULL, &f);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, exports, "dropoutMask", f);
}
