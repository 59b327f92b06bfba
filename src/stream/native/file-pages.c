/*
 * RAM page records of a stream file, read through a mapping of the file instead of copied into
 * the process (Linux). A GiB of guest RAM is 262,144 records of an 8-byte header and a 4 KiB
 * page; the walk needs only the headers, and an extract or a copy needs the pages where they
 * go. read(2) copies every byte from the page cache first; a mapping only maps the cached pages
 * (the kernel maps 16 at a time on a fault), and pwritev(2) from a mapping copies each page once,
 * straight into the output file's page cache.
 *
 * The file is mapped a window at a time (WINDOW bytes; one window is kept mapped at most, see
 * `kept`), so resident memory stays bounded at any file size.
 *
 * A file cut short while it is mapped makes a read of a page past its new end raise SIGBUS.
 * scan() reads under a guard that turns that signal into "nothing taken" (the caller reads the
 * same bytes with pread and gets the truncation as usual); pwritev meets it inside the kernel,
 * which returns EFAULT instead, and writePages() returns what it wrote before that. A SIGBUS
 * outside a guarded scan goes to the handler that was there before.
 *
 * From JavaScript (src/stream/file-pages.ts):
 *   scan(fd, pos, end, pageSize, blockLength, stretches, ops) -> entries
 *     walks the records from pos that are a data page or a zero page of the current block
 *     (CONTINUE set, address below blockLength), whole before `end`, and stops at the first other
 *     record. ops is a Float64Array: [0] where it stopped, [1] status (STOP 0: at a record it
 *     does not take, or at `end`; MORE 1: at the end of the window or of ops, call again; FAULT
 *     2 or UNMAPPED 3: nothing taken), [2] data pages, [3] zero pages, [4] zero pages whose fill
 *     byte is not 0; from [8] on, entries of 4: [STREAK, flags, records, 0] for each run of
 *     records with the same flags, and with `stretches` also [STRETCH, address, offset of the
 *     first record, pages] for data pages at consecutive addresses and [ZERO, address, 0, 0] for
 *     a zero page of fill 0, in stream order. With `stretches` a zero page whose fill is not 0
 *     is left to the caller (its bytes are written, not skipped).
 *   writePages(inFd, from, stride, pageSize, count, outFd, outPos) -> bytes written
 *     writes `count` pages of `pageSize` bytes found in the input file every `stride` bytes from
 *     `from` to the output at outPos; fewer bytes than asked when the input ends first (EFAULT);
 *     throws an errno error (code ENOSPC...) when a write fails.
 *   hashPages(fd, from, stride, pageSize, count, out) -> pages hashed
 *     the 64-bit hash of each of `count` pages of `pageSize` bytes found every `stride` bytes from
 *     `from`, as two 32-bit words into the Uint32Array `out` (2 * count long): the hash of
 *     src/diff/page-hashes.ts's pageHash, bit for bit. Fewer pages than asked when the file ends
 *     (or was cut while mapped) before them.
 *   release(fd)   unmaps the window kept for fd (see `kept`), before fd is closed.
 *   punchHole(fd, offset, length)   makes those bytes of a file a hole (zeros, no blocks), keeping
 *     its size: what an extract into an earlier extract's block file did not write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <node_api.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define WINDOW (8u << 20)

enum { STOP = 0, MORE = 1, FAULT = 2, UNMAPPED = 3 };
enum { STREAK = 0, STRETCH = 1, ZERO = 2 };
enum { HEADER = 8, ENTRY = 4 };

/* QEMU's RAM_SAVE_FLAG_ZERO, _PAGE and _CONTINUE. */
#define FLAG_ZERO 0x02
#define FLAG_PAGE 0x08
#define FLAG_CONTINUE 0x20

static __thread sigjmp_buf *volatile guard;
static struct sigaction previous;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int installed;

