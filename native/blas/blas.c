// Single-precision matrix products for the pure TF.js backends, through the system's OpenBLAS.
// TF.js's wasm matMul runs on one core at a fraction of its speed (docs/engine.md); the
// BatchMatMul kernel hands its operands here instead, so every model gets it unchanged.
// Node-API only (no node-addon-api), so the addon has no npm dependency.
#include <node_api.h>
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pool.h"
#include "train.h"
#include "napi_check.h"

static bool float32_view(napi_env env, napi_value v, float **data, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type type;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, NULL, NULL) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = (float *)ptr;
  return true;
}

// sgemm(transA, transB, batch, m, n, k, a, strideA, b, strideB, c): for each i < batch,
// c[i] (m x n, row-major) = op(a[i]) op(b[i]) where op(a) is m x k and op(b) is k x n.
// A stride of 0 broadcasts that operand over the batch.
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, NULL, "cmi_blas.sgemm: expected 11 arguments");
    return NULL;
  }
  bool ta, tb;
  int64_t batch, m, n, k, sa, sb;
  CHECK(napi_get_value_bool(env, argv[0], &ta));
  CHECK(napi_get_value_bool(env, argv[1], &tb));
  CHECK(napi_get_value_int64(env, argv[2], &batch));
  CHECK(napi_get_value_int64(env, argv[3], &m));
  CHECK(napi_get_value_int64(env, argv[4], &n));
  CHECK(napi_get_value_int64(env, argv[5], &k));
  CHECK(napi_get_value_int64(env, argv[7], &sa));
  CHECK(napi_get_value_int64(env, argv[9], &sb));
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!float32_view(env, argv[6], &a, &la) || !float32_view(env, argv[8], &b, &lb) ||
      !float32_view(env, argv[10], &c, &lc)) {
    napi_throw_type_error(env, NULL, "cmi_blas.sgemm: a, b and c must be Float32Arrays");
    return NULL;
  }
  if (batch < 1 || m < 0 || n < 0 || k < 0 || sa < 0 || sb < 0 ||
      (size_t)((batch - 1) * sa + m * k) > la || (size_t)((batch - 1) * sb + k * n) > lb ||
      (size_t)(batch * m * n) > lc) {
    napi_throw_range_error(env, NULL, "cmi_blas.sgemm: shapes do not fit the arrays");
    return NULL;
  }
  if (m == 0 || n == 0) return NULL;
  const int lda = ta ? (int)m : (int)k, ldb = tb ? (int)k : (int)n;
  for (int64_t i = 0; i < batch; i++) {
    float *ci = c + i * m * n;
    if (k == 0) {
      for (int64_t j = 0; j < m * n; j++) ci[j] = 0.0f;
      continue;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f, a + i * sa, lda, b + i * sb, ldb, 0.0f, ci, (int)n);
  }
  return NULL;
}

// info(): "OpenBLAS <config>, core <name>, <n> threads", for the run's device line.
static napi_value blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  char text[512];
  snprintf(text, sizeof text, "%s; core %s; %d thread%s", openblas_get_config(), openblas_get_corename(),
           openblas_get_num_threads(), openblas_get_num_threads() == 1 ? "" : "s");
  napi_value out;
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out));
  return out;
}

// setThreads(n): the number of threads OpenBLAS may use from now on.
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_type_error(env, NULL, "cmi_blas.setThreads: expected a positive integer");
    return NULL;
  }
  openblas_set_num_threads(n);
  pool_set_threads(n); // the training kernels follow the products' thread count
  return NULL;
}

// retrieve.c: the fused top-K retrieval kernel.
napi_status register_retrieve(napi_env env, napi_value exports);
// norm.c: the fused layer norm.
napi_status register_norm(napi_env env, napi_value exports);
// dropout.c: dropout masks from the Rng stream.
napi_status register_dropout(napi_env env, napi_value exports);

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(register_retrieve(env, exports));
  CHECK(register_norm(env, exports));
  CHECK(register_dropout(env, exports));
  CHECK(napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, sgemm, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "sgemm", fn));
  CHECK(napi_create_function(env, "info", NAPI_AUTO_LENGTH, blas_info, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "info", fn));
  CHECK(napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, set_threads, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "setThreads", fn));
  return cmi_train_register(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
