/* bench/callpath.c: the plain call path against raw splice(2), issue 15.
 *
 * One process. src is one end of a TCP loopback connection that a writer
 * thread keeps full of 4 KiB messages; dst is one end of another that a
 * reader thread drains. The measured thread (main) moves SIZE bytes a
 * call, CALLS calls a batch, with:
 *   raw     splice(src -> a kept pipe) + splice(pipe -> dst), looping until
 *           SIZE bytes arrived, poll(2) on EAGAIN (what Go's Splice does,
 *           with a pipe kept for the whole run: the floor);
 *   splice  zcopy_splice(dst, src, SIZE) (the pool's pipe);
 *   copy    zcopy_copy(dst, src, SIZE) (dispatch, then the same);
 *   splice-b, copy-b  the same calls of the build given with -b PATH
 *           (dlopen'ed beside the linked one), so that two builds are
 *           compared in one run;
 *   raw+3   raw with the three questions zcopy_splice asks into a socket
 *           (getsockopt SO_SNDTIMEO on dst, F_GETPIPE_SZ on src, the
 *           SIGPIPE disposition read), to tell the price of those system
 *           calls from the library's own.
 * in four modes: SIGPIPE ignored or default (SIG_DFL), measured fds
 * non-blocking or blocking. Batches are interleaved (round 1: every mode,
 * every variant; round 2: ...), so load changes hit all alike. Reported:
 * median calls/s (wall) and median CPU ns per call (the measured thread's
 * CLOCK_THREAD_CPUTIME_ID), and the medians of the per-round ratios to raw.
 *
 *   callpath [-n CALLS] [-r ROUNDS] [-s SIZE] [-p] [-b LIB]   (-p: pin threads)
 *   callpath -t VARIANT MODE CALLS     only that (for strace -c; see
 *                                      bench/callpath.sh)
 * MODE is ign-nb, ign-blk, dfl-nb or dfl-blk.
 */
#define _GNU_SOURCE
#include <zcopy.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 64

enum { RAW, RAW3, ZSPLICE, ZCOPY, OSPLICE, OCOPY, NVARIANTS };
static const char *variant_names[NVARIANTS] = {"raw", "raw+3", "splice", "copy", "splice-b", "copy-b"};
static int nvariants = ZCOPY + 1;
/* -b PATH: another build of the library (e.g. an older commit), loaded
 * beside the linked one with dlopen: its calls are the -b variants. */
typedef zcopy_result (*transfer_fn)(int, int, int64_t);
static transfer_fn other_splice, other_copy;
enum { IGN_NB, IGN_BLK, DFL_NB, DFL_BLK, NMODES };
static const char *mode_names[NMODES] = {"ign-nb", "ign-blk", "dfl-nb", "dfl-blk"};

static int src_fd, dst_fd, feed_fd, sink_fd;
static int kept[2];
static size_t size = 4096;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void tcp_pair(int *a, int *b) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (l < 0 || bind(l, (struct sockaddr *)&sa, len) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&sa, &len))
        die("listen");
    *a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*a < 0 || connect(*a, (struct sockaddr *)&sa, len)) die("connect");
    *b = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (*b < 0) die("accept");
    close(l);
    int one = 1;
    setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(*b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Keeps src full: 4 KiB messages, blocking sends. */
static void *writer(void *arg) {
    (void)arg;
    static char buf[4096];
    memset(buf, 'x', sizeof buf);
    for (;;)
        if (send(feed_fd, buf, sizeof buf, 0) < 0) return NULL;
}

/* Drains dst. */
static void *reader(void *arg) {
    (void)arg;
    static char buf[1 << 16];
    for (;;)
        if (recv(sink_fd, buf, sizeof buf, 0) <= 0) return NULL;
}

static void wait_fd(int fd, short ev) {
    struct pollfd p = {.fd = fd, .events = ev};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
}

/* The floor: splice through a pipe kept for the whole run. */
static void raw_one(void) {
    size_t moved = 0;
    while (moved < size) {
        ssize_t n = splice(src_fd, NULL, kept[1], NULL, size - moved, SPLICE_F_NONBLOCK);
        if (n < 0 && errno == EAGAIN) {
            wait_fd(src_fd, POLLIN);
            continue;
        }
        if (n <= 0) die("raw drain");
        size_t held = (size_t)n;
        while (held > 0) {
            ssize_t m = splice(kept[0], NULL, dst_fd, NULL, held, SPLICE_F_NONBLOCK);
            if (m < 0 && errno == EAGAIN) {
                wait_fd(dst_fd, POLLOUT);
                continue;
            }
            if (m <= 0) die("raw pump");
            held -= (size_t)m;
        }
        moved += (size_t)n;
    }
}

static void one_call(int v) {
    zcopy_result r;
    switch (v) {
    case RAW:
        raw_one();
        return;
    case RAW3: {
        struct timeval tv;
        socklen_t len = sizeof tv;
        struct sigaction sa;
        getsockopt(dst_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len);
        (void)fcntl(src_fd, F_GETPIPE_SZ);
        sigaction(SIGPIPE, NULL, &sa);
        raw_one();
        return;
    }
    case ZSPLICE:
        r = zcopy_splice(dst_fd, src_fd, (int64_t)size);
        break;
    case ZCOPY:
        r = zcopy_copy(dst_fd, src_fd, (int64_t)size);
        break;
    case OSPLICE:
        r = other_splice(dst_fd, src_fd, (int64_t)size);
        break;
    default:
        r = other_copy(dst_fd, src_fd, (int64_t)size);
        break;
    }
    if (r.error || r.written != (int64_t)size) {
        fprintf(stderr, "%s: written %lld error %d\n", variant_names[v], (long long)r.written, r.error);
        exit(1);
    }
}

static void set_nonblock(int fd, int on) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK)) die("fcntl");
}

