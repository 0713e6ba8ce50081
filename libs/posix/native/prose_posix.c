// prose_posix: the few Linux calls Node does not offer and the storage export needs.
//
//   getxattr(target, name, nofollow)          -> Buffer | -errno
//   listxattr(target, nofollow)               -> Buffer (NUL-separated names) | -errno
//   setxattr(target, name, value, flags, nofollow) -> 0 | -errno
//   removexattr(target, name, nofollow)       -> 0 | -errno
//   getdents(fd, buf)                         -> bytes of linux_dirent64 records | 0 at end | -errno
//   readdir(fd)                               -> [names joined by "/", BigUint64Array d_ino, Uint8Array d_type,
//                                                 Uint16Array name lengths in bytes] | -errno
//   readdirEncoded(fd, topLo, topHi, first[, prefix]) -> [Buffer of 9P2000.L dirents (after prefix), Uint32Array ends, Uint32Array
//                                                DT_UNKNOWN indices] | -errno (-EILSEQ: a name not UTF-8)
//   pwritePieces(fd, buf, offset, piece, cb)  -> undefined; in the thread pool, writes buf at offset
//                                                in pwrite(2) calls of at most `piece` bytes, then
//                                                cb(errno or 0, bytes written) on the event loop
//   openat(dirfd, name, flags, mode)          -> descriptor | -errno (O_CLOEXEC added, as Node does)
//   unlinkat(dirfd, name, flags)              -> 0 | -errno (flags: AT_REMOVEDIR for a directory)
//   mkdirat(dirfd, name, mode)                -> 0 | -errno
//   statx(dirfd, name, flags, out)            -> 0 | -errno; the status into Float64Array `out` (src/stat.ts)
//   sockRead, sockWrite, sockWritev, sockShutdown, dupFd, watchFd, watchSet, watchClose: see sockio.c
//   reserveArena, mapInto, unmapFrom, residentPages, copyMapped: see filemap.c
//
// `target` is a path (string) or an open descriptor (number: the f* call). With a path,
// `nofollow` picks the l* call. Failures of the system call come back as negative errno
// numbers, never as exceptions: the TypeScript side decides what is an error. Arguments of the
// wrong type throw a TypeError. Nothing outlives a call but a pwritePieces job (until its
// callback, holding the Buffer and the callback).

#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "napi_util.h"
#include "filemap.h"
#include "recycle.h"
#include "sockio.h"

// Linux's limits: XATTR_SIZE_MAX and XATTR_LIST_MAX (linux/limits.h), XATTR_NAME_MAX.
#define VALUE_MAX 65536
#define NAME_MAX_ 255

typedef struct {
  int is_fd;
  int fd;
  char path[4096];
} Target;


// Reads a path or descriptor argument; returns 0 (and throws) on a bad one.
static int get_target(napi_env env, napi_value v, Target* t) {
  napi_valuetype ty;
  napi_typeof(env, v, &ty);
  if (ty == napi_number) {
    int32_t fd;
    napi_get_value_int32(env, v, &fd);
    t->is_fd = 1;
    t->fd = fd;
    return 1;
  }
  if (ty == napi_string) {
    size_t len;
    napi_get_value_string_utf8(env, v, t->path, sizeof t->path, &len);
    if (len >= sizeof t->path - 1 || strlen(t->path) != len) {
      type_error(env, "path too long or containing NUL");
      return 0;
    }
    t->is_fd = 0;
    return 1;
  }
  type_error(env, "path or descriptor expected");
  return 0;
}

static int get_name(napi_env env, napi_value v, char* out) {
  napi_valuetype ty;
  napi_typeof(env, v, &ty);
  if (ty != napi_string) {
    type_error(env, "attribute name expected");
    return 0;
  }
  size_t len;
  napi_get_value_string_utf8(env, v, out, NAME_MAX_ + 2, &len);
  if (len > NAME_MAX_ || strlen(out) != len) {
    // Too long for the kernel: let it say so (ERANGE), as the system call would.
    out[0] = 0;
    return -1;
  }
  return 1;
}

static int get_bool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