static void on_sigbus(int sig, siginfo_t *si, void *ctx) {
  sigjmp_buf *g = guard;
  if (g) siglongjmp(*g, 1);
  /* Not a guarded read: put the earlier disposition back; the faulting access runs again and
   * meets it. */
  atomic_store(&installed, 0);
  sigaction(SIGBUS, &previous, NULL);
  (void)sig;
  (void)si;
  (void)ctx;
}

static void install(void) {
  pthread_mutex_lock(&install_lock);
  if (atomic_load(&installed)) {
    pthread_mutex_unlock(&install_lock);
    return;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &previous);
  atomic_store(&installed, 1);
  pthread_mutex_unlock(&install_lock);
}

static uint32_t be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s, %s", strerrorname_np(err), strerror(err), what);
  napi_throw_error(env, strerrorname_np(err), msg);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc == want;
}

static int number(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

typedef struct {
  double *ops;
  size_t cap; /* entries that fit */
  size_t n;
} Entries;

static void put(Entries *e, double kind, double a, double b, double c) {
  double *o = e->ops + HEADER + ENTRY * e->n++;
  o[0] = kind;
  o[1] = a;
  o[2] = b;
  o[3] = c;
}

/*
 * The window the last scan of this thread mapped, when it found stretches: kept for the
 * writePages calls that follow (their pages are mapped already, so the write takes no second
 * round of faults), until the next scan or release(). The file's device and inode are checked
 * again before it is used: a descriptor number can be reused for another file.
 */
typedef struct {
  int fd;
  dev_t dev;
  ino_t ino;
  uint64_t from, len;
  unsigned char *m;
} Window;
static __thread Window kept;

static void drop_kept(void) {
  if (kept.m) munmap(kept.m, kept.len);
  kept.m = NULL;
}

static void keep(int fd, unsigned char *m, uint64_t from, uint64_t len) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    munmap(m, len);
    return;
  }
  kept = (Window){fd, st.st_dev, st.st_ino, from, len, m};
}

/* kept's mapping when it holds [from, to) of the file open as fd, else NULL. */
static unsigned char *kept_for(int fd, uint64_t from, uint64_t to) {
  struct stat st;
  if (!kept.m || kept.fd != fd || from < kept.from || to > kept.from + kept.len) return NULL;
  if (fstat(fd, &st) != 0 || st.st_dev != kept.dev || st.st_ino != kept.ino) return NULL;
  return kept.m + (from - kept.from);
}

/* One window's walk (see scan): reads only through `m`, under the SIGBUS guard. */
typedef struct {
  const unsigned char *m;
  uint64_t map_from, win_end, end;
  uint32_t page_size;
  double block_len;
  bool stretches;
  Entries e;
  uint64_t p;
  double pages, zeros, non_zero_fill;
  int status;
} Walk;

