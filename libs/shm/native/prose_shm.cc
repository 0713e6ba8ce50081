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
//
// Errors are thrown as Node ErrnoExceptions (err.code = 'EAGAIN', err.syscall = ...).
#include <node.h>
#include <node_object_wrap.h>
#include <uv.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
    exports->Set(ctx, String::NewFromUtf8Literal(isolate, "Watcher"), t->GetFunction(ctx).ToLocalChecked()).Check();
  }

 private:
  uv_poll_t poll_ = {};
  int fd_ = -1;
  bool drain_ = false;
  bool closed_ = false;
  Isolate* isolate_ = nullptr;
  Global<Function> cb_;
  // Descriptors closed once the poll handle is (close(), or the environment's teardown: a
  // terminated worker thread's doorbells do not outlive it).
  std::vector<int> owned_;

  // new Watcher(fd, drainEventfd, cb[, ownedFds])
  static void New(const FunctionCallbackInfo<Value>& a) {
    Isolate* isolate = a.GetIsolate();
    int64_t fd;
    if (!a.IsConstructCall() || !IntArg(a, 0, &fd) || !a[2]->IsFunction()) {
      return (void)ThrowType(isolate, "new Watcher(fd, drain, callback)");
    }
    Watcher* w = new Watcher();
    w->fd_ = static_cast<int>(fd);
    w->drain_ = a[1]->BooleanValue(isolate);
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
    if (w->drain_ && status == 0) {
      // One read takes the whole counter of a (non-semaphore) eventfd back to 0.
      uint64_t v;
      ssize_t n;
      do n = read(w->fd_, &v, sizeof v);
      while (n < 0 && errno == EINTR);
    }
    Isolate* isolate = w->isolate_;
    HandleScope scope(isolate);
    Local<Object> self = w->handle(isolate);
    Local<Value> argv[1] = {Integer::New(isolate, status)};
    node::MakeCallback(isolate, self, w->cb_.Get(isolate), 1, argv, node::async_context{0, 0});
  }

  void Shut(bool fromCleanup) {
    if (closed_) return;
    closed_ = true;
    cb_.Reset();
    if (!fromCleanup) node::RemoveEnvironmentCleanupHook(isolate_, Cleanup, this);
    uv_poll_stop(&poll_);
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

  static void UnrefHandle(const FunctionCallbackInfo<Value>& a) {
    Watcher* w = ObjectWrap::Unwrap<Watcher>(a.This());
    if (!w->closed_) uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll_));
  }
};

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
  Watcher::Init(exports, context);
}
