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

// A Buffer over `len` bytes at `p`, handed to `fin(env, p, hint)` when collected; or NULL where
// the runtime allows no external buffers (a V8 sandbox), the exception cleared: `p` is then
// still the caller's.
static inline napi_value external_buffer(napi_env env, void* p, size_t len, napi_finalize fin, void* hint) {
  napi_value buf;
  if (napi_create_external_buffer(env, len, p, fin, hint, &buf) == napi_ok) return buf;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
  }
  return NULL;
}

#endif