__attribute__((noinline)) static void walk_records(Walk *w) {
  const uint32_t page_size = w->page_size, mask = page_size - 1;
  const uint64_t record = HEADER + page_size;
  const uint64_t win_end = w->win_end;
  const bool stretches = w->stretches;
  Entries *e = &w->e;
  uint64_t p = w->p;
  double pages = 0, zeros = 0, non_zero_fill = 0;
  uint32_t streak_flags = UINT32_MAX;
  double streak = 0;
  double run_addr = 0, run_from = 0, run_count = 0;
  int status = STOP;
  for (;;) {
    if (p + 9 > win_end) {
      status = win_end < w->end ? MORE : STOP;
      break;
    }
    /* Room for this record's entries (3 at most) and the two the end adds. */
    if (e->n + 5 > e->cap) {
      status = MORE;
      break;
    }
    const unsigned char *h = w->m + (p - w->map_from);
    const uint32_t hi = be32(h);
    if (hi >= 0x200000) break;
    const uint32_t lo = be32(h + 4);
    const uint32_t flags = lo & mask;
    const double addr = (double)hi * 4294967296.0 + (double)(lo - flags);
    if (addr >= w->block_len) break;
    if (flags == (FLAG_PAGE | FLAG_CONTINUE)) {
      if (p + record > win_end) {
        status = win_end < w->end ? MORE : STOP;
        break;
      }
      if (stretches) {
        if (run_count > 0 && addr == run_addr + run_count * page_size)
          run_count++;
        else {
          if (run_count > 0) put(e, STRETCH, run_addr, run_from, run_count);
          run_addr = addr;
          run_from = (double)p;
          run_count = 1;
        }
      }
      pages++;
      p += record;
    } else if (flags == (FLAG_ZERO | FLAG_CONTINUE)) {
      if (stretches) {
        if (h[8] != 0) break;
        if (run_count > 0) put(e, STRETCH, run_addr, run_from, run_count);
        run_count = 0;
        put(e, ZERO, addr, 0, 0);
      } else if (h[8] != 0)
        non_zero_fill++;
      zeros++;
      p += 9;
    } else
      break;
    if (flags != streak_flags) {
      if (streak > 0) put(e, STREAK, streak_flags, streak, 0);
      streak_flags = flags;
      streak = 0;
    }
    streak++;
  }
  if (run_count > 0) put(e, STRETCH, run_addr, run_from, run_count);
  if (streak > 0) put(e, STREAK, streak_flags, streak, 0);
  w->p = p;
  w->pages = pages;
  w->zeros = zeros;
  w->non_zero_fill = non_zero_fill;
  w->status = status;
}

/* walk_records, or 0 when a SIGBUS cut it short (the file was cut while mapped). */
__attribute__((noinline)) static int guarded_walk(Walk *w) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1)) {
    guard = NULL;
    return 0;
  }
  guard = &jump;
  walk_records(w);
  guard = NULL;
  return 1;
}

