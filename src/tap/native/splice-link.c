/*
 * vmstate tap's zero-copy link (Linux): moves the source's bytes to the destination, and the
 * destination's return path to the source, with splice(2) in two threads of their own, so no
 * byte of a migration is copied through this process on its way. The tap still sees every
 * source byte: tee(2) duplicates each piece, before it goes on, into a pipe the tap reads and
 * decodes. A tap that reads too slowly fills that pipe and tee waits: backpressure reaches the
 * source as it does through the destination.
 *
 * From JavaScript (src/tap/splice-link.ts):
 *   start(sourceFd, destFd, onEvent) -> [handle, teeFd]   the fds are dup'ed: close yours
 *   endSource(handle)      shutdown(source, SHUT_WR): the destination's FIN passed on
 *   destroySource(handle)  shutdown(source, SHUT_RDWR): the source sees its migration fail
 *   destroyDest(handle)    shutdown(destination, SHUT_RDWR)
 *   counters(handle) -> [forwarded, returned]
 * onEvent(type, code, forwarded, returned, teed), on the JS thread, in this order per thread
 * (forwarded and returned count the bytes each write handed on, as it returns; teed the source
 * bytes in the tap's copy, each piece counted before it goes on: all the destination can have
 * seen, while a write of it may still be under way):
 *   'source-end'  the source's side ended (code: its errno name, or undefined for a clean FIN);
 *                 the destination got a FIN and the tee pipe is closed after it
 *   'dest-gone'   a write to the destination failed (code): the rest is read and dropped
 *   'dest-end'    the destination's side ended (code as for source-end)
 *   'closed'      both threads are done and every descriptor is closed
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (1 << 20)

typedef struct {
  int src, dst;
  int tee_r, tee_w;
  int null_fd;
  _Atomic int64_t forwarded;
  _Atomic int64_t returned;
  _Atomic int64_t teed;
  _Atomic int threads_left;
  pthread_mutex_t lock; /* guards `closed` against shutdown() on a closed descriptor */
  int closed;
  napi_threadsafe_function tsfn;
  /* Keeps the handle (and so this struct) alive until 'closed' has been delivered. */
  napi_ref self;
} Link;

typedef struct {
  const char *type;
  int err; /* 0: none */
  int64_t forwarded, returned, teed;
} Event;

static void post(Link *l, const char *type, int err) {
  Event *e = malloc(sizeof *e);
  if (!e) return;
  e->type = type;
  e->err = err;
  e->forwarded = atomic_load(&l->forwarded);
  e->returned = atomic_load(&l->returned);
  e->teed = atomic_load(&l->teed);
  if (napi_call_threadsafe_function(l->tsfn, e, napi_tsfn_blocking) != napi_ok) free(e);
}

static void call_js(napi_env env, napi_value cb, void *context, void *data) {
  Event *e = data;
  Link *l = context;
  if (env && cb) {
    napi_value argv[5], undefined;
    napi_get_undefined(env, &undefined);
    napi_create_string_utf8(env, e->type, NAPI_AUTO_LENGTH, &argv[0]);
    if (e->err) {
      const char *name = strerrorname_np(e->err);
      napi_create_string_utf8(env, name ? name : "EIO", NAPI_AUTO_LENGTH, &argv[1]);
    } else
      argv[1] = undefined;
    napi_create_double(env, (double)e->forwarded, &argv[2]);
    napi_create_double(env, (double)e->returned, &argv[3]);
    napi_create_double(env, (double)e->teed, &argv[4]);
    napi_call_function(env, undefined, cb, 5, argv, NULL);
  }
  if (env && strcmp(e->type, "closed") == 0 && l->self) {
    napi_delete_reference(env, l->self);
    l->self = NULL;
  }
  free(e);
}

static void thread_done(Link *l) {
  if (atomic_fetch_sub(&l->threads_left, 1) != 1) return;
  pthread_mutex_lock(&l->lock);
  close(l->src);
  close(l->dst);
  close(l->null_fd);
  l->closed = 1;
  pthread_mutex_unlock(&l->lock);
  post(l, "closed", 0);
  napi_release_threadsafe_function(l->tsfn, napi_tsfn_release);
}

/*
 * Splices `n` bytes from the head of pipe `from` to `to`, or to /dev/null once `to` failed;
 * `handed` counts what each write moved to `to`. A write that fails partway (the peer reset the
 * connection after reading the first part of a piece) still counts the part it moved.
 */
static int pass_on(Link *l, int from, int to, ssize_t n, int *to_ok, int *to_err,
                   _Atomic int64_t *handed) {
  while (n > 0) {
    int real = *to_ok;
    ssize_t w = splice(from, NULL, real ? to : l->null_fd, NULL, n, SPLICE_F_MOVE);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (!*to_ok) return -1; /* even /dev/null refused: give up */
      *to_ok = 0;
      *to_err = w < 0 ? errno : EPIPE;
      continue;
    }
    if (real) atomic_fetch_add(handed, w);
    n -= w;
  }
  return 0;
}

/* Signals are the JS thread's business: none interrupts these threads' system calls. */
static void block_signals(void) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
}

static void *forward_thread(void *arg) {
  Link *l = arg;
  block_signals();
  int p[2];
  int src_err = 0, dst_ok = 1, dst_err = 0, tee_ok = 1;
  if (pipe2(p, O_CLOEXEC)) {
    src_err = errno;
    goto out;
  }
  fcntl(p[1], F_SETPIPE_SZ, CHUNK);
  for (;;) {
    ssize_t n = splice(l->src, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) src_err = errno;
      break;
    }
    while (n > 0) {
      ssize_t m = n;
      if (tee_ok) {
        m = tee(p[0], l->tee_w, n, 0);
        if (m < 0 && errno == EINTR) continue;
        if (m <= 0) {
          tee_ok = 0; /* the tap closed its end: forward only */
          m = n;
        } else
          atomic_fetch_add(&l->teed, m); /* in the copy before any of it goes on */
      }
      /* What was tee'd goes on; the next tee starts at the pipe's new head. */
      int was_ok = dst_ok;
      if (pass_on(l, p[0], l->dst, m, &dst_ok, &dst_err, &l->forwarded)) {
        src_err = EIO;
        goto done;
      }
      if (was_ok && !dst_ok) post(l, "dest-gone", dst_err);
      n -= m;
    }
  }