static void enter_mode(int m) {
    signal(SIGPIPE, (m == IGN_NB || m == IGN_BLK) ? SIG_IGN : SIG_DFL);
    int nb = (m == IGN_NB || m == DFL_NB);
    set_nonblock(src_fd, nb);
    set_nonblock(dst_fd, nb);
}

static int64_t ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    double c[MAX_ROUNDS];
    memcpy(c, v, sizeof(double) * (size_t)n);
    qsort(c, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
}

static int parse_index(const char *s, const char **names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return i;
    fprintf(stderr, "unknown name %s\n", s);
    exit(2);
}

int main(int argc, char **argv) {
    long calls = 20000;
    int rounds = 7, trace = 0, tv = 0, tm = 0, pin = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) calls = atol(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) size = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "-p")) pin = 1;
        else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
            void *h = dlopen(argv[++i], RTLD_NOW | RTLD_LOCAL);
            if (!h || !(other_splice = (transfer_fn)dlsym(h, "zcopy_splice")) ||
                !(other_copy = (transfer_fn)dlsym(h, "zcopy_copy"))) {
                fprintf(stderr, "-b %s: %s\n", argv[i], dlerror());
                return 2;
            }
            nvariants = NVARIANTS;
        }
        else if (!strcmp(argv[i], "-t") && i + 3 < argc) {
            trace = 1;
            tv = parse_index(argv[++i], variant_names, NVARIANTS);
            tm = parse_index(argv[++i], mode_names, NMODES);
            calls = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [-n CALLS] [-r ROUNDS] [-s SIZE] [-p] [-b LIB] | -t VARIANT MODE CALLS\n",
                    argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || calls < 0 || size == 0) return 2;
    tcp_pair(&feed_fd, &src_fd);
    tcp_pair(&dst_fd, &sink_fd);
    if (pipe2(kept, O_CLOEXEC | O_NONBLOCK)) die("pipe2");
    fcntl(kept[1], F_SETPIPE_SZ, 1 << 20);
    pthread_t tw, tr;
    if (pthread_create(&tw, NULL, writer, NULL) || pthread_create(&tr, NULL, reader, NULL)) die("thread");
    if (pin) { /* the measured thread on CPU 0, the writer and reader on CPU 1 */
        cpu_set_t c0, c1;
        CPU_ZERO(&c0);
        CPU_ZERO(&c1);
        CPU_SET(0, &c0);
        CPU_SET(1, &c1);
        if (pthread_setaffinity_np(pthread_self(), sizeof c0, &c0) ||
            pthread_setaffinity_np(tw, sizeof c1, &c1) || pthread_setaffinity_np(tr, sizeof c1, &c1))
            die("pthread_setaffinity_np");
    }

    if (trace) {
        enter_mode(tm);
        for (int i = 0; i < 200; i++) one_call(tv); /* warm: the pool's pipe exists */
        for (long i = 0; i < calls; i++) one_call(tv);
        return 0;
    }

    static double rate[NMODES][NVARIANTS][MAX_ROUNDS], cpu[NMODES][NVARIANTS][MAX_ROUNDS];
    for (int m = 0; m < NMODES; m++) { /* warm every path once */
        enter_mode(m);
        for (int v = 0; v < nvariants; v++)
            for (int i = 0; i < 1000; i++) one_call(v);
    }
    for (int r = 0; r < rounds; r++)
        for (int m = 0; m < NMODES; m++) {
            enter_mode(m);
            for (int v = 0; v < nvariants; v++) {
                int64_t w0 = ns(CLOCK_MONOTONIC), c0 = ns(CLOCK_THREAD_CPUTIME_ID);
                for (long i = 0; i < calls; i++) one_call(v);
                int64_t w1 = ns(CLOCK_MONOTONIC), c1 = ns(CLOCK_THREAD_CPUTIME_ID);
                rate[m][v][r] = (double)calls * 1e9 / (double)(w1 - w0);
                cpu[m][v][r] = (double)(c1 - c0) / (double)calls;
            }
        }
    printf("%zu bytes a call, %ld calls a batch, %d rounds (medians; ratios are medians of the per-round ratios to raw)\n\n",
           size, calls, rounds);
    printf("| mode | variant | calls/s | x raw | CPU ns/call | raw/this CPU |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
    for (int m = 0; m < NMODES; m++)
        for (int v = 0; v < nvariants; v++) {
            double rr[MAX_ROUNDS], cr[MAX_ROUNDS];
            for (int r = 0; r < rounds; r++) {
                rr[r] = rate[m][v][r] / rate[m][RAW][r];
                cr[r] = cpu[m][RAW][r] / cpu[m][v][r];
            }
            printf("| %s | %s | %.0f | %.3f | %.0f | %.3f |\n", mode_names[m], variant_names[v],
                   median(rate[m][v], rounds), median(rr, rounds), median(cpu[m][v], rounds),
                   median(cr, rounds));
        }
    return 0;
}
