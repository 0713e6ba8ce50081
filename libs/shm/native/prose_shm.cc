// prose_shm: the kernel primitives the shared-memory transport needs between processes, and
// nothing else. Rings, framing and validation live in TypeScript; this file never reads ring
// contents, so a hostile peer cannot make it touch memory out of bounds.
//
//   memfdCreate(name, size) -> fd     sealed anonymous segment (no name in /dev/shm)
//   fdInfo(fd) -> [size, seals]       what a received segment fd really is
//   mapShared(fd, size) -> SharedArrayBuffer over mmap(MAP_SHARED); munmap when collected
//   eventfd() -> fd, signal(fd)       doorbells
//   waitFd(fd, us) -> bool            block up to us µs for an eventfd doorbell, draining it
//   unixListen(path, backlog) / unixAccept(fd) / unixConnect(path) -> fd (non-blocking)
//   sendMsg(fd, buf, len, fds) / recvMsg(fd, buf) -> [n, ...fds]   SCM_RIGHTS hand-off
//   closeFd(fd)
//   new Watcher(fd, drainEventfd, cb)  uv_poll on fd; cb(status) in the event loop
//   loopPoll(maxUs) -> [windowUs, polls, found, blocks]   poll this thread's event loop before
//                                     it blocks (below); loopPoll(0) stops, loopPoll(-1) only reads
//   loopIdleMetric(mode) -> 1|0|2|-1   this thread's loop's idle-time metric on (1), off (0), or
//                                     only asked (-1); 2 back: kept, the loop polls; -1 back: not
//                                     a libuv whose flag is known
//
// Errors are thrown as Node ErrnoExceptions (err.code = 'EAGAIN', err.syscall = ...).
#include <node.h>
#include <node_object_wrap.h>
#include <uv.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <mutex>
#include <vector>

namespace {

using v8::Array;
using v8::Context;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::FunctionTemplate;
using v8::Global;
using v8::HandleScope;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

constexpr int kMaxFds = 8;

bool Throw(Isolate* isolate, int err, const char* syscall) {
  isolate->ThrowException(node::ErrnoException(isolate, err, syscall));
  return false;
}

bool ThrowType(Isolate* isolate, const char* msg) {
  isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8(isolate, msg).ToLocalChecked()));
  return false;
}

bool IntArg(const FunctionCallbackInfo<Value>& a, int i, int64_t* out) {
  if (!a[i]->IsNumber()) return ThrowType(a.GetIsolate(), "integer argument expected");
  double d = a[i].As<Number>()->Value();
  if (d != static_cast<double>(static_cast<int64_t>(d))) return ThrowType(a.GetIsolate(), "integer argument expected");
  *out = static_cast<int64_t>(d);
  return true;
}

bool PathArg(const FunctionCallbackInfo<Value>& a, int i, sockaddr_un* sa) {
  Isolate* isolate = a.GetIsolate();
  if (!a[i]->IsString()) return ThrowType(isolate, "path expected");
  String::Utf8Value path(isolate, a[i]);
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (path.length() == 0 || static_cast<size_t>(path.length()) >= sizeof sa->sun_path)
    return Throw(isolate, ENAMETOOLONG, "unix socket path");
  memcpy(sa->sun_path, *path, path.length());
  return true;
}

void Ret(const FunctionCallbackInfo<Value>& a, int64_t v) {
  a.GetReturnValue().Set(Number::New(a.GetIsolate(), static_cast<double>(v)));
}