// Calls get or list into a VALUE_MAX buffer (one system call), then copies the bytes out.
static napi_value read_attr(napi_env env, const Target* t, const char* name, int nofollow) {
  char* buf = malloc(VALUE_MAX);
  if (buf == NULL) return num(env, -ENOMEM);
  ssize_t n;
  if (name != NULL) {
    n = t->is_fd ? fgetxattr(t->fd, name, buf, VALUE_MAX)
        : nofollow ? lgetxattr(t->path, name, buf, VALUE_MAX) : getxattr(t->path, name, buf, VALUE_MAX);
  } else {
    n = t->is_fd ? flistxattr(t->fd, buf, VALUE_MAX)
        : nofollow ? llistxattr(t->path, buf, VALUE_MAX) : listxattr(t->path, buf, VALUE_MAX);
  }
  if (n < 0) {
    int e = errno;
    free(buf);
    return num(env, -e);
  }
  napi_value out;
  void* data;
  napi_create_buffer_copy(env, (size_t)n, buf, &data, &out);
  free(buf);
  return out;
}

static napi_value GetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  Target t;
  char name[NAME_MAX_ + 2];
  if (!get_target(env, a[0], &t)) return NULL;
  int ok = get_name(env, a[1], name);
  if (ok == 0) return NULL;
  if (ok < 0) return num(env, -ERANGE);
  return read_attr(env, &t, name, get_bool(env, a[2]));
}

static napi_value ListXattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  Target t;
  if (!get_target(env, a[0], &t)) return NULL;
  return read_attr(env, &t, NULL, get_bool(env, a[1]));
}

static napi_value SetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  Target t;
  char name[NAME_MAX_ + 2];
  if (!get_target(env, a[0], &t)) return NULL;
  int ok = get_name(env, a[1], name);
  if (ok == 0) return NULL;
  if (ok < 0) return num(env, -ERANGE);
  bool isbuf = false;
  napi_is_buffer(env, a[2], &isbuf);
  if (!isbuf) return type_error(env, "value Buffer expected");
  void* data;
  size_t len;
  napi_get_buffer_info(env, a[2], &data, &len);
  int32_t flags = 0;
  if (napi_get_value_int32(env, a[3], &flags) != napi_ok) return type_error(env, "flags expected");
  int nofollow = get_bool(env, a[4]);
  int r = t.is_fd ? fsetxattr(t.fd, name, data, len, flags)
          : nofollow ? lsetxattr(t.path, name, data, len, flags) : setxattr(t.path, name, data, len, flags);
  return num(env, r < 0 ? -errno : 0);
}

static napi_value RemoveXattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  Target t;
  char name[NAME_MAX_ + 2];
  if (!get_target(env, a[0], &t)) return NULL;
  int ok = get_name(env, a[1], name);
  if (ok == 0) return NULL;
  if (ok < 0) return num(env, -ERANGE);
  int nofollow = get_bool(env, a[2]);
  int r = t.is_fd ? fremovexattr(t.fd, name) : nofollow ? lremovexattr(t.path, name) : removexattr(t.path, name);
  return num(env, r < 0 ? -errno : 0);
}

// getdents64 into the caller's Buffer: the raw records (d_ino u64, d_off s64, d_reclen u16,
// d_type u8, NUL-terminated name), parsed in TypeScript.
static napi_value Getdents(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t fd;
  if (napi_get_value_int32(env, a[0], &fd) != napi_ok) return type_error(env, "descriptor expected");
  bool isbuf = false;
  napi_is_buffer(env, a[1], &isbuf);
  if (!isbuf) return type_error(env, "Buffer expected");
  void* data;
  size_t len;
  napi_get_buffer_info(env, a[1], &data, &len);
  long n = syscall(SYS_getdents64, fd, data, len);
  return num(env, n < 0 ? -errno : (double)n);
}

// Calls visit(ctx, d_ino, d_type, name, length) for every entry from the directory's position
// to its end, "." and ".." left out, reading getdents64 in 64 KiB batches. Returns 0, the errno
// of a failed getdents64 or allocation, or the first non-zero visit() result.
typedef int (*DirentVisit)(void* ctx, uint64_t ino, uint8_t type, const char* name, size_t len);
static int each_dirent(int fd, DirentVisit visit, void* ctx) {
  enum { CHUNK = 64 * 1024 };
  char* buf = malloc(CHUNK);
  int err = buf == NULL ? ENOMEM : 0;
  while (!err) {
    long n = syscall(SYS_getdents64, fd, buf, CHUNK);
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    for (long p = 0; p < n && !err;) {
      uint64_t ino;
      uint16_t reclen;
      memcpy(&ino, buf + p, 8);
      memcpy(&reclen, buf + p + 16, 2);
      uint8_t type = (uint8_t)buf[p + 18];
      const char* name = buf + p + 19;
      size_t len = strnlen(name, reclen - 19);
      p += reclen;
      if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) continue;
      err = visit(ctx, ino, type, name, len);
    }
  }
  free(buf);
  return err;
}

