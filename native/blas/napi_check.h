// The addon's one way to bail out of a Node-API call that failed: throw and return.
#ifndef CMI_NAPI_CHECK_H
#define CMI_NAPI_CHECK_H
#include <node_api.h>

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, NULL, "cmi_blas: N-API call failed");      \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

#endif
