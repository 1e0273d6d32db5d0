// What every Node-API binding of the addon does the same way: check a typed-array argument
// (type and length, so a wrong call throws instead of writing outside an array), and add a
// table of functions to the exports.
#include "napi_util.h"
#include <stdio.h>

/** A typed array of the given type with at least `need` elements; NULL (and `ok` true) for
 *  JS null when `optional`. Throws and returns false otherwise. */
bool cmi_view(napi_env env, napi_value v, napi_typedarray_type want, size_t need, bool optional, void **data,
              const char *fn, const char *name) {
  napi_valuetype t;
  if (optional && napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined)) {
    *data = NULL;
    return true;
  }
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length;
  char msg[160];
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, &length, data, NULL, NULL) != napi_ok || type != want) {
    snprintf(msg, sizeof msg, "cmi_blas.%s: %s must be a%s", fn, name,
             want == napi_float32_array ? " Float32Array" : "n Int32Array");
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  if (length < need) {
    snprintf(msg, sizeof msg, "cmi_blas.%s: %s holds %zu elements, the shapes need %zu", fn, name, length, need);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  return true;
}

napi_status cmi_register(napi_env env, napi_value exports, const cmi_export *fns, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value f;
    napi_status s = napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f);
    if (s != napi_ok) return s;
    s = napi_set_named_property(env, exports, fns[i].name, f);
    if (s != napi_ok) return s;
  }
  return napi_ok;
}
