// sockio: a connected stream socket read and written by the process itself, without Node's
// stream machinery (src/sockio.ts says why and what uses it).
//
//   sockRead(fd, buf)                    -> bytes read into buf | 0 at end of stream | -errno
//   sockWrite(fd, buf)                   -> bytes sent | -errno (send(2), MSG_NOSIGNAL|MSG_DONTWAIT)
//   sockWritev(fd, bufs, start, count)   -> bytes sent of bufs[start .. start+count) | -errno
//   sockShutdown(fd)                     -> 0 | -errno (shutdown(2) SHUT_WR)
//   sockError(fd)                        -> the socket's pending error as -errno, 0 if none (SO_ERROR)
//   dupFd(fd)                            -> a new descriptor (close-on-exec) | -errno
//   watchFd(fd, events, cb)              -> a watch: cb(status, events) runs in this thread's event
//                                           loop when fd is ready (events: 1 readable, 2 writable);
//                                           the watch owns fd from then on. A socket error
//                                           (EPOLLERR) comes as status UV_EBADF and stops the watch
//                                           (libuv's way): sockError says which
//   watchSet(watch, events)              -> 0 | -errno (0: watch nothing for now)
//   watchClose(watch)                    -> undefined; no callback after it; fd is closed
//   schedYield()                         -> 0 | -errno: sched_yield(2), the CPU to whatever else
//                                           may run on it (a peer that reads what was just sent)
//
// System call failures are negative errno numbers, never exceptions; EINTR is retried. Bad
// argument types throw a TypeError.

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "napi_util.h"
#include "sockio.h"

// The most buffers one sockWritev sends (Linux's IOV_MAX is 1024); the caller sends the rest next.
#define WRITEV_MAX 64


// The bytes of a Buffer or other Uint8Array argument; 0 (and a TypeError thrown) if it is not one.
static int get_bytes(napi_env env, napi_value v, void** data, size_t* len) {
  bool ok = false;
  napi_is_typedarray(env, v, &ok);
  if (!ok) return 0;
  napi_typedarray_type ty;
  napi_get_typedarray_info(env, v, &ty, len, data, NULL, NULL);
  return ty == napi_uint8_array;
}

// The (fd, buf) arguments of sockRead and sockWrite; 0 (and a TypeError thrown) if they are not that.
static int get_fd_bytes(napi_env env, napi_callback_info info, const char* usage, int32_t* fd, void** data, size_t* len) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, a[0], fd) != napi_ok || !get_bytes(env, a[1], data, len)) {
    type_error(env, usage);
    return 0;
  }
  return 1;
}

static napi_value SockRead(napi_env env, napi_callback_info info) {
  int32_t fd;
  void* data;
  size_t len;
  if (!get_fd_bytes(env, info, "sockRead(fd, buf: Uint8Array) expected", &fd, &data, &len)) return NULL;
  ssize_t n;
  do n = read(fd, data, len);
  while (n < 0 && errno == EINTR);
  return num(env, n < 0 ? -errno : (double)n);
}

static napi_value SockWrite(napi_env env, napi_callback_info info) {
  int32_t fd;
  void* data;
  size_t len;
  if (!get_fd_bytes(env, info, "sockWrite(fd, buf: Uint8Array) expected", &fd, &data, &len)) return NULL;
  ssize_t n;
  do n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return num(env, n < 0 ? -errno : (double)n);
}

static napi_value SockWritev(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  const char* usage = "sockWritev(fd, bufs: Uint8Array[], start, count) expected";
  int32_t fd, start, count;
  bool is_arr = false;
  if (argc < 4 || napi_get_value_int32(env, a[0], &fd) != napi_ok || napi_is_array(env, a[1], &is_arr) != napi_ok || !is_arr ||
      napi_get_value_int32(env, a[2], &start) != napi_ok || napi_get_value_int32(env, a[3], &count) != napi_ok || start < 0 || count < 0) {
    return type_error(env, usage);
  }
  if (count > WRITEV_MAX) count = WRITEV_MAX;
  struct iovec iov[WRITEV_MAX];
  for (int32_t i = 0; i < count; i++) {
    napi_value el;
    if (napi_get_element(env, a[1], (uint32_t)(start + i), &el) != napi_ok || !get_bytes(env, el, &iov[i].iov_base, &iov[i].iov_len)) {
      return type_error(env, usage);
    }
  }
  struct msghdr msg = {0};
  msg.msg_iov = iov;
  msg.msg_iovlen = (size_t)count;
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return num(env, n < 0 ? -errno : (double)n);
}

// The one fd argument of sockShutdown, sockError and dupFd; 0 (and a TypeError thrown) if it is not that.
static int get_fd(napi_env env, napi_callback_info info, const char* usage, int32_t* fd) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, a[0], fd) != napi_ok) {
    type_error(env, usage);
    return 0;
  }
  return 1;
}

static napi_value SockShutdown(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!get_fd(env, info, "sockShutdown(fd) expected", &fd)) return NULL;
  return num(env, shutdown(fd, SHUT_WR) < 0 ? -errno : 0);
}

static napi_value SockError(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!get_fd(env, info, "sockError(fd) expected", &fd)) return NULL;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return num(env, -errno);
  return num(env, -err);
}

static napi_value DupFd(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!get_fd(env, info, "dupFd(fd) expected", &fd)) return NULL;
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return num(env, r < 0 ? -errno : r);
}