// A typed array of `count` elements of `size` bytes copied from `data`.
static napi_value typed_copy(napi_env env, napi_typedarray_type type, const void* data, size_t count, size_t size) {
  napi_value ab, out;
  void* p;
  napi_create_arraybuffer(env, count * size, &p, &ab);
  if (count) memcpy(p, data, count * size);
  napi_create_typedarray(env, type, count, ab, 0, &out);
  return out;
}

// Every entry from the directory's position to its end, "." and ".." left out, in three
// compact pieces: one string of the names separated by "/" (which no name contains), and the
// inode numbers, types and name lengths (bytes) in typed arrays. Four JavaScript values instead
// of one per entry.
typedef struct {
  char* names;
  size_t nlen, ncap;
  uint64_t* inos;
  uint8_t* types;
  uint16_t* lens;
  size_t count, cap;
} Dents;

// Makes *p (a byte array of *cap bytes) hold at least `need` bytes.
static int grow(void** p, size_t* cap, size_t need) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap : 16384;
  while (c < need) c *= 2;
  void* q = realloc(*p, c);
  if (q == NULL) return 0;
  *p = q;
  *cap = c;
  return 1;
}

static int add_dent(void* ctx, uint64_t ino, uint8_t type, const char* name, size_t len) {
  Dents* d = ctx;
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 1024;
    uint64_t* inos = realloc(d->inos, cap * sizeof *inos);
    if (inos == NULL) return ENOMEM;
    d->inos = inos;
    uint8_t* types = realloc(d->types, cap);
    if (types == NULL) return ENOMEM;
    d->types = types;
    uint16_t* lens = realloc(d->lens, cap * sizeof *lens);
    if (lens == NULL) return ENOMEM;
    d->lens = lens;
    d->cap = cap;
  }
  if (!grow((void**)&d->names, &d->ncap, d->nlen + len + 1)) return ENOMEM;
  if (d->count > 0) d->names[d->nlen++] = '/';
  memcpy(d->names + d->nlen, name, len);
  d->nlen += len;
  d->inos[d->count] = ino;
  d->types[d->count] = type;
  d->lens[d->count] = (uint16_t)len;
  d->count++;
  return 0;
}

static napi_value ReadDir(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t fd;
  if (napi_get_value_int32(env, a[0], &fd) != napi_ok) return type_error(env, "descriptor expected");
  Dents d = {0};
  int err = each_dirent(fd, add_dent, &d);
  napi_value out = NULL;
  if (err) {
    out = num(env, -err);
  } else {
    napi_value names;
    napi_create_string_utf8(env, d.count ? d.names : "", d.nlen, &names);
    napi_create_array_with_length(env, 4, &out);
    napi_set_element(env, out, 0, names);
    napi_set_element(env, out, 1, typed_copy(env, napi_biguint64_array, d.inos, d.count, 8));
    napi_set_element(env, out, 2, typed_copy(env, napi_uint8_array, d.types, d.count, 1));
    napi_set_element(env, out, 3, typed_copy(env, napi_uint16_array, d.lens, d.count, 2));
  }
  free(d.names);
  free(d.inos);
  free(d.types);
  free(d.lens);
  return out;
}

// True when s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF): what decodes to the same bytes when a string of it is encoded again.
static int utf8_ok(const unsigned char* s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else return 0;
    if (i + n >= len) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k <= n; k++) {
      if (s[i + k] < 0x80 || s[i + k] > 0xbf) return 0;
    }
    i += n + 1;
  }
  return 1;
}

