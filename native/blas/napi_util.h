// Shared helpers of the addon's Node-API bindings (napi_util.c).
#ifndef CMI_NAPI_UTIL_H
#define CMI_NAPI_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

/** A typed array of type `want` with at least `need` elements; NULL (and true) for JS null or
 *  undefined when `optional`. Throws (naming `fn` and `name`) and returns false otherwise. */
bool cmi_view(napi_env env, napi_value v, napi_typedarray_type want, size_t need, bool optional, void **data,
              const char *fn, const char *name);

typedef struct {
  const char *name;
  napi_callback cb;
} cmi_export;

/** Adds each function of `fns` to `exports` under its name. */
napi_status cmi_register(napi_env env, napi_value exports, const cmi_export *fns, size_t count);

#endif
