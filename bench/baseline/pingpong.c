/* A minimal hand-written ping-pong, the yardstick for bench's own harness.
 *
 * usage: pingpong_baseline pipe|unix|tcp [msg_bytes=64] [seconds=1] [client_cpu=0] [server_cpu=1]
 * Prints the median, p99 round-trip time in ns over all round trips after a 50 ms warm-up.
 * One forked echo server, blocking I/O, both ends pinned: the same set-up as
 *   bench run ipc --models process --placement cross --sizes 64
 * but with no frame check, no histogram and no abstraction. bench's figures should agree within 15%
 * (see compare.sh). Deliberately plain C, no error recovery beyond exiting. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    perror("sched_setaffinity");
    exit(1);
  }
}

static void full(ssize_t (*op)(int, void*, size_t), int fd, char* p, size_t n) {
  while (n) {
    ssize_t r = op(fd, p, n);
    if (r <= 0) exit(r == 0 ? 0 : 1);
    p += r;
    n -= (size_t)r;
  }
}
static ssize_t rd(int fd, void* p, size_t n) { return read(fd, p, n); }
static ssize_t wr(int fd, void* p, size_t n) { return write(fd, p, n); }

static int cmp(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  const char* kind = argc > 1 ? argv[1] : "pipe";
  size_t size = argc > 2 ? (size_t)atol(argv[2]) : 64;
  double seconds = argc > 3 ? atof(argv[3]) : 1.0;
  int ccpu = argc > 4 ? atoi(argv[4]) : 0, scpu = argc > 5 ? atoi(argv[5]) : 1;
  int c_in, c_out, s_in, s_out;

  if (strcmp(kind, "pipe") == 0) {
    int a[2], b[2];
    if (pipe(a) || pipe(b)) return 1;
    s_in = a[0];
    c_out = a[1];
    c_in = b[0];
    s_out = b[1];
  } else if (strcmp(kind, "unix") == 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 1;
    c_in = c_out = sv[0];
    s_in = s_out = sv[1];
  } else if (strcmp(kind, "tcp") == 0) {
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(l, (struct sockaddr*)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr*)&a, &len)) return 1;
    c_in = c_out = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c_in, (struct sockaddr*)&a, sizeof a)) return 1;
    s_in = s_out = accept(l, NULL, NULL);
    setsockopt(c_in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s_in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    close(l);
  } else {
    fprintf(stderr, "usage: %s pipe|unix|tcp [msg_bytes] [seconds] [client_cpu] [server_cpu]\n", argv[0]);
    return 2;
  }
  char* buf = calloc(1, size);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pin(scpu);
    for (;;) {
      full(rd, s_in, buf, size);
      full(wr, s_out, buf, size);
    }
  }
  pin(ccpu);
  size_t cap = 1 << 22, n = 0;
  uint64_t* rtt = malloc(cap * sizeof *rtt);
  uint64_t start = now_ns(), warm = start + 50000000ull, end = warm + (uint64_t)(seconds * 1e9);
  for (uint64_t t = start; t < end && n < cap;) {
    full(wr, c_out, buf, size);
    full(rd, c_in, buf, size);
    uint64_t t1 = now_ns();
    if (t >= warm) rtt[n++] = t1 - t;
    t = t1;
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  qsort(rtt, n, sizeof *rtt, cmp);
  printf("%s %zu B: %zu round trips, median %llu ns, p99 %llu ns\n", kind, size, n, (unsigned long long)rtt[n / 2],
         (unsigned long long)rtt[n * 99 / 100]);
  return 0;
}