// ---- watching a descriptor in the event loop ---------------------------------------------

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  int fd;
  int closed;       // watchClose or the environment's teardown: no callback from now on
  int handle_gone;  // libuv is done with `poll` (its close callback ran): the memory may go
  int collected;    // the JS side is gone (its external was finalized)
} Watch;

static int uv_events(int32_t ev) { return (ev & 1 ? UV_READABLE : 0) | (ev & 2 ? UV_WRITABLE : 0); }

static void on_poll(uv_poll_t* h, int status, int events) {
  Watch* w = (Watch*)h->data;
  if (w->closed) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &recv);  // napi_make_callback takes an object as the receiver
  napi_create_int32(env, status, &argv[0]);
  napi_create_int32(env, (events & UV_READABLE ? 1 : 0) | (events & UV_WRITABLE ? 2 : 0), &argv[1]);
  // As Node's own handles call back: microtasks and process.nextTick run after; a throw is the
  // process's uncaught exception.
  if (cb != NULL && napi_make_callback(env, NULL, recv, cb, 2, argv, &result) == napi_pending_exception) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t* h) {
  Watch* w = (Watch*)h->data;
  w->handle_gone = 1;
  if (w->collected) free(w);
}

static void teardown(void* arg);

// Stops the watch and closes its descriptor. At the environment's teardown (a worker thread
// ending) the handle is closed with no callback: an addon loaded by that thread alone is unloaded
// with it, before libuv would run one; the few bytes of the Watch are left behind.
static void shut(Watch* w, int from_teardown) {
  if (w->closed) return;
  w->closed = 1;
  if (!from_teardown) napi_remove_env_cleanup_hook(w->env, teardown, w);
  if (w->cb != NULL) {
    napi_delete_reference(w->env, w->cb);
    w->cb = NULL;
  }
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t*)&w->poll, from_teardown ? NULL : on_closed);
  // uv_close has taken the descriptor out of epoll: it can go now.
  close(w->fd);
  w->fd = -1;
}

static void teardown(void* arg) { shut((Watch*)arg, 1); }

static void finalize_watch(napi_env env, void* data, void* hint) {
  Watch* w = (Watch*)data;
  w->collected = 1;
  if (!w->closed) shut(w, 0);  // dropped while open: stop it, free once libuv lets go
  else if (w->handle_gone) free(w);
}

static Watch* get_watch(napi_env env, napi_value v) {
  void* p = NULL;
  napi_valuetype ty;
  if (napi_typeof(env, v, &ty) != napi_ok || ty != napi_external || napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (Watch*)p;
}

static napi_value WatchFd(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t fd, events;
  napi_valuetype ty = napi_undefined;
  if (argc >= 3) napi_typeof(env, a[2], &ty);
  if (argc < 3 || napi_get_value_int32(env, a[0], &fd) != napi_ok || napi_get_value_int32(env, a[1], &events) != napi_ok || ty != napi_function) {
    return type_error(env, "watchFd(fd, events, callback) expected");
  }
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return num(env, -ENOSYS);
  Watch* w = calloc(1, sizeof *w);
  if (w == NULL) return num(env, -ENOMEM);
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r != 0) {
    free(w);
    return num(env, r);  // libuv's errors are negative errno values on Linux
  }
  w->poll.data = w;
  w->env = env;
  w->fd = fd;
  if (events != 0) r = uv_poll_start(&w->poll, uv_events(events), on_poll);
  if (r != 0) {
    w->closed = w->collected = 1;
    uv_close((uv_handle_t*)&w->poll, on_closed);  // the descriptor stays the caller's
    return num(env, r);
  }
  napi_create_reference(env, a[2], 1, &w->cb);
  napi_add_env_cleanup_hook(env, teardown, w);
  napi_value ext;
  napi_create_external(env, w, finalize_watch, NULL, &ext);
  return ext;
}

static napi_value WatchSet(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  Watch* w = argc >= 2 ? get_watch(env, a[0]) : NULL;
  int32_t events;
  if (w == NULL || napi_get_value_int32(env, a[1], &events) != napi_ok) return type_error(env, "watchSet(watch, events) expected");
  if (w->closed) return num(env, -EBADF);
  int r = events == 0 ? uv_poll_stop(&w->poll) : uv_poll_start(&w->poll, uv_events(events), on_poll);
  return num(env, r);
}

static napi_value WatchClose(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  Watch* w = argc >= 1 ? get_watch(env, a[0]) : NULL;
  if (w == NULL) return type_error(env, "watchClose(watch) expected");
  shut(w, 0);
  return NULL;
}

static napi_value SchedYield(napi_env env, napi_callback_info info) {
  return num(env, sched_yield() < 0 ? -errno : 0);
}

void sockio_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"sockRead", NULL, SockRead, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sockWrite", NULL, SockWrite, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sockWritev", NULL, SockWritev, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sockShutdown", NULL, SockShutdown, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sockError", NULL, SockError, NULL, NULL, NULL, napi_enumerable, NULL},
    {"dupFd", NULL, DupFd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watchFd", NULL, WatchFd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watchSet", NULL, WatchSet, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watchClose", NULL, WatchClose, NULL, NULL, NULL, napi_enumerable, NULL},
    {"schedYield", NULL, SchedYield, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
