/*
 * zc_test.h: small shared helpers for the zcopy C test programs.
 *
 * Every program prints one line per check ("ok - ..." or "FAIL - ..."),
 * ends with the line "N passed, M failed" and exits non-zero when M > 0.
 * A watchdog (alarm) kills a program that hangs. Sizes and loop counts
 * shrink when ZCOPY_VALGRIND=1 is set (see zt_valgrind()).
 */
#ifndef ZC_TEST_H
#define ZC_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zcopy.h"

/* ---------- checks ---------- */

static pthread_mutex_t zt_lock = PTHREAD_MUTEX_INITIALIZER;
static long zt_passed, zt_failed, zt_skipped;

static inline int zt_check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&zt_lock);
    if (ok) {
        zt_passed++;
        fputs("ok - ", stdout);
    } else {
        zt_failed++;
        fputs("FAIL - ", stdout);
    }
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    if (!ok)
        fprintf(stdout, "  [%s:%d]", file, line);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&zt_lock);
    return ok;
}

/* CHECK(condition, printf-format, args...): one line of output per check. */
#define CHECK(cond, ...) zt_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Quiet check for hot loops: only a failure prints (and counts). */
#define QCHECK(cond, ...) ((cond) ? 1 : zt_check(0, __FILE__, __LINE__, __VA_ARGS__))

static inline void zt_skip(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&zt_lock);
    zt_skipped++;
    fputs("SKIP - ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&zt_lock);
}

static inline void zt_info(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&zt_lock);
    fputs("# ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&zt_lock);
}

static inline int zt_finish(void)
{
    if (zt_skipped)
        printf("# %ld skipped (reasons above)\n", zt_skipped);
    printf("%ld passed, %ld failed\n", zt_passed, zt_failed);
    fflush(stdout);
    return zt_failed ? 1 : 0;
}

/* Abort the whole program (a broken precondition, not a test result). */
#define DIE(...) do { printf("FAIL - fatal: "); printf(__VA_ARGS__); \
        printf(" (errno %d %s) [%s:%d]\n", errno, strerror(errno), __FILE__, __LINE__); \
        printf("%ld passed, %ld failed\n", zt_passed, zt_failed + 1); fflush(stdout); _exit(3); } while (0)

/* ---------- environment ---------- */

static inline int zt_env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* True when the harness runs this program under valgrind. */
static inline int zt_valgrind(void) { return zt_env_flag("ZCOPY_VALGRIND"); }

/* Scale a size or count down under valgrind (by `div`), never below 1. */
static inline long zt_vg(long n, long div)
{
    if (zt_valgrind()) {
        n /= div;
        if (n < 1)
            n = 1;
    }
    return n;
}

/* Installs the watchdog: SIGALRM with its default action kills the process. */
static inline void zt_watchdog(unsigned seconds)
{
    if (zt_valgrind())
        seconds *= 8;
    signal(SIGALRM, SIG_DFL);
    alarm(seconds);
}

static inline void zt_start(const char *name, unsigned watchdog_seconds)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    zt_watchdog(watchdog_seconds);
    printf("# %s: zcopy %s, pid %d%s\n", name, zcopy_version(), (int)getpid(),
           zt_valgrind() ? " (valgrind: reduced sizes)" : "");
}

/* ---------- data ---------- */

static inline uint64_t zt_rand_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline void zt_fill(unsigned char *buf, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t v = zt_rand_next(&s);
        memcpy(buf + i, &v, 8);
        i += 8;
    }
    if (i < n) {
        uint64_t v = zt_rand_next(&s);
        memcpy(buf + i, &v, n - i);
    }
}

static inline unsigned char *zt_random_buf(size_t n, uint64_t seed)
{
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        DIE("malloc %zu", n);
    zt_fill(b, n, seed);
    return b;
}

/* Index of the first differing byte, or -1 when equal. */
static inline long zt_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
    size_t i;
    if (memcmp(a, b, n) == 0)
        return -1;
    for (i = 0; i < n; i++)
        if (a[i] != b[i])
            return (long)i;
    return -1;
}

/* ---------- fds ---------- */

/* Number of open fds of this process (entries of /proc/self/fd). */
static inline int zt_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d)
        DIE("opendir /proc/self/fd");
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR's own fd */
}

