// filemap.c's part of the addon's exports (see filemap.c).
#ifndef PROSE_FILEMAP_H
#define PROSE_FILEMAP_H
#include <node_api.h>
void filemap_init(napi_env env, napi_value exports);
#endif