void MemfdCreate(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  int64_t size;
  if (!a[0]->IsString() || !IntArg(a, 1, &size)) return;
  if (size <= 0) return (void)Throw(isolate, EINVAL, "memfd size");
  String::Utf8Value name(isolate, a[0]);
  int fd = memfd_create(*name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return (void)Throw(isolate, errno, "memfd_create");
  // Sealed against shrinking: a peer that truncated the segment would make our accesses SIGBUS.
  if (ftruncate(fd, size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
    int e = errno;
    close(fd);
    return (void)Throw(isolate, e, "memfd size/seal");
  }
  Ret(a, fd);
}

void FdInfo(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  int64_t fd;
  if (!IntArg(a, 0, &fd)) return;
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) < 0) return (void)Throw(isolate, errno, "fstat");
  int seals = fcntl(static_cast<int>(fd), F_GET_SEALS);
  if (seals < 0) seals = 0;
  Local<Context> ctx = isolate->GetCurrentContext();
  Local<Array> out = Array::New(isolate, 3);
  out->Set(ctx, 0, Number::New(isolate, S_ISREG(st.st_mode) ? static_cast<double>(st.st_size) : -1)).Check();
  out->Set(ctx, 1, Integer::New(isolate, seals)).Check();
  out->Set(ctx, 2, Integer::New(isolate, F_SEAL_SHRINK)).Check();
  a.GetReturnValue().Set(out);
}

void MapShared(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  int64_t fd, size;
  if (!IntArg(a, 0, &fd) || !IntArg(a, 1, &size)) return;
  if (size <= 0) return (void)Throw(isolate, EINVAL, "mmap size");
  void* p = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(fd), 0);
  if (p == MAP_FAILED) return (void)Throw(isolate, errno, "mmap");
  auto store = SharedArrayBuffer::NewBackingStore(
      p, static_cast<size_t>(size), [](void* data, size_t len, void*) { munmap(data, len); }, nullptr);
  a.GetReturnValue().Set(SharedArrayBuffer::New(isolate, std::move(store)));
}

void EventFd(const FunctionCallbackInfo<Value>& a) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return (void)Throw(a.GetIsolate(), errno, "eventfd");
  Ret(a, fd);
}

void Signal(const FunctionCallbackInfo<Value>& a) {
  int64_t fd;
  if (!IntArg(a, 0, &fd)) return;
  uint64_t one = 1;
  ssize_t n;
  do n = write(static_cast<int>(fd), &one, sizeof one);
  while (n < 0 && errno == EINTR);
  // EAGAIN means the counter is already huge: the sleeper is certainly woken.
  if (n < 0 && errno != EAGAIN) return (void)Throw(a.GetIsolate(), errno, "eventfd write");
}

// Blocks the calling thread in the kernel (ppoll, ns resolution) until the eventfd is readable
// or `us` µs have passed; drains it when it is. Returns true if it rang. EINTR counts as a
// timeout: the caller falls back to its event-loop watch of the same fd.
void WaitFd(const FunctionCallbackInfo<Value>& a) {
  int64_t fd, us;
  if (!IntArg(a, 0, &fd) || !IntArg(a, 1, &us)) return;
  if (us < 0) us = 0;
  pollfd p = {static_cast<int>(fd), POLLIN, 0};
  timespec ts = {static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  bool rang = ppoll(&p, 1, &ts, nullptr) == 1 && (p.revents & POLLIN);
  if (rang) {
    uint64_t v;
    ssize_t n;
    do n = read(static_cast<int>(fd), &v, sizeof v);
    while (n < 0 && errno == EINTR);
  }
  a.GetReturnValue().Set(rang);
}

void CloseFd(const FunctionCallbackInfo<Value>& a) {
  int64_t fd;
  if (!IntArg(a, 0, &fd)) return;
  if (fd >= 0) close(static_cast<int>(fd));
}

// dupFd(fd) -> a new descriptor (close-on-exec) for the same open file: two threads that share
// an eventfd each hold their own descriptor, so each can close its own whatever the other does.
void DupFd(const FunctionCallbackInfo<Value>& a) {
  int64_t fd;
  if (!IntArg(a, 0, &fd)) return;
  int d = fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 0);
  if (d < 0) return (void)Throw(a.GetIsolate(), errno, "dup");
  Ret(a, d);
}

