/*
 * The tap benchmark's lowest floor: a forwarder in C that moves the source's bytes to the
 * destination with splice(2) (no copy through user space) and, like any tap must, also reads
 * every byte: tee(2) duplicates them into a second pipe that a thread read(2)s and drops. It
 * decodes nothing. Whatever it costs over a direct migration, a proxy that looks at the stream
 * cannot cost less on this machine.
 *
 *   splice-forward LISTEN_PORT FORWARD_PORT [--no-read]
 *
 * --no-read: splice only, nobody reads the bytes (a proxy that looks at nothing).
 * Prints `listening on ...` and at the end `passed: N bytes from the source, CPU X s` (CPU time
 * since the source connected), as the other forwarders and `vmstate tap` do. Loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static int tee_read_end = -1;

static void die(const char *what) {
  perror(what);
  exit(3);
}

/* Reads the tee'd copy of the stream and drops it: the one copy a decoding tap cannot avoid. */
static void *drain(void *unused) {
  static char buf[CHUNK];
  (void)unused;
  while (read(tee_read_end, buf, sizeof buf) > 0) {
  }
  return NULL;
}

/* One direction, `from` to `to` through a pipe; `copy` also tees every byte to `copy`. */
static long forward(int from, int to, int copy) {
  int p[2];
  long total = 0;
  if (pipe(p)) die("pipe");
  fcntl(p[1], F_SETPIPE_SZ, CHUNK);
  for (;;) {
    ssize_t n = splice(from, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
    if (n < 0) die("splice from the source");
    if (n == 0) break;
    total += n;
    while (n > 0) {
      ssize_t m = n;
      if (copy >= 0 && (m = tee(p[0], copy, n, 0)) <= 0) die("tee");
      /* What was tee'd goes on; tee again from the pipe's new head for the rest. */
      while (m > 0) {
        ssize_t w = splice(p[0], NULL, to, NULL, m, SPLICE_F_MOVE);
        if (w <= 0) die("splice to the destination");
        m -= w;
        n -= w;
      }
    }
  }
  shutdown(to, SHUT_WR);
  close(p[0]);
  close(p[1]);
  return total;
}

static int return_fds[2];
static void *return_path(void *unused) {
  (void)unused;
  forward(return_fds[0], return_fds[1], -1);
  return NULL;
}

static double cpu_seconds(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: splice-forward LISTEN_PORT FORWARD_PORT [--no-read]\n");
    return 2;
  }
  int read_copy = !(argc > 3 && strcmp(argv[3], "--no-read") == 0);
  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  a.sin_port = htons(atoi(argv[1]));
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1)) die("listen");
  printf("listening on tcp:127.0.0.1:%s\n", argv[1]);
  fflush(stdout);
  int src = accept(ls, NULL, NULL);
  if (src < 0) die("accept");
  close(ls);
  double cpu0 = cpu_seconds();
  int dst = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = htons(atoi(argv[2]));
  if (connect(dst, (struct sockaddr *)&a, sizeof a)) die("connect");
  setsockopt(dst, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  int t[2] = {-1, -1};
  pthread_t reader, back;
  if (read_copy) {
    if (pipe(t)) die("pipe");
    fcntl(t[1], F_SETPIPE_SZ, CHUNK);
    tee_read_end = t[0];
    pthread_create(&reader, NULL, drain, NULL);
  }
  return_fds[0] = dst;
  return_fds[1] = src;
  pthread_create(&back, NULL, return_path, NULL);
  long total = forward(src, dst, t[1]);
  if (read_copy) {
    close(t[1]);
    pthread_join(reader, NULL);
  }
  pthread_join(back, NULL);
  printf("passed: %ld bytes from the source, CPU %.3f s\n", total, cpu_seconds() - cpu0);
  fflush(stdout);
  return 0;
}
