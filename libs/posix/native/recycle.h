// recycle.c's part of the addon's exports (see recycle.c).
#ifndef PROSE_RECYCLE_H
#define PROSE_RECYCLE_H
#include <node_api.h>
void recycle_init(napi_env env, napi_value exports);
#endif
