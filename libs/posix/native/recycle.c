// recycle: memory for Buffers that a process allocates and drops at a high rate (big received
// frames), given back to free lists of its own when V8 collects them, not to the C library
// (src/recycle.ts says why).
//
//   recycledBuffer(size) -> a Buffer of `size` bytes (contents undefined) | -errno; its memory
//                           goes back to a free list when the Buffer is collected
//   recycleStats()       -> [idleBytes, reused, fresh]: bytes waiting on the free lists; Buffers
//                           made from a recycled block, and from a newly mapped one
//   recycleTrim(keep)    -> bytes unmapped: idle blocks let go, the biggest first, until at
//                           most `keep` bytes wait
//
// A block is `size` rounded up to whole pages, and waits on the list of its page count
// (sizes up to MAX_POOLED; bigger ones are mapped and unmapped each time). At most IDLE_MAX
// bytes wait; a block freed beyond that is unmapped. Collected Buffers may be finalized on
// another thread than the one that made them: a mutex guards the lists.

#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "napi_util.h"
#include "recycle.h"

#define PAGE 4096u
#define MAX_POOLED (16u * 1024u * 1024u)
#define CLASSES (MAX_POOLED / PAGE)
#define IDLE_MAX ((size_t)64u * 1024u * 1024u)

// A free block's first bytes link it to the next free block of its class.
struct free_block {
  struct free_block* next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct free_block* lists[CLASSES + 1];
static size_t idle_bytes;
static double n_reused, n_fresh;

static void* take_block(size_t cap) {
  if (cap <= MAX_POOLED) {
    pthread_mutex_lock(&lock);
    struct free_block* b = lists[cap / PAGE];
    if (b != NULL) {
      lists[cap / PAGE] = b->next;
      idle_bytes -= cap;
      n_reused++;
    } else {
      n_fresh++;
    }
    pthread_mutex_unlock(&lock);
    if (b != NULL) return b;
  }
  void* p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void give_block(void* p, size_t cap) {
  if (cap <= MAX_POOLED) {
    pthread_mutex_lock(&lock);
    if (idle_bytes + cap <= IDLE_MAX) {
      struct free_block* b = p;
      b->next = lists[cap / PAGE];
      lists[cap / PAGE] = b;
      idle_bytes += cap;
      p = NULL;
    }
    pthread_mutex_unlock(&lock);
  }
  if (p != NULL) munmap(p, cap);
}

static void recycle_finalize(napi_env env, void* data, void* hint) {
  give_block(data, (size_t)(uintptr_t)hint);
}

static napi_value RecycledBuffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int64_t size;
  if (argc < 1 || napi_get_value_int64(env, a[0], &size) != napi_ok || size <= 0 || size > ((int64_t)1 << 40)) {
    return type_error(env, "recycledBuffer(size: a positive integer) expected");
  }
  size_t cap = ((size_t)size + PAGE - 1) / PAGE * PAGE;
  void* p = take_block(cap);
  if (p == NULL) return num(env, -ENOMEM);
  napi_value buf = external_buffer(env, p, (size_t)size, recycle_finalize, (void*)(uintptr_t)cap);
  if (buf == NULL) {
    give_block(p, cap);
    return num(env, -ENOTSUP);
  }
  return buf;
}

static napi_value RecycleStats(napi_env env, napi_callback_info info) {
  pthread_mutex_lock(&lock);
  double v[3] = {(double)idle_bytes, n_reused, n_fresh};
  pthread_mutex_unlock(&lock);
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  for (uint32_t i = 0; i < 3; i++) napi_set_element(env, arr, i, num(env, v[i]));
  return arr;
}

static napi_value RecycleTrim(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int64_t keep;
  if (argc < 1 || napi_get_value_int64(env, a[0], &keep) != napi_ok || keep < 0) {
    return type_error(env, "recycleTrim(keepBytes: a non-negative integer) expected");
  }
  // Unlinked under the lock, unmapped after it.
  struct free_block* drop = NULL;
  size_t dropped = 0;
  pthread_mutex_lock(&lock);
  for (size_t c = CLASSES; c > 0 && idle_bytes > (size_t)keep; c--) {
    while (lists[c] != NULL && idle_bytes > (size_t)keep) {
      struct free_block* b = lists[c];
      lists[c] = b->next;
      idle_bytes -= c * PAGE;
      dropped += c * PAGE;
      // (the block's size travels with it: its class, written where the link was)
      b->next = drop;
      ((size_t*)b)[1] = c * PAGE;
      drop = b;
    }
  }
  pthread_mutex_unlock(&lock);
  while (drop != NULL) {
    struct free_block* next = drop->next;
    munmap(drop, ((size_t*)drop)[1]);
    drop = next;
  }
  return num(env, (double)dropped);
}

void recycle_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"recycledBuffer", NULL, RecycledBuffer, NULL, NULL, NULL, napi_enumerable, NULL},
    {"recycleStats", NULL, RecycleStats, NULL, NULL, NULL, napi_enumerable, NULL},
    {"recycleTrim", NULL, RecycleTrim, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