static void put32(unsigned char* p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

// Every entry from the directory's position to its end, "." and ".." left out, encoded as
// 9P2000.L dirents (qid[13] offset[8] type[1] name[s]) back to back: qid.type from d_type
// (directory, symlink, else file), version 0, path d_ino ^ top; offset firstCookie + index.
// DT_UNKNOWN entries get qid.path 0 and their indices listed. With `prefix`, the records begin
// with its bytes. Returns [records Buffer, ends (Uint32Array: where each entry ends in the
// records), unknown indices (Uint32Array)], or -errno; -EILSEQ when a name is not well-formed
// UTF-8 (the caller then lists with readdir).
typedef struct {
  uint64_t top, first;
  unsigned char* rec;
  size_t rlen, rcap;
  uint32_t* ends;
  size_t ecap, count;
  uint32_t* unknown;
  size_t ucap, ucount;
} Encoded;

enum { DIRENT_HEAD = 24 };

static int add_encoded(void* ctx, uint64_t ino, uint8_t type, const char* name, size_t len) {
  Encoded* e = ctx;
  if (!utf8_ok((const unsigned char*)name, len)) return EILSEQ;
  if (!grow((void**)&e->rec, &e->rcap, e->rlen + DIRENT_HEAD + len) ||
      !grow((void**)&e->ends, &e->ecap, (e->count + 1) * sizeof *e->ends) ||
      (type == 0 && !grow((void**)&e->unknown, &e->ucap, (e->ucount + 1) * sizeof *e->unknown))) {
    return ENOMEM;
  }
  unsigned char* r = e->rec + e->rlen;
  uint64_t path = type == 0 ? 0 : ino ^ e->top;
  uint64_t cookie = e->first + e->count;
  r[0] = type == 4 ? 0x80 : type == 10 ? 0x02 : 0;
  put32(r + 1, 0);
  put32(r + 5, (uint32_t)path);
  put32(r + 9, (uint32_t)(path >> 32));
  put32(r + 13, (uint32_t)cookie);
  put32(r + 17, (uint32_t)(cookie >> 32));
  r[21] = type;
  r[22] = (unsigned char)len;
  r[23] = (unsigned char)(len >> 8);
  memcpy(r + DIRENT_HEAD, name, len);
  e->rlen += DIRENT_HEAD + len;
  if (type == 0) e->unknown[e->ucount++] = (uint32_t)e->count;
  e->ends[e->count++] = (uint32_t)e->rlen;
  return 0;
}

static napi_value ReadDirEncoded(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t fd;
  uint32_t top_lo, top_hi;
  int64_t first;
  const char* usage = "readdirEncoded(fd, topLo, topHi, firstCookie[, prefix: Buffer]) expected";
  if (argc < 4 || napi_get_value_int32(env, a[0], &fd) != napi_ok || napi_get_value_uint32(env, a[1], &top_lo) != napi_ok ||
      napi_get_value_uint32(env, a[2], &top_hi) != napi_ok || napi_get_value_int64(env, a[3], &first) != napi_ok) {
    return type_error(env, usage);
  }
  Encoded e = {0};
  e.top = ((uint64_t)top_hi << 32) | top_lo;
  e.first = (uint64_t)first;
  int err = 0;
  napi_valuetype pt = napi_undefined;
  if (argc > 4) napi_typeof(env, a[4], &pt);
  if (pt != napi_undefined) {
    // The records start with these bytes (already encoded entries: "." and ".."), so the caller
    // can keep the whole listing in the one buffer returned.
    bool isbuf = false;
    napi_is_buffer(env, a[4], &isbuf);
    if (!isbuf) return type_error(env, usage);
    void* pdata;
    size_t plen;
    napi_get_buffer_info(env, a[4], &pdata, &plen);
    if (!grow((void**)&e.rec, &e.rcap, plen)) err = ENOMEM;
    else if (plen) {
      memcpy(e.rec, pdata, plen);
      e.rlen = plen;
    }
  }
  if (!err) err = each_dirent(fd, add_encoded, &e);
  napi_value out = NULL;
  if (err) {
    out = num(env, -err);
  } else {
    napi_value records;
    napi_create_buffer_copy(env, e.rlen, e.rlen ? (const void*)e.rec : "", NULL, &records);
    napi_create_array_with_length(env, 3, &out);
    napi_set_element(env, out, 0, records);
    napi_set_element(env, out, 1, typed_copy(env, napi_uint32_array, e.ends, e.count, 4));
    napi_set_element(env, out, 2, typed_copy(env, napi_uint32_array, e.unknown, e.ucount, 4));
  }
  free(e.rec);
  free(e.ends);
  free(e.unknown);
  return out;
}

// pwritePieces: one thread-pool job that writes a Buffer in pieces (Linux writes new data into a
// file much faster in 64 KiB calls than in 1 MiB ones; one job keeps it one pool round trip).
typedef struct {
  napi_async_work work;
  napi_ref buf_ref;
  napi_ref cb_ref;
  int fd;
  const char* data;
  size_t len;
  int64_t offset;
  size_t piece;
  size_t done;
  int err;
} PieceJob;

static void PiecesExecute(napi_env env, void* arg) {
  PieceJob* j = arg;
  while (j->done < j->len) {
    size_t n = j->len - j->done;
    if (n > j->piece) n = j->piece;
    ssize_t w = pwrite(j->fd, j->data + j->done, n, (off_t)(j->offset + (int64_t)j->done));
    if (w < 0) {
      if (errno == EINTR) continue;
      j->err = errno;
      break;
    }
    j->done += (size_t)w;
    if ((size_t)w < n) break;
  }
}

static void PiecesComplete(napi_env env, napi_status status, void* arg) {
  PieceJob* j = arg;
  napi_value cb, undef, argv[2];
  napi_get_reference_value(env, j->cb_ref, &cb);
  napi_get_undefined(env, &undef);
  // An error after some bytes were written reports the bytes (as write(2) would); before, the errno.
  argv[0] = num(env, j->done > 0 ? 0 : j->err);
  argv[1] = num(env, (double)j->done);
  napi_delete_reference(env, j->cb_ref);
  napi_delete_reference(env, j->buf_ref);
  napi_delete_async_work(env, j->work);
  free(j);
  napi_call_function(env, undef, cb, 2, argv, NULL);
}

static napi_value PwritePieces(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t fd;
  int64_t offset, piece;
  bool isbuf = false;
  napi_valuetype cbt;
  napi_is_buffer(env, a[1], &isbuf);
  napi_typeof(env, a[4], &cbt);
  if (napi_get_value_int32(env, a[0], &fd) != napi_ok || !isbuf || napi_get_value_int64(env, a[2], &offset) != napi_ok ||
      napi_get_value_int64(env, a[3], &piece) != napi_ok || piece <= 0 || offset < 0 || cbt != napi_function)
    return type_error(env, "pwritePieces(fd, Buffer, offset >= 0, piece > 0, callback) expected");
  PieceJob* j = calloc(1, sizeof *j);
  if (j == NULL) return type_error(env, "out of memory");
  void* data;
  napi_get_buffer_info(env, a[1], &data, &j->len);
  j->data = data;
  j->fd = fd;
  j->offset = offset;
  j->piece = (size_t)piece;
  napi_create_reference(env, a[1], 1, &j->buf_ref);
  napi_create_reference(env, a[4], 1, &j->cb_ref);
  napi_value name;
  napi_create_string_utf8(env, "prose_posix.pwritePieces", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, PiecesExecute, PiecesComplete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return NULL;
}

// ---- calls relative to a directory descriptor --------------------------------------------------

// Reads the (dirfd, name) pair of an *at call: 0 with a TypeError thrown on a bad argument type,
// -errno for a name the kernel could not take (too long, an embedded NUL), 1 when usable.
static int get_at(napi_env env, napi_value vfd, napi_value vname, int32_t* dirfd, char* name, size_t cap) {
  napi_valuetype ty;
  napi_typeof(env, vname, &ty);
  if (napi_get_value_int32(env, vfd, dirfd) != napi_ok || ty != napi_string) {
    type_error(env, "(directory descriptor, name) expected");
    return 0;
  }
  size_t len;
  napi_get_value_string_utf8(env, vname, name, cap, &len);
  if (len >= cap - 1) return -ENAMETOOLONG;
  if (strlen(name) != len) return -EINVAL;
  return 1;
}

// PATH_MAX: a name is one component (at most NAME_MAX bytes, or ENAMETOOLONG from the kernel),
// but a longer one must reach the kernel to get that answer rather than be cut.
#define AT_NAME_CAP 4097

static napi_value OpenAt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 4) return type_error(env, "openat(dirfd, name, flags, mode) expected");
  int32_t dirfd, flags, mode;
  char name[AT_NAME_CAP];
  int ok = get_at(env, a[0], a[1], &dirfd, name, sizeof name);
  if (ok == 0) return NULL;
  if (napi_get_value_int32(env, a[2], &flags) != napi_ok || napi_get_value_int32(env, a[3], &mode) != napi_ok) {
    return type_error(env, "openat(dirfd, name, flags, mode) expected");
  }
  if (ok < 0) return num(env, ok);
  int fd = openat(dirfd, name, flags | O_CLOEXEC, (mode_t)mode);
  return num(env, fd < 0 ? -errno : fd);
}