static napi_value scan(napi_env env, napi_callback_info info) {
  napi_value argv[7], result;
  double pos_d, end_d, page_d, block_len;
  int32_t fd;
  bool stretches;
  void *data;
  size_t length;
  napi_typedarray_type type;
  if (!get_args(env, info, 7, argv) || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      !number(env, argv[1], &pos_d) || !number(env, argv[2], &end_d) ||
      !number(env, argv[3], &page_d) || !number(env, argv[4], &block_len) ||
      napi_get_value_bool(env, argv[5], &stretches) != napi_ok ||
      napi_get_typedarray_info(env, argv[6], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < HEADER + 8 * ENTRY || pos_d < 0 || end_d < pos_d ||
      end_d > 9007199254740992.0 || page_d < 512 || page_d > (1 << 20) ||
      ((uint32_t)page_d & ((uint32_t)page_d - 1))) {
    napi_throw_type_error(env, NULL,
                          "scan(fd, pos, end, pageSize, blockLength, stretches, Float64Array ops)");
    return NULL;
  }
  double *ops = data;
  ops[0] = pos_d;
  ops[1] = UNMAPPED;
  ops[2] = ops[3] = ops[4] = 0;
  napi_create_uint32(env, 0, &result);

  const uint64_t pos = (uint64_t)pos_d, end = (uint64_t)end_d;
  const uint64_t os_page = (uint64_t)sysconf(_SC_PAGESIZE);
  const uint64_t map_from = pos & ~(os_page - 1);
  const uint64_t map_len = end - map_from < WINDOW ? end - map_from : WINDOW;
  drop_kept();
  if (map_len == 0) return result;
  unsigned char *const m = mmap(NULL, map_len, PROT_READ, MAP_SHARED, fd, (off_t)map_from);
  if (m == MAP_FAILED) return result;
  madvise(m, map_len, MADV_SEQUENTIAL);
  if (!atomic_load(&installed)) install();

  Walk w = {m, map_from, map_from + map_len, end, (uint32_t)page_d, block_len, stretches,
            {ops, (length - HEADER) / ENTRY, 0}, pos, 0, 0, 0, STOP};
  const int read_all = guarded_walk(&w);
  int stretch_found = 0;
  for (size_t i = 0; read_all && i < w.e.n && !stretch_found; i++)
    stretch_found = ops[HEADER + ENTRY * i] == STRETCH;
  if (stretch_found)
    keep(fd, m, map_from, map_len);
  else
    munmap(m, map_len);
  if (!read_all) {
    /* The file was cut while mapped: nothing is taken, and pread tells the rest. */
    ops[1] = FAULT;
    return result;
  }
  ops[0] = (double)w.p;
  ops[1] = w.status;
  ops[2] = w.pages;
  ops[3] = w.zeros;
  ops[4] = w.non_zero_fill;
  napi_create_uint32(env, (uint32_t)w.e.n, &result);
  return result;
}

/* A window of a file mapped for pages every `stride` bytes from offset `first`. */
typedef struct {
  unsigned char *m;
  uint64_t len;
  /* Where the page at `first` is in the mapping, and how many of the pages fit in it. */
  const unsigned char *first;
  uint64_t n;
} PageWindow;

/*
 * Maps the pages from `first` (at most `left`, every `stride` bytes) that fit in one window
 * starting at the OS page holding `first`. Returns 0, or errno when mmap fails.
 */
static int map_pages(int fd, uint64_t first, uint64_t stride, uint64_t page_size, uint64_t left,
                     PageWindow *w) {
  const uint64_t os_page = (uint64_t)sysconf(_SC_PAGESIZE);
  const uint64_t map_from = first & ~(os_page - 1);
  uint64_t n = (map_from + WINDOW - first - page_size) / stride + 1;
  if (n > left) n = left;
  const uint64_t map_len = first + (n - 1) * stride + page_size - map_from;
  unsigned char *m = mmap(NULL, map_len, PROT_READ, MAP_SHARED, fd, (off_t)map_from);
  if (m == MAP_FAILED) return errno ? errno : EIO;
  madvise(m, map_len, MADV_SEQUENTIAL);
  *w = (PageWindow){m, map_len, m + (first - map_from), n};
  return 0;
}

/*
 * Writes n pages found every `stride` bytes from `src` to out_fd at `out`, adding to *written.
 * Returns 0, 1 when the input ended under the mapping (EFAULT: what was written stands), or an
 * errno.
 */
static int write_mapped(const unsigned char *src, uint64_t n, uint64_t stride, uint64_t page_size,
                        int out_fd, uint64_t out, uint64_t *written) {
  struct iovec iov[IOV_MAX];
  for (uint64_t i = 0; i < n;) {
    uint64_t k = n - i < IOV_MAX ? n - i : IOV_MAX;
    for (uint64_t j = 0; j < k; j++) {
      iov[j].iov_base = (void *)(src + (i + j) * stride);
      iov[j].iov_len = page_size;
    }
    /* A short write goes on from where it stopped: the next call reports a full disk. */
    uint64_t want = k * page_size, got = 0;
    while (got < want) {
      const uint64_t skip = got / page_size, in_page = got % page_size;
      iov[skip].iov_base = (unsigned char *)iov[skip].iov_base + in_page;
      iov[skip].iov_len -= in_page;
      ssize_t w = pwritev(out_fd, iov + skip, (int)(k - skip), (off_t)(out + *written));
      iov[skip].iov_base = (unsigned char *)iov[skip].iov_base - in_page;
      iov[skip].iov_len += in_page;
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return errno == EFAULT ? 1 : errno;
      if (w == 0) return EIO;
      got += (uint64_t)w;
      *written += (uint64_t)w;
    }
    i += k;
  }
  return 0;
}

static napi_value write_pages(napi_env env, napi_callback_info info) {
  napi_value argv[7], result;
  int32_t in_fd, out_fd;
  double from_d, stride_d, page_d, count_d, out_d;
  if (!get_args(env, info, 7, argv) || napi_get_value_int32(env, argv[0], &in_fd) != napi_ok ||
      !number(env, argv[1], &from_d) || !number(env, argv[2], &stride_d) ||
      !number(env, argv[3], &page_d) || !number(env, argv[4], &count_d) ||
      napi_get_value_int32(env, argv[5], &out_fd) != napi_ok || !number(env, argv[6], &out_d) ||
      from_d < 0 || out_d < 0 || count_d < 0 || page_d < 1 || stride_d < page_d ||
      stride_d + page_d > WINDOW / 2) {
    napi_throw_type_error(env, NULL,
                          "writePages(inFd, from, stride, pageSize, count, outFd, outPos)");
    return NULL;
  }
  const uint64_t from = (uint64_t)from_d, stride = (uint64_t)stride_d, count = (uint64_t)count_d;
  const uint64_t page_size = (uint64_t)page_d;
  const uint64_t out = (uint64_t)out_d;
  uint64_t done = 0, written = 0;
  int err = 0;
  /* Pages the last scan found are in its window, mapped already. */
  const unsigned char *in_kept =
      count ? kept_for(in_fd, from, from + (count - 1) * stride + page_size) : NULL;
  if (in_kept) {
    err = write_mapped(in_kept, count, stride, page_size, out_fd, out, &written);
    done = count;
  }
  while (done < count && !err) {
    PageWindow w = {0};
    const int map_err = map_pages(in_fd, from + done * stride, stride, page_size, count - done, &w);
    if (map_err) return throw_errno(env, map_err, "mmap");
    err = write_mapped(w.first, w.n, stride, page_size, out_fd, out, &written);
    munmap(w.m, w.len);
    done += w.n;
  }
  if (err > 1) return throw_errno(env, err, "pwritev");
  napi_create_double(env, (double)written, &result);
  return result;
}

/* pageHash of src/diff/page-hashes.ts: four FNV-style lanes over 32-bit little-endian words. */
#define HASH_PRIME 0x01000193u
static inline uint32_t word_at(const unsigned char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}
static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static void page_hash(const unsigned char *d, uint32_t len, uint32_t *out) {
  const uint32_t words = len >> 2, n = words & ~7u;
  uint32_t h1 = 0x811c9dc5u ^ len, h2 = 0x9e3779b9u, h3 = 0x85ebca6bu, h4 = 0xc2b2ae35u;
  uint32_t i = 0;
  for (; i < n; i += 8) {
    const unsigned char *w = d + 4 * i;
    h1 = ((h1 ^ word_at(w)) * HASH_PRIME) ^ word_at(w + 16);
    h2 = ((h2 ^ word_at(w + 4)) * HASH_PRIME) ^ word_at(w + 20);
    h3 = ((h3 ^ word_at(w + 8)) * HASH_PRIME) ^ word_at(w + 24);
    h4 = ((h4 ^ word_at(w + 12)) * HASH_PRIME) ^ word_at(w + 28);
  }
  for (; i < words; i++) h1 = (h1 ^ word_at(d + 4 * i)) * HASH_PRIME;
  for (uint32_t k = words * 4; k < len; k++) h2 = (h2 ^ d[k]) * HASH_PRIME;
  h1 *= HASH_PRIME;
  h2 *= HASH_PRIME;
  h3 *= HASH_PRIME;
  h4 *= HASH_PRIME;
  out[0] = h1 ^ (rotl32(h2, 13) * 0x27d4eb2fu);
  out[1] = h3 ^ (rotl32(h4, 7) * 0x165667b1u);
}

/* Hashes n pages every `stride` bytes from `src` into out; *done counts them (a SIGBUS stops it). */
__attribute__((noinline)) static void hash_mapped(const unsigned char *src, uint64_t n,
                                                   uint64_t stride, uint32_t page_size,
                                                   uint32_t *out, volatile uint64_t *done) {
  for (uint64_t i = 0; i < n; i++) {
    page_hash(src + i * stride, page_size, out + 2 * i);
    *done = i + 1;
  }
}

/* hash_mapped, or 0 when a SIGBUS cut it short (the file was cut while mapped). */
__attribute__((noinline)) static int guarded_hash(const unsigned char *src, uint64_t n,
                                                   uint64_t stride, uint32_t page_size,
                                                   uint32_t *out, volatile uint64_t *done) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1)) {
    guard = NULL;
    return 0;
  }
  guard = &jump;
  hash_mapped(src, n, stride, page_size, out, done);
  guard = NULL;
  return 1;
}