void UnixListen(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  sockaddr_un sa;
  int64_t backlog;
  if (!PathArg(a, 0, &sa) || !IntArg(a, 1, &backlog)) return;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return (void)Throw(isolate, errno, "socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || listen(fd, static_cast<int>(backlog)) < 0) {
    int e = errno;
    close(fd);
    return (void)Throw(isolate, e, "bind/listen");
  }
  Ret(a, fd);
}

void UnixAccept(const FunctionCallbackInfo<Value>& a) {
  int64_t fd;
  if (!IntArg(a, 0, &fd)) return;
  int c = accept4(static_cast<int>(fd), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR) return Ret(a, -1);
    return (void)Throw(a.GetIsolate(), errno, "accept");
  }
  Ret(a, c);
}

void UnixConnect(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  sockaddr_un sa;
  if (!PathArg(a, 0, &sa)) return;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return (void)Throw(isolate, errno, "socket");
  int r;
  do r = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(fd);
    return (void)Throw(isolate, e, "connect");
  }
  Ret(a, fd);
}

// sendMsg(fd, buf, len, fds): one sendmsg; the fds ride with the first byte. Returns bytes sent
// or -1 when the socket buffer is full.
void SendMsg(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  int64_t fd, len;
  if (!IntArg(a, 0, &fd) || !a[1]->IsArrayBufferView() || !IntArg(a, 2, &len) || !a[3]->IsArray()) {
    return (void)ThrowType(isolate, "sendMsg(fd, buffer, len, fds)");
  }
  Local<v8::ArrayBufferView> view = a[1].As<v8::ArrayBufferView>();
  if (len < 0 || static_cast<size_t>(len) > view->ByteLength()) return (void)Throw(isolate, EINVAL, "sendmsg length");
  Local<Array> fdArr = a[3].As<Array>();
  uint32_t nfds = fdArr->Length();
  if (nfds > kMaxFds) return (void)Throw(isolate, EINVAL, "sendmsg fds");
  int fds[kMaxFds];
  Local<Context> ctx = isolate->GetCurrentContext();
  for (uint32_t i = 0; i < nfds; i++) {
    Local<Value> v;
    if (!fdArr->Get(ctx, i).ToLocal(&v) || !v->IsInt32()) return (void)ThrowType(isolate, "fd expected");
    fds[i] = v.As<v8::Int32>()->Value();
  }
  char* data = static_cast<char*>(view->Buffer()->Data()) + view->ByteOffset();
  iovec iov = {data, static_cast<size_t>(len)};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    memset(ctl, 0, sizeof ctl);
    msg.msg_control = ctl;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = sendmsg(static_cast<int>(fd), &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Ret(a, -1);
    return (void)Throw(isolate, errno, "sendmsg");
  }
  Ret(a, n);
}

// recvMsg(fd, buf) -> [n, ...fds]: n = 0 at EOF, -1 when nothing is there yet. Received fds are
// close-on-exec; any beyond kMaxFds, or a truncated control message, are closed and reported
// as an error so a peer cannot leak fds into us.
void RecvMsg(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  int64_t fd;
  if (!IntArg(a, 0, &fd) || !a[1]->IsArrayBufferView()) return (void)ThrowType(isolate, "recvMsg(fd, buffer)");
  Local<v8::ArrayBufferView> view = a[1].As<v8::ArrayBufferView>();
  char* data = static_cast<char*>(view->Buffer()->Data()) + view->ByteOffset();
  iovec iov = {data, view->ByteLength()};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do n = recvmsg(static_cast<int>(fd), &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  Local<Context> ctx = isolate->GetCurrentContext();
  Local<Array> out = Array::New(isolate);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return (void)Throw(isolate, errno, "recvmsg");
    out->Set(ctx, 0, Integer::New(isolate, -1)).Check();
    return a.GetReturnValue().Set(out);
  }
  out->Set(ctx, 0, Number::New(isolate, static_cast<double>(n))).Check();
  uint32_t k = 1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < cnt; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      out->Set(ctx, k++, Integer::New(isolate, got)).Check();
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    for (uint32_t i = 1; i < k; i++) close(out->Get(ctx, i).ToLocalChecked().As<v8::Int32>()->Value());
    return (void)Throw(isolate, EMSGSIZE, "recvmsg: too many fds");
  }
  a.GetReturnValue().Set(out);
}