// Reads the (dirfd, name, int) arguments of unlinkat/mkdirat: as get_at, the int in *arg.
static int get_at_int(napi_env env, napi_callback_info info, const char* usage, int32_t* dirfd, char* name, size_t cap,
                      int32_t* arg) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 3) {
    type_error(env, usage);
    return 0;
  }
  int ok = get_at(env, a[0], a[1], dirfd, name, cap);
  if (ok == 0) return 0;
  if (napi_get_value_int32(env, a[2], arg) != napi_ok) {
    type_error(env, usage);
    return 0;
  }
  return ok;
}

static napi_value UnlinkAt(napi_env env, napi_callback_info info) {
  int32_t dirfd, flags;
  char name[AT_NAME_CAP];
  int ok = get_at_int(env, info, "unlinkat(dirfd, name, flags) expected", &dirfd, name, sizeof name, &flags);
  if (ok <= 0) return ok == 0 ? NULL : num(env, ok);
  return num(env, unlinkat(dirfd, name, flags) < 0 ? -errno : 0);
}

static napi_value MkdirAt(napi_env env, napi_callback_info info) {
  int32_t dirfd, mode;
  char name[AT_NAME_CAP];
  int ok = get_at_int(env, info, "mkdirat(dirfd, name, mode) expected", &dirfd, name, sizeof name, &mode);
  if (ok <= 0) return ok == 0 ? NULL : num(env, ok);
  return num(env, mkdirat(dirfd, name, (mode_t)mode) < 0 ? -errno : 0);
}