done:
  /* Said before the FIN goes on, so that the tap hears of it before of the destination's answer. */
  post(l, "source-end", src_err);
  if (dst_ok) shutdown(l->dst, SHUT_WR);
  close(p[0]);
  close(p[1]);
  close(l->tee_w);
  thread_done(l);
  return NULL;
out:
  post(l, "source-end", src_err);
  close(l->tee_w);
  thread_done(l);
  return NULL;
}

static void *return_thread(void *arg) {
  Link *l = arg;
  block_signals();
  int p[2];
  int dst_err = 0, src_ok = 1, src_err = 0;
  if (pipe2(p, O_CLOEXEC)) {
    dst_err = errno;
    goto out;
  }
  for (;;) {
    ssize_t n = splice(l->dst, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) dst_err = errno;
      break;
    }
    if (pass_on(l, p[0], l->src, n, &src_ok, &src_err, &l->returned)) break;
  }
  close(p[0]);
  close(p[1]);
out:
  post(l, "dest-end", dst_err);
  thread_done(l);
  return NULL;
}

static int blocking_dup(int fd) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return -1;
  int flags = fcntl(d, F_GETFL);
  if (flags < 0 || fcntl(d, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    close(d);
    return -1;
  }
  return d;
}

static napi_value throw_errno(napi_env env, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_throw_error(env, strerrorname_np(errno), msg);
  return NULL;
}

static void finalize_link(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  /* Only once both threads are done with it: `self` keeps the handle alive till then. */
  Link *l = data;
  pthread_mutex_destroy(&l->lock);
  free(l);
}

static Link *link_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a splice link handle");
    return NULL;
  }
  return data;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], handle, tee_fd, result;
  int32_t src_fd, dst_fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_int32(env, argv[0], &src_fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &dst_fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "start(sourceFd, destFd, onEvent)");
    return NULL;
  }
  Link *l = calloc(1, sizeof *l);
  if (!l) return throw_errno(env, "calloc");
  int tee[2];
  l->src = blocking_dup(src_fd);
  l->dst = blocking_dup(dst_fd);
  l->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (l->src < 0 || l->dst < 0 || l->null_fd < 0 || pipe2(tee, O_CLOEXEC)) {
    int e = errno;
    if (l->src >= 0) close(l->src);
    if (l->dst >= 0) close(l->dst);
    if (l->null_fd >= 0) close(l->null_fd);
    free(l);
    errno = e;
    return throw_errno(env, "splice link");
  }
  l->tee_r = tee[0];
  l->tee_w = tee[1];
  fcntl(l->tee_w, F_SETPIPE_SZ, CHUNK);
  pthread_mutex_init(&l->lock, NULL);
  atomic_store(&l->threads_left, 2);

  napi_value name;
  napi_create_string_utf8(env, "vmstate-splice-link", NAPI_AUTO_LENGTH, &name);
  napi_create_external(env, l, finalize_link, NULL, &handle);
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, l, call_js,
                                      &l->tsfn) != napi_ok) {
    close(l->src);
    close(l->dst);
    close(l->null_fd);
    close(tee[0]);
    close(tee[1]);
    l->closed = 1;
    napi_throw_error(env, NULL, "cannot create the splice link's event function");
    return NULL;
  }
  napi_create_reference(env, handle, 1, &l->self);
  pthread_t t1, t2;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_create(&t1, &attr, forward_thread, l);
  pthread_create(&t2, &attr, return_thread, l);
  pthread_attr_destroy(&attr);

  napi_create_int32(env, l->tee_r, &tee_fd);
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, handle);
  napi_set_element(env, result, 1, tee_fd);
  return result;
}

static napi_value shutdown_side(napi_env env, napi_callback_info info, int source, int how) {
  Link *l = link_of(env, info);
  if (!l) return NULL;
  pthread_mutex_lock(&l->lock);
  if (!l->closed) shutdown(source ? l->src : l->dst, how);
  pthread_mutex_unlock(&l->lock);
  return NULL;
}

static napi_value end_source(napi_env env, napi_callback_info info) {
  return shutdown_side(env, info, 1, SHUT_WR);
}
static napi_value destroy_source(napi_env env, napi_callback_info info) {
  return shutdown_side(env, info, 1, SHUT_RDWR);
}
static napi_value destroy_dest(napi_env env, napi_callback_info info) {
  return shutdown_side(env, info, 0, SHUT_RDWR);
}

static napi_value counters(napi_env env, napi_callback_info info) {
  Link *l = link_of(env, info);
  napi_value result, v;
  if (!l) return NULL;
  napi_create_array_with_length(env, 2, &result);
  napi_create_double(env, (double)atomic_load(&l->forwarded), &v);
  napi_set_element(env, result, 0, v);
  napi_create_double(env, (double)atomic_load(&l->returned), &v);
  napi_set_element(env, result, 1, v);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"endSource", NULL, end_source, NULL, NULL, NULL, napi_default, NULL},
      {"destroySource", NULL, destroy_source, NULL, NULL, NULL, napi_default, NULL},
      {"destroyDest", NULL, destroy_dest, NULL, NULL, NULL, napi_default, NULL},
      {"counters", NULL, counters, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