// A readiness watcher: uv_poll on an fd, calling back into JS in the event loop. For an
// eventfd doorbell it drains the counter first, so a level-triggered poll does not spin.
//
// Edge-triggered doorbells (`edge`): libuv registers every descriptor level-triggered, so each
// wake-up of a doorbell costs a read(2) of the eventfd besides the epoll return; measured on a
// 2-vCPU VM, both ends of a 9P exchange on one CPU, that read and its wake-queue work are
// 0.4-0.6 µs of a 5.7-6.3 µs round trip between processes. At its first wake-up (libuv has
// added the descriptor to its epoll set by then) an edge watcher changes its registration in
// the loop's epoll set to EPOLLET with EPOLL_CTL_MOD, the same descriptor in `data.fd` as libuv
// puts there, and stops reading the counter: every write to an eventfd is a new edge, and the
// counter (2^64 - 2 rings before a writer would block) needs no reset. libuv changes a
// registration only when a handle's wanted events change, which a Watcher never does after its
// start; still, every 256th wake-up reads the counter and asserts EPOLLET again, so a
// registration put back to level-triggered could spin a loop for at most that many turns.
// Whoever else waits on the descriptor (waitFd's ppoll) must drain it first: an undrained
// counter reads as rung (FdSignaller does, before it arms a blocking wait).
class Watcher : public node::ObjectWrap {
 public:
  static void Init(Local<Object> exports, Local<Context> ctx) {
    Isolate* isolate = ctx->GetIsolate();
    Local<FunctionTemplate> t = FunctionTemplate::New(isolate, New);
    t->SetClassName(String::NewFromUtf8Literal(isolate, "Watcher"));
    t->InstanceTemplate()->SetInternalFieldCount(1);
    NODE_SET_PROTOTYPE_METHOD(t, "close", Close);
    NODE_SET_PROTOTYPE_METHOD(t, "ref", RefHandle);
    NODE_SET_PROTOTYPE_METHOD(t, "unref", UnrefHandle);
    NODE_SET_PROTOTYPE_METHOD(t, "edge", EdgeState);
    exports->Set(ctx, String::NewFromUtf8Literal(isolate, "Watcher"), t->GetFunction(ctx).ToLocalChecked()).Check();
  }

 private:
  uv_poll_t poll_ = {};
  int fd_ = -1;
  bool drain_ = false;
  bool closed_ = false;
  // Edge-triggered doorbell: 0 no, 1 asked for (switched at the first wake-up), 2 in effect.
  int edge_ = 0;
  uint32_t wakes_ = 0;
  Isolate* isolate_ = nullptr;
  Global<Function> cb_;
  // Descriptors closed once the poll handle is (close(), or the environment's teardown: a
  // terminated worker thread's doorbells do not outlive it).
  std::vector<int> owned_;