// statx(2) of `name` in `dirfd` ("" with AT_EMPTY_PATH: the descriptor itself) into `out`, a
// Float64Array of STAT_FIELDS numbers (layout in src/stat.ts). 64-bit fields that may exceed
// 2^53 (device, inode) go as two exact 32-bit halves.
#define STAT_FIELDS 20
static napi_value StatxInto(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  const char* usage = "statx(dirfd, name, flags, out: Float64Array) expected";
  if (argc < 4) return type_error(env, usage);
  int32_t dirfd, flags;
  char name[AT_NAME_CAP];
  int ok = get_at(env, a[0], a[1], &dirfd, name, sizeof name);
  if (ok == 0) return NULL;
  napi_typedarray_type ty;
  size_t len;
  void* data;
  bool is_ta = false;
  napi_is_typedarray(env, a[3], &is_ta);
  if (napi_get_value_int32(env, a[2], &flags) != napi_ok || !is_ta) return type_error(env, usage);
  napi_get_typedarray_info(env, a[3], &ty, &len, &data, NULL, NULL);
  if (ty != napi_float64_array || len < STAT_FIELDS) return type_error(env, usage);
  if (ok < 0) return num(env, ok);
  struct statx sx;
  if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &sx) < 0) return num(env, -errno);
  double* o = (double*)data;
  uint64_t dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  uint64_t rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
  o[0] = (double)(dev >> 32);
  o[1] = (double)(dev & 0xffffffffu);
  o[2] = (double)(sx.stx_ino >> 32);
  o[3] = (double)(sx.stx_ino & 0xffffffffu);
  o[4] = sx.stx_mode;
  o[5] = sx.stx_nlink;
  o[6] = sx.stx_uid;
  o[7] = sx.stx_gid;
  o[8] = (double)rdev;
  o[9] = (double)sx.stx_size;
  o[10] = sx.stx_blksize;
  o[11] = (double)sx.stx_blocks;
  o[12] = (double)sx.stx_atime.tv_sec;
  o[13] = sx.stx_atime.tv_nsec;
  o[14] = (double)sx.stx_mtime.tv_sec;
  o[15] = sx.stx_mtime.tv_nsec;
  o[16] = (double)sx.stx_ctime.tv_sec;
  o[17] = sx.stx_ctime.tv_nsec;
  int birth = (sx.stx_mask & STATX_BTIME) != 0;
  o[18] = birth ? (double)sx.stx_btime.tv_sec : 0;
  o[19] = birth ? sx.stx_btime.tv_nsec : 0;
  return num(env, 0);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"getxattr", NULL, GetXattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listxattr", NULL, ListXattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setxattr", NULL, SetXattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"removexattr", NULL, RemoveXattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getdents", NULL, Getdents, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readdir", NULL, ReadDir, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readdirEncoded", NULL, ReadDirEncoded, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pwritePieces", NULL, PwritePieces, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openat", NULL, OpenAt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unlinkat", NULL, UnlinkAt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mkdirat", NULL, MkdirAt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"statx", NULL, StatxInto, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  sockio_init(env, exports);
  filemap_init(env, exports);
  recycle_init(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