static inline void zt_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static inline int zt_set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
}

/* A listening TCP socket on 127.0.0.1 and an ephemeral port. */
static inline int zt_tcp_listener(struct sockaddr_in *addr)
{
    socklen_t len = sizeof *addr;
    int one = 1;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        DIE("socket");
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->sin_port = 0;
    if (bind(l, (struct sockaddr *)addr, sizeof *addr) < 0)
        DIE("bind");
    if (listen(l, 128) < 0)
        DIE("listen");
    if (getsockname(l, (struct sockaddr *)addr, &len) < 0)
        DIE("getsockname");
    return l;
}

/* Sets a socket buffer size (SO_RCVBUF or SO_SNDBUF); dies on failure. */
static inline void zt_set_buf(int fd, int opt, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes) < 0)
        DIE("setsockopt buf %d", bytes);
}

/* A connected TCP pair over 127.0.0.1: fds[0] client, fds[1] server side.
 * client_rcvbuf > 0 sets the client's SO_RCVBUF before connect, so the
 * window it advertises is small from the handshake on (set later, the
 * kernel keeps the window it already offered). */
static inline void zt_tcp_pair_rcvbuf(int fds[2], int client_rcvbuf)
{
    struct sockaddr_in a;
    int l = zt_tcp_listener(&a);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0)
        DIE("socket");
    if (client_rcvbuf > 0)
        zt_set_buf(c, SO_RCVBUF, client_rcvbuf);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0)
        DIE("connect");
    fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (fds[1] < 0)
        DIE("accept");
    fds[0] = c;
    close(l);
}

/* A connected TCP pair with the kernel's default buffers. */
static inline void zt_tcp_pair(int fds[2]) { zt_tcp_pair_rcvbuf(fds, 0); }

/* Two UDP sockets on 127.0.0.1, connected to each other. */
static inline void zt_udp_pair(int p[2])
{
    struct sockaddr_in sa[2];
    socklen_t len = sizeof sa[0];
    for (int i = 0; i < 2; i++) {
        p[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        memset(&sa[i], 0, sizeof sa[i]);
        sa[i].sin_family = AF_INET;
        sa[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (p[i] < 0 || bind(p[i], (struct sockaddr *)&sa[i], sizeof sa[i]) != 0 ||
            getsockname(p[i], (struct sockaddr *)&sa[i], &len) != 0)
            DIE("udp socket");
    }
    if (connect(p[0], (struct sockaddr *)&sa[1], sizeof sa[1]) != 0 ||
        connect(p[1], (struct sockaddr *)&sa[0], sizeof sa[0]) != 0)
        DIE("udp connect");
}

static inline void zt_unix_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        DIE("socketpair");
}

static inline void zt_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        DIE("pipe2");
}