static napi_value hash_pages(napi_env env, napi_callback_info info) {
  napi_value argv[6], result;
  int32_t fd;
  double from_d, stride_d, page_d, count_d;
  void *data;
  size_t length;
  napi_typedarray_type type;
  if (!get_args(env, info, 6, argv) || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      !number(env, argv[1], &from_d) || !number(env, argv[2], &stride_d) ||
      !number(env, argv[3], &page_d) || !number(env, argv[4], &count_d) ||
      napi_get_typedarray_info(env, argv[5], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint32_array || from_d < 0 || from_d > 9007199254740992.0 || count_d < 0 ||
      page_d < 1 || page_d > (1 << 20) || stride_d < page_d || stride_d + page_d > WINDOW / 2 ||
      2 * count_d > (double)length) {
    napi_throw_type_error(env, NULL,
                          "hashPages(fd, from, stride, pageSize, count, Uint32Array out)");
    return NULL;
  }
  const uint64_t from = (uint64_t)from_d, stride = (uint64_t)stride_d, count = (uint64_t)count_d;
  const uint32_t page_size = (uint32_t)page_d;
  uint32_t *out = data;
  struct stat st;
  if (fstat(fd, &st) != 0) return throw_errno(env, errno, "fstat");
  const uint64_t size = (uint64_t)st.st_size;
  if (!atomic_load(&installed)) install();
  uint64_t done = 0;
  int whole = 1;
  /* Pages the last scan found are in its window, mapped already. */
  const unsigned char *in_kept =
      count ? kept_for(fd, from, from + (count - 1) * stride + page_size) : NULL;
  if (in_kept) {
    volatile uint64_t n = 0;
    whole = guarded_hash(in_kept, count, stride, page_size, out, &n);
    done = n;
  }
  while (whole && done < count) {
    const uint64_t first = from + done * stride;
    if (first + page_size > size) break;
    /* Only whole pages inside the file: a page's tail past the end would read as zeros. */
    uint64_t left = (size - first - page_size) / stride + 1;
    if (left > count - done) left = count - done;
    PageWindow w = {0};
    const int map_err = map_pages(fd, first, stride, page_size, left, &w);
    if (map_err) return throw_errno(env, map_err, "mmap");
    volatile uint64_t got = 0;
    whole = guarded_hash(w.first, w.n, stride, page_size, out + 2 * done, &got);
    munmap(w.m, w.len);
    done += got;
  }
  napi_create_double(env, (double)done, &result);
  return result;
}

static napi_value punch_hole(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  double off, len;
  if (!get_args(env, info, 3, argv) || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      !number(env, argv[1], &off) || !number(env, argv[2], &len) || off < 0 || len < 0 ||
      off + len > 9007199254740992.0) {
    napi_throw_type_error(env, NULL, "punchHole(fd, offset, length)");
    return NULL;
  }
  if (len > 0 &&
      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) != 0)
    return throw_errno(env, errno, "fallocate");
  return NULL;
}

static napi_value release(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "release(fd)");
    return NULL;
  }
  if (kept.m && kept.fd == fd) drop_kept();
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"scan", NULL, scan, NULL, NULL, NULL, napi_default, NULL},
      {"writePages", NULL, write_pages, NULL, NULL, NULL, napi_default, NULL},
      {"hashPages", NULL, hash_pages, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, release, NULL, NULL, NULL, napi_default, NULL},
      {"punchHole", NULL, punch_hole, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