  // new Watcher(fd, drainEventfd, cb[, ownedFds[, edge]])
  static void New(const FunctionCallbackInfo<Value>& a) {
    Isolate* isolate = a.GetIsolate();
    int64_t fd;
    if (!a.IsConstructCall() || !IntArg(a, 0, &fd) || !a[2]->IsFunction()) {
      return (void)ThrowType(isolate, "new Watcher(fd, drain, callback)");
    }
    Watcher* w = new Watcher();
    w->fd_ = static_cast<int>(fd);
    w->drain_ = a[1]->BooleanValue(isolate);
    w->edge_ = w->drain_ && a.Length() > 4 && a[4]->BooleanValue(isolate) ? 1 : 0;
    w->isolate_ = isolate;
    w->cb_.Reset(isolate, a[2].As<Function>());
    if (a.Length() > 3 && a[3]->IsArray()) {
      Local<Context> ctx = isolate->GetCurrentContext();
      Local<v8::Array> arr = a[3].As<v8::Array>();
      for (uint32_t i = 0; i < arr->Length(); i++) {
        Local<Value> v;
        if (arr->Get(ctx, i).ToLocal(&v) && v->IsInt32() && v.As<v8::Int32>()->Value() >= 0) {
          w->owned_.push_back(v.As<v8::Int32>()->Value());
        }
      }
    }
    uv_loop_t* loop = node::GetCurrentEventLoop(isolate);
    int r = uv_poll_init(loop, &w->poll_, w->fd_);
    if (r == 0) {
      w->poll_.data = w;
      r = uv_poll_start(&w->poll_, UV_READABLE | UV_DISCONNECT, OnPoll);
    }
    if (r != 0) {
      w->cb_.Reset();
      w->owned_.clear();  // not taken: the caller still owns them
      if (w->poll_.data == w) {
        // Initialized: the handle's memory is libuv's until its close callback runs.
        uv_close(reinterpret_cast<uv_handle_t*>(&w->poll_), [](uv_handle_t* h) { delete static_cast<Watcher*>(h->data); });
      } else {
        delete w;
      }
      isolate->ThrowException(node::UVException(isolate, r, "uv_poll"));
      return;
    }
    w->Wrap(a.This());
    w->Ref();  // kept alive while watching, whatever JS holds
    node::AddEnvironmentCleanupHook(isolate, Cleanup, w);
    a.GetReturnValue().Set(a.This());
  }

  static void OnPoll(uv_poll_t* h, int status, int events) {
    Watcher* w = static_cast<Watcher*>(h->data);
    if (w->closed_) return;
    if (w->drain_ && status == 0 && (w->edge_ != 2 || (++w->wakes_ & 255) == 0)) {
      // One read takes the whole counter of a (non-semaphore) eventfd back to 0.
      uint64_t v;
      ssize_t n;
      do n = read(w->fd_, &v, sizeof v);
      while (n < 0 && errno == EINTR);
      if (w->edge_ != 0) w->edge_ = w->SetEdge(h->loop) ? 2 : 0;
    }
    Isolate* isolate = w->isolate_;
    HandleScope scope(isolate);
    Local<Object> self = w->handle(isolate);
    Local<Value> argv[1] = {Integer::New(isolate, status)};
    node::MakeCallback(isolate, self, w->cb_.Get(isolate), 1, argv, node::async_context{0, 0});
  }

  // The doorbell's registration in the loop's epoll set made edge-triggered (see the class comment).
  bool SetEdge(uv_loop_t* loop) {
    epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = fd_;
    return epoll_ctl(uv_backend_fd(loop), EPOLL_CTL_MOD, fd_, &ev) == 0;
  }

  void Shut(bool fromCleanup) {
    if (closed_) return;
    closed_ = true;
    cb_.Reset();
    if (!fromCleanup) node::RemoveEnvironmentCleanupHook(isolate_, Cleanup, this);
    uv_poll_stop(&poll_);
    if (fromCleanup) {
      // The thread's environment is going. An addon loaded by a worker alone is unloaded with
      // it, before libuv would run a close callback of ours (it did, into unmapped code, when
      // such a worker was terminated with a doorbell open): close with none, the descriptors
      // now (uv_close has taken them out of epoll), and leave this object to its isolate's end.
      uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
      for (int fd : owned_) close(fd);
      owned_.clear();
      return;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
  }

  static void OnClosed(uv_handle_t* h) {
    Watcher* w = static_cast<Watcher*>(h->data);
    for (int fd : w->owned_) close(fd);
    w->owned_.clear();
    if (!w->persistent().IsEmpty()) w->Unref();  // now collectable; ObjectWrap deletes it
  }

  static void Cleanup(void* arg) { static_cast<Watcher*>(arg)->Shut(true); }

  static void Close(const FunctionCallbackInfo<Value>& a) { ObjectWrap::Unwrap<Watcher>(a.This())->Shut(false); }

  static void RefHandle(const FunctionCallbackInfo<Value>& a) {
    Watcher* w = ObjectWrap::Unwrap<Watcher>(a.This());
    if (!w->closed_) uv_ref(reinterpret_cast<uv_handle_t*>(&w->poll_));
  }

  // 0 level-triggered, 1 edge-triggered asked for (from the first wake-up on), 2 in effect.
  static void EdgeState(const FunctionCallbackInfo<Value>& a) { a.GetReturnValue().Set(ObjectWrap::Unwrap<Watcher>(a.This())->edge_); }

  static void UnrefHandle(const FunctionCallbackInfo<Value>& a) {
    Watcher* w = ObjectWrap::Unwrap<Watcher>(a.This());
    if (!w->closed_) uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll_));
  }
};