/* An anonymous file (already unlinked) in `dir`, opened O_RDWR | extra. */
static inline int zt_tmpfile_in(const char *dir, int extra_flags)
{
    char path[512];
    int fd;
    snprintf(path, sizeof path, "%s/zcopy-ctest-XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC | extra_flags);
    if (fd < 0)
        DIE("mkostemp in %s", dir);
    unlink(path);
    return fd;
}

static inline int zt_tmpfile(void) { return zt_tmpfile_in("/tmp", 0); }

/* Reopens an fd (even an unlinked file) with new flags via /proc/self/fd. */
static inline int zt_reopen(int fd, int flags)
{
    char path[64];
    int r;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    r = open(path, flags | O_CLOEXEC);
    if (r < 0)
        DIE("reopen %s", path);
    return r;
}

static inline int zt_write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until `n` bytes or EOF or an error; returns bytes read. */
static inline size_t zt_read_full(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* A regular file in `dir` holding `n` bytes of `data`, position 0. */
static inline int zt_file_with_in(const char *dir, const void *data, size_t n)
{
    int fd = zt_tmpfile_in(dir, 0);
    if (zt_write_all(fd, data, n) < 0)
        DIE("write tmpfile");
    if (lseek(fd, 0, SEEK_SET) != 0)
        DIE("lseek");
    return fd;
}

static inline int zt_file_with(const void *data, size_t n) { return zt_file_with_in("/tmp", data, n); }

/* Whole content of a file from offset 0 (pread; position untouched). */
static inline size_t zt_pread_all(int fd, unsigned char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t r = pread(fd, buf + got, cap - got, (off_t)got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    return got;
}

static inline off_t zt_pos(int fd) { return lseek(fd, 0, SEEK_CUR); }

static inline off_t zt_fsize(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    return st.st_size;
}

/* ---------- threads ---------- */

/* Joins with a deadline; a thread that does not finish is fatal. */
static inline void zt_join(pthread_t t, int seconds, const char *what)
{
    struct timespec ts;
    int r;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += zt_valgrind() ? seconds * 8 : seconds;
    r = pthread_timedjoin_np(t, NULL, &ts);
    if (r != 0) {
        errno = r;
        DIE("thread '%s' did not finish in time", what);
    }
}

/* A writer thread: writes `len` bytes of `buf` to `fd` (in `chunk`-sized
 * writes when chunk > 0), then closes `fd` when close_after. */
struct zt_writer {
    pthread_t th;
    int fd;
    const unsigned char *buf;
    size_t len;
    size_t chunk;
    int close_after;
    int shut_after;
    int error;
};

static inline void *zt_writer_main(void *arg)
{
    struct zt_writer *w = arg;
    size_t off = 0;
    while (off < w->len) {
        size_t n = w->len - off;
        if (w->chunk && n > w->chunk)
            n = w->chunk;
        if (zt_write_all(w->fd, w->buf + off, n) < 0) {
            w->error = errno;
            break;
        }
        off += n;
    }
    if (w->shut_after)
        shutdown(w->fd, SHUT_WR);
    if (w->close_after)
        close(w->fd);
    return NULL;
}

static inline void zt_writer_start(struct zt_writer *w, int fd, const unsigned char *buf,
                                   size_t len, size_t chunk, int close_after)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->buf = buf;
    w->len = len;
    w->chunk = chunk;
    w->close_after = close_after;
    if (pthread_create(&w->th, NULL, zt_writer_main, w) != 0)
        DIE("pthread_create writer");
}

/* A writer thread that half-closes `fd` (shutdown SHUT_WR) when done; the
 * flag is set before the thread starts, so a quick writer cannot miss it. */
static inline void zt_writer_start_shut(struct zt_writer *w, int fd, const unsigned char *buf,
                                        size_t len, size_t chunk)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->buf = buf;
    w->len = len;
    w->chunk = chunk;
    w->shut_after = 1;
    if (pthread_create(&w->th, NULL, zt_writer_main, w) != 0)
        DIE("pthread_create writer");
}

/* A reader thread: reads `fd` until EOF into a buffer of `cap` bytes
 * (bytes past cap are counted in `extra` and dropped). */
struct zt_reader {
    pthread_t th;
    int fd;
    unsigned char *buf;
    size_t cap;
    size_t got;
    size_t extra;
    int error;
    int close_after;
};

static inline void *zt_reader_main(void *arg)
{
    struct zt_reader *r = arg;
    unsigned char scratch[65536];
    for (;;) {
        ssize_t n;
        if (r->got < r->cap)
            n = read(r->fd, r->buf + r->got, r->cap - r->got);
        else
            n = read(r->fd, scratch, sizeof scratch);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r->error = errno;
            break;
        }
        if (n == 0)
            break;
        if (r->got < r->cap)
            r->got += (size_t)n;
        else
            r->extra += (size_t)n;
    }
    if (r->close_after)
        close(r->fd);
    return NULL;
}

static inline void zt_reader_start(struct zt_reader *r, int fd, size_t cap, int close_after)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->cap = cap;
    r->buf = malloc(cap ? cap : 1);
    r->close_after = close_after;
    if (!r->buf)
        DIE("malloc reader");
    if (pthread_create(&r->th, NULL, zt_reader_main, r) != 0)
        DIE("pthread_create reader");
}

/* ---------- results ---------- */

#define ZT_RES_FMT "written=%lld error=%d(%s) method=%s handled=%d"
#define ZT_RES_ARGS(r) (long long)(r).written, (r).error, ((r).error ? strerror((r).error) : "-"), \
        zcopy_method_name((r).method), (int)(r).handled

