// sockio.c's part of the addon's exports (see sockio.c).
#ifndef PROSE_SOCKIO_H
#define PROSE_SOCKIO_H
#include <node_api.h>
void sockio_init(napi_env env, napi_value exports);
#endif