// ---- polling the event loop before it blocks ----------------------------------------------
// A request/reply peer on another CPU answers within microseconds, but an event loop that has
// gone to sleep in epoll_wait must be woken for it, and on a VM whose idle vCPUs halt, that
// wake-up costs the sender an interrupt to a halted vCPU (20-35 µs measured on 2-vCPU VMs,
// against a few µs for the whole exchange). So, in the loop's prepare phase (right before it
// would block), the loop's own epoll descriptor is polled for up to a window of time, the
// thread yielding its CPU between polls (a peer on the same CPU runs then, so polling never
// holds it up). The window adapts as KVM's halt polling does: after a window that found
// nothing, a loop woken within maxUs doubles it (from kGrowStartNs; a longer one would have
// found that event), a loop that slept longer halves it (to 0 below kGrowStartNs). A loop whose
// events come seldom stops polling after a few sleeps; one in a chatty exchange keeps it.
constexpr int64_t kGrowStartNs = 10 * 1000;

struct LoopPoll {
  uv_prepare_t prepare;
  uv_loop_t* loop = nullptr;
  int64_t maxNs = 0;
  int64_t windowNs = 0;
  // The loop's idle time (libuv's metric: time blocked in epoll_wait, which Node has libuv
  // keep) when it last went to block with nothing found; -1: it did not, or the window found
  // its event. The next prepare takes the sleep from it, without the time spent on the events
  // that woke it.
  int64_t idleAtBlock = -1;
  // The clock then: a loop whose idle time does not advance (the metric off) is judged on it.
  int64_t wallAtBlock = 0;
  double polls = 0, found = 0, blocks = 0;
};

// One per event loop that asked (the main thread's, workers'), looked up by loop; workers add
// and remove theirs from their own threads.
std::mutex loopPollsMu;
std::vector<LoopPoll*> loopPolls;

int64_t MonoNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

void PollBeforeBlocking(uv_prepare_t* h) {
  LoopPoll* lp = static_cast<LoopPoll*>(h->data);
  if (lp->maxNs <= 0) return;
  if (lp->idleAtBlock >= 0) {
    int64_t slept = static_cast<int64_t>(uv_metrics_idle_time(h->loop)) - lp->idleAtBlock;
    if (slept == 0) slept = MonoNs() - lp->wallAtBlock;
    lp->idleAtBlock = -1;
    if (slept <= lp->maxNs) {
      lp->windowNs = lp->windowNs < kGrowStartNs ? kGrowStartNs : lp->windowNs * 2;
      if (lp->windowNs > lp->maxNs) lp->windowNs = lp->maxNs;
    } else {
      lp->windowNs /= 2;
      if (lp->windowNs < kGrowStartNs) lp->windowNs = 0;
    }
  }
  int timeout = uv_backend_timeout(h->loop);
  if (timeout == 0) return;  // the loop will not block (pending callbacks, a due timer)
  int64_t window = lp->windowNs;
  bool timerFirst = timeout > 0 && static_cast<int64_t>(timeout) * 1000000 < window;
  if (timerFirst) window = static_cast<int64_t>(timeout) * 1000000;
  if (window > 0) {
    pollfd p = {uv_backend_fd(h->loop), POLLIN, 0};
    int64_t end = MonoNs() + window;
    for (;;) {
      lp->polls++;
      if (poll(&p, 1, 0) > 0) {
        lp->found++;
        return;
      }
      if (MonoNs() >= end) break;
      sched_yield();
    }
  }
  lp->blocks++;
  // A window cut short by a timer says nothing about the peer: not measured.
  if (!timerFirst) {
    lp->idleAtBlock = static_cast<int64_t>(uv_metrics_idle_time(h->loop));
    lp->wallAtBlock = MonoNs();
  }
}

