// filemap: file memory that only the kernel reads (src/filemap.ts says why and what uses it).
//
//   reserveArena(length)             -> a Buffer over `length` bytes of address space, reserved
//                                       (no access, no memory) for mapInto | -errno; unmapped,
//                                       with whatever is mapped in it, when it is collected
//   mapInto(arena, at, fd, offset, length) -> 0 | -errno: maps `length` bytes of `fd` from
//                                       `offset` read-only (MAP_SHARED) over arena[at, at+length),
//                                       replacing what was there; at, offset and length are
//                                       multiples of the page size. The mapping may reach past
//                                       the end of the file
//   unmapFrom(arena, at, length)     -> 0 | -errno: arena[at, at+length) reserved again (drops
//                                       the file)
//   residentPages(buf, start, length) -> 1 when every page under buf[start, start+length) is in
//                                       memory, 0 when one is not | -errno (mincore(2))
//   copyMapped(buf, start, length)   -> [Buffer, n]: a new Buffer with those bytes, copied by the
//                                       kernel (process_vm_readv(2) on this process): n bytes
//                                       could be read, the rest (a file truncated under the
//                                       mapping) are zeros | -errno. User code never touches the
//                                       mapping, so a truncated file is an error, not a SIGBUS
//
// Failures of the system calls are negative errno numbers; bad argument types throw.

#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "filemap.h"
#include "napi_util.h"

// Address space reserved: no access, nothing committed.
static void* reserve(void* at, size_t len, int fixed) {
  return mmap(at, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (fixed ? MAP_FIXED : 0), -1, 0);
}

static void arena_finalize(napi_env env, void* data, void* hint) {
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value ReserveArena(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int64_t len;
  if (argc < 1 || napi_get_value_int64(env, a[0], &len) != napi_ok || len <= 0 || len % sysconf(_SC_PAGESIZE) != 0) {
    return type_error(env, "reserveArena(length: a positive multiple of the page size) expected");
  }
  void* p = reserve(NULL, (size_t)len, 0);
  if (p == MAP_FAILED) return num(env, -errno);
  napi_value buf = external_buffer(env, p, (size_t)len, arena_finalize, (void*)(uintptr_t)len);
  if (buf == NULL) {
    munmap(p, (size_t)len);
    return num(env, -ENOTSUP);
  }
  return buf;
}

// The bytes buf[start, start+len) from arguments `buf`, `start`, `len`; 0 (and a TypeError with
// `usage`) when buf is not a Uint8Array or the range is not within it.
static int buf_range(napi_env env, napi_value buf, napi_value start, napi_value len, const char* usage, uint8_t** at, size_t* n) {
  bool ok = false;
  int64_t off, cnt;
  void* data;
  size_t blen;
  napi_typedarray_type ty;
  if (napi_is_typedarray(env, buf, &ok) != napi_ok || !ok || napi_get_value_int64(env, start, &off) != napi_ok ||
      napi_get_value_int64(env, len, &cnt) != napi_ok) {
    type_error(env, usage);
    return 0;
  }
  napi_get_typedarray_info(env, buf, &ty, &blen, &data, NULL, NULL);
  if (ty != napi_uint8_array || off < 0 || cnt < 0 || (uint64_t)off + (uint64_t)cnt > blen) {
    type_error(env, usage);
    return 0;
  }
  *at = (uint8_t*)data + off;
  *n = (size_t)cnt;
  return 1;
}

// The arena and a non-empty, page-aligned range of it from arguments a[0], a[ia], a[il]; 0 (and a TypeError) when they are not that.
static int get_arena_range(napi_env env, napi_value* a, int ia, int il, const char* usage, uint8_t** at, size_t* len) {
  if (!buf_range(env, a[0], a[ia], a[il], usage, at, len)) return 0;
  long page = sysconf(_SC_PAGESIZE);
  if (*len == 0 || (uintptr_t)*at % page != 0 || *len % page != 0) {
    type_error(env, usage);
    return 0;
  }
  return 1;
}

static napi_value MapInto(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  const char* usage = "mapInto(arena, at, fd, offset, length), page-aligned and within the arena, expected";
  int32_t fd;
  int64_t off;
  uint8_t* at;
  size_t len;
  if (argc < 5 || napi_get_value_int32(env, a[2], &fd) != napi_ok || napi_get_value_int64(env, a[3], &off) != napi_ok || off < 0) {
    return type_error(env, usage);
  }
  if (!get_arena_range(env, a, 1, 4, usage, &at, &len)) return NULL;
  if (off % sysconf(_SC_PAGESIZE) != 0) return num(env, -EINVAL);
  void* p = mmap(at, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
  if (p == MAP_FAILED) {
    int err = errno;
    // A failed MAP_FIXED may have unmapped the range: reserve it again before anything else can take it.
    reserve(at, len, 1);
    return num(env, -err);
  }
  return num(env, 0);
}

static napi_value UnmapFrom(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  uint8_t* at;
  size_t len;
  if (argc < 3 || !get_arena_range(env, a, 1, 2, "unmapFrom(arena, at, length), page-aligned and within the arena, expected", &at, &len)) return NULL;
  return num(env, reserve(at, len, 1) == MAP_FAILED ? -errno : 0);
}

// The (buf, start, length) arguments; 0 (and a TypeError thrown) when they are not that or do not fit buf.
static int get_range(napi_env env, napi_callback_info info, const char* usage, uint8_t** at, size_t* n) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 3) {
    type_error(env, usage);
    return 0;
  }
  return buf_range(env, a[0], a[1], a[2], usage, at, n);
}

