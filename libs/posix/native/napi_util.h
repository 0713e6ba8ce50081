// Small helpers shared by the addon's C files.
#ifndef PROSE_NAPI_UTIL_H
#define PROSE_NAPI_UTIL_H
#include <node_api.h>

// A JS number.
static inline napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

// Throws a TypeError; returns NULL, what a napi_callback returns after a throw.
static inline napi_value type_error(napi_env env, const char* msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

#endif