LoopPoll* LoopPollOf(uv_loop_t* loop) {
  std::lock_guard<std::mutex> g(loopPollsMu);
  for (LoopPoll* lp : loopPolls)
    if (lp->loop == loop) return lp;
  return nullptr;
}

void LoopPollCleanup(void* arg) {
  LoopPoll* lp = static_cast<LoopPoll*>(arg);
  {
    std::lock_guard<std::mutex> g(loopPollsMu);
    for (size_t i = 0; i < loopPolls.size(); i++)
      if (loopPolls[i] == lp) {
        loopPolls.erase(loopPolls.begin() + i);
        break;
      }
  }
  uv_prepare_stop(&lp->prepare);
  // No close callback, and the few bytes are not freed: a thread's environment goes when its
  // loop does, and an addon loaded by a worker alone is unloaded with it, before libuv would
  // run a callback of ours (it did, into unmapped code). libuv needs the handle's memory until
  // it has closed it.
  uv_close(reinterpret_cast<uv_handle_t*>(&lp->prepare), nullptr);
}

// loopPoll(maxUs): maxUs > 0 starts (or retunes) polling of this thread's loop, 0 stops it, -1
// changes nothing; returns [windowUs, polls, found, blocks] so far.
void LoopPollSet(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  int64_t maxUs;
  if (!IntArg(a, 0, &maxUs)) return;
  if (maxUs < -1 || maxUs > 1000000) return (void)ThrowType(isolate, "loopPoll: maxUs from -1 to 1000000 expected");
  uv_loop_t* loop = node::GetCurrentEventLoop(isolate);
  LoopPoll* lp = LoopPollOf(loop);
  if (lp == nullptr && maxUs > 0) {
    lp = new LoopPoll();
    lp->loop = loop;
    uv_prepare_init(loop, &lp->prepare);
    lp->prepare.data = lp;
    uv_prepare_start(&lp->prepare, PollBeforeBlocking);
    uv_unref(reinterpret_cast<uv_handle_t*>(&lp->prepare));  // never what keeps a process alive
    {
      std::lock_guard<std::mutex> g(loopPollsMu);
      loopPolls.push_back(lp);
    }
    node::AddEnvironmentCleanupHook(isolate, LoopPollCleanup, lp);
  }
  if (lp != nullptr && maxUs > 0) uv_loop_configure(loop, UV_METRICS_IDLE_TIME);  // what judges the window
  if (lp != nullptr && maxUs >= 0) {
    lp->maxNs = maxUs * 1000;
    lp->windowNs = lp->maxNs / 4 < kGrowStartNs && lp->maxNs > 0 ? kGrowStartNs : lp->maxNs / 4;
    if (lp->windowNs > lp->maxNs) lp->windowNs = lp->maxNs;
    lp->idleAtBlock = -1;
  }
  Local<Context> ctx = isolate->GetCurrentContext();
  Local<Array> out = Array::New(isolate, 4);
  double v[4] = {lp ? lp->windowNs / 1000.0 : 0, lp ? lp->polls : 0, lp ? lp->found : 0, lp ? lp->blocks : 0};
  for (uint32_t i = 0; i < 4; i++) out->Set(ctx, i, Number::New(isolate, v[i])).Check();
  a.GetReturnValue().Set(out);
}