static napi_value ResidentPages(napi_env env, napi_callback_info info) {
  uint8_t* at;
  size_t n;
  if (!get_range(env, info, "residentPages(buf: Uint8Array, start, length) within buf expected", &at, &n)) return NULL;
  if (n == 0) return num(env, 1);
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t first = (uintptr_t)at & ~(page - 1);
  size_t pages = ((uintptr_t)at + n - first + page - 1) / page;
  unsigned char small[512];
  unsigned char* vec = pages <= sizeof small ? small : malloc(pages);
  if (vec == NULL) return num(env, -ENOMEM);
  int r = mincore((void*)first, pages * page, vec);
  int all = 1;
  if (r == 0) {
    for (size_t i = 0; i < pages; i++) {
      if ((vec[i] & 1) == 0) {
        all = 0;
        break;
      }
    }
  }
  int err = errno;
  if (vec != small) free(vec);
  return num(env, r < 0 ? -err : all);
}

static napi_value CopyMapped(napi_env env, napi_callback_info info) {
  uint8_t* at;
  size_t n;
  if (!get_range(env, info, "copyMapped(buf: Uint8Array, start, length) within buf expected", &at, &n)) return NULL;
  void* out;
  napi_value buf;
  if (napi_create_buffer(env, n, &out, &buf) != napi_ok) return NULL;
  size_t done = 0;
  while (done < n) {
    struct iovec local = {(uint8_t*)out + done, n - done};
    struct iovec remote = {at + done, n - done};
    ssize_t k = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EFAULT) break; // unreadable from here on: zeros
    if (k < 0) return num(env, -errno);
    if (k == 0) break;
    done += (size_t)k;
  }
  if (done < n) memset((uint8_t*)out + done, 0, n - done);
  napi_value pair, count;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, buf);
  count = num(env, (double)done);
  napi_set_element(env, pair, 1, count);
  return pair;
}

void filemap_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"reserveArena", NULL, ReserveArena, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mapInto", NULL, MapInto, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unmapFrom", NULL, UnmapFrom, NULL, NULL, NULL, napi_enumerable, NULL},
    {"residentPages", NULL, ResidentPages, NULL, NULL, NULL, napi_enumerable, NULL},
    {"copyMapped", NULL, CopyMapped, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