static inline int zt_ok(zcopy_result r, long long want)
{
    return r.handled && r.error == 0 && r.written == want;
}

static inline double zt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double zt_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------- splices between unix pairs (fork.c, pool.c) ---------- */

/* zcopy_splice(ZCOPY_ALL) between two fresh unix pairs: a writer thread
 * feeds `n` bytes of `data` and closes, a reader thread collects what comes
 * out into *r (the caller checks it and frees r->buf). Every fd is closed. */
static inline zcopy_result zt_splice_unix(const unsigned char *data, size_t n, struct zt_reader *r)
{
    int a[2], b[2];
    struct zt_writer w;
    zcopy_result res;
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_writer_start(&w, a[0], data, n, 0, 1);
    zt_reader_start(r, b[1], n, 1);
    res = zcopy_splice(b[0], a[1], ZCOPY_ALL);
    close(b[0]); /* the reader's EOF */
    zt_join(w.th, 30, "writer");
    zt_join(r->th, 30, "reader");
    close(a[1]);
    return res;
}

/* A thread blocked in zcopy_splice(dst[0], src[1], ZCOPY_ALL) on two unix
 * pairs whose source has no data yet: it holds a pooled pipe until
 * zt_blocked_release sends it something. */
struct zt_blocked {
    pthread_t th;
    int src[2], dst[2];
    zcopy_result r;
};

static inline void *zt_blocked_main(void *arg)
{
    struct zt_blocked *b = arg;
    b->r = zcopy_splice(b->dst[0], b->src[1], ZCOPY_ALL);
    return NULL;
}

static inline void zt_blocked_start(struct zt_blocked *b)
{
    zt_unix_pair(b->src);
    zt_unix_pair(b->dst);
    if (pthread_create(&b->th, NULL, zt_blocked_main, b) != 0)
        DIE("pthread_create blocked splice");
}

/* Writes `len` bytes of msg into the source and closes it: the splice
 * moves them, sees EOF and returns. */
static inline void zt_blocked_release(struct zt_blocked *b, const void *msg, size_t len)
{
    zt_write_all(b->src[0], msg, len);
    close(b->src[0]);
}

/* Joins the thread and reads what reached dst into got (at most cap
 * bytes); closes the remaining fds. Returns the bytes read; the result is
 * in b->r. */
static inline size_t zt_blocked_finish(struct zt_blocked *b, void *got, size_t cap)
{
    size_t n;
    zt_join(b->th, 30, "blocked splice");
    close(b->dst[0]);
    n = zt_read_full(b->dst[1], got, cap);
    close(b->src[1]);
    close(b->dst[1]);
    return n;
}

/* Waits up to `seconds` for a forked child, killing it (SIGKILL) when it
 * is still running then. Returns its exit status, or -1 when it was killed
 * or died of a signal. */
static inline int zt_wait_child(pid_t pid, double seconds)
{
    int status = 0;
    pid_t w;
    double deadline = zt_now() + seconds;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && zt_now() < deadline)
        usleep(10000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    return w == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Prints the mechanism a call took ("# method: ..."), for the figures of
 * the dispatch programs. */
static inline void zt_method_line(const char *what, zcopy_result r)
{
    printf("# method: %-44s -> %s (%lld bytes)\n", what, zcopy_method_name(r.method), (long long)r.written);
}

/* A writer thread running `main_fn` (zt_writer_main, or a wrapper that
 * sets up the thread first) that writes all of buf to fd and closes fd. */
static inline void zt_writer_spawn(struct zt_writer *w, void *(*main_fn)(void *), int fd, const unsigned char *buf,
                                   size_t len)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->buf = buf;
    w->len = len;
    w->close_after = 1;
    if (pthread_create(&w->th, NULL, main_fn, w))
        DIE("pthread_create");
}

/* The end of a program that started with `fds_before` open fds: drains the
 * pool, checks that no fd is left over, prints the totals. */
static inline int zt_finish_drained(int fds_before)
{
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}

/* True when the calling thread's signal mask blocks sig. */
static inline int zt_mask_has(int sig)
{
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    return sigismember(&cur, sig) == 1;
}

/* True when sig is pending for the thread or the process. */
static inline int zt_pending(int sig)
{
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, sig) == 1;
}

#endif /* ZC_TEST_H */