// ---- the loop's idle-time metric ------------------------------------------------------------
// Node has libuv measure how long each loop sleeps in epoll_wait (UV_METRICS_IDLE_TIME, read by
// performance.eventLoopUtilization()). To tell sleep from work, a loop that has the metric and
// is about to block first calls epoll_wait with a zero timeout and only then blocks: one more
// system call every turn that sleeps. Two peers on one CPU sleep at every message, so that is
// two of them per round trip (0.1-0.3 µs of a 5.5 µs 9P round trip over shm, measured). libuv
// turns the metric on (uv_loop_configure) but has no call to turn it off: its flag is bit 0 of
// the first word of the loop's internal fields (uv__loop_internal_fields_t.flags, the layout
// of libuv 1.39, where the metric began, to this day), cleared here only on a libuv of that
// family (1.39 up to 2.0). Turning it on again is libuv's own uv_loop_configure.
constexpr unsigned kMetricsIdleTimeFlag = 1;  // UV_METRICS_IDLE_TIME in those flags

// A loop that polls before it blocks keeps the metric: its window is judged on the sleeps it
// measures (PollBeforeBlocking), and polling starts it again where it was dropped.
//
// loopIdleMetric(mode): mode 1 turns this thread's loop's idle-time metric on, 0 off, -1 only
// asks; returns 1 on, 0 off, 2 on because the loop polls (a 0 refused), or -1 where this libuv
// is not one whose flag is known (nothing done).
void LoopIdleMetric(const FunctionCallbackInfo<Value>& a) {
  Isolate* isolate = a.GetIsolate();
  int64_t mode;
  if (!IntArg(a, 0, &mode)) return;
  if (mode < -1 || mode > 1) return (void)ThrowType(isolate, "loopIdleMetric: mode -1, 0 or 1 expected");
  uv_loop_t* loop = node::GetCurrentEventLoop(isolate);
  unsigned v = uv_version();
  if (v < 0x012700 || v >= 0x020000 || loop->internal_fields == nullptr) return a.GetReturnValue().Set(-1);
  unsigned* flags = static_cast<unsigned*>(loop->internal_fields);
  if (mode == 1 && (*flags & kMetricsIdleTimeFlag) == 0) uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
  if (mode == 0) {
    LoopPoll* lp = LoopPollOf(loop);
    if (lp != nullptr && lp->maxNs > 0) return a.GetReturnValue().Set(2);  // its window is judged on the metric
    *flags &= ~kMetricsIdleTimeFlag;
  }
  a.GetReturnValue().Set((*flags & kMetricsIdleTimeFlag) != 0 ? 1 : 0);
}

void Method(Local<Object> exports, Local<Context> ctx, const char* name, v8::FunctionCallback fn) {
  Isolate* isolate = ctx->GetIsolate();
  exports->Set(ctx, String::NewFromUtf8(isolate, name).ToLocalChecked(),
               FunctionTemplate::New(isolate, fn)->GetFunction(ctx).ToLocalChecked()).Check();
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Method(exports, context, "memfdCreate", MemfdCreate);
  Method(exports, context, "fdInfo", FdInfo);
  Method(exports, context, "mapShared", MapShared);
  Method(exports, context, "eventfd", EventFd);
  Method(exports, context, "signal", Signal);
  Method(exports, context, "waitFd", WaitFd);
  Method(exports, context, "closeFd", CloseFd);
  Method(exports, context, "dupFd", DupFd);
  Method(exports, context, "unixListen", UnixListen);
  Method(exports, context, "unixAccept", UnixAccept);
  Method(exports, context, "unixConnect", UnixConnect);
  Method(exports, context, "sendMsg", SendMsg);
  Method(exports, context, "recvMsg", RecvMsg);
  Method(exports, context, "loopPoll", LoopPollSet);
  Method(exports, context, "loopIdleMetric", LoopIdleMetric);
  Watcher::Init(exports, context);
}
