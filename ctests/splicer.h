/*
 * splicer.h: what the splicer programs share (splicer_relay.c,
 * splicer_contract.c, splicer_lifecycle.c): stream pairs with small
 * buffers, poll helpers, the slow far-end reader and the gated writer, a
 * poll-driven one-direction pump, and the start and end every program
 * runs (SIGPIPE at its default disposition, no handler installed, no fd
 * left behind, the totals).
 */
#ifndef ZC_SPLICER_H
#define ZC_SPLICER_H

#include "zc_test.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#define U(x) ((unsigned long long)(x))
#define MIB (1024 * 1024)

/* Pool's pipe size (default); pending can never exceed it. */
#define PIPE_CAP ((int64_t)1 << 20)

/* Totals printed at the end. */
static long long g_bytes, g_steps, g_eagain_pending, g_checked;

/* ---------- small helpers ---------- */

static inline void block_sigpipe_here(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/* Bytes waiting to be read in a socket or pipe (FIONREAD), -1 on error. */
static inline int inq(int fd)
{
    int n = -1;
    if (ioctl(fd, FIONREAD, &n) < 0)
        return -1;
    return n;
}

static inline void set_timeouts(int fd, int seconds)
{
    struct timeval tv;
    tv.tv_sec = zt_valgrind() ? seconds * 8 : seconds;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

enum kind { TCP, UNIX };
static inline const char *kind_name(int k) { return k == TCP ? "tcp" : "unix"; }

/*
 * A connected stream pair: fds[0] the far end (blocking, 10 s timeouts, a
 * test thread uses it), fds[1] the near end (non-blocking, the splicers use
 * it). far_rcvbuf / near_sndbuf > 0 shrink those buffers (for TCP the
 * receive buffer is set before connect, so the window is small from the
 * start).
 */
static inline void stream_pair(int kind, int fds[2], int far_rcvbuf, int near_sndbuf)
{
    if (kind == TCP) {
        zt_tcp_pair_rcvbuf(fds, far_rcvbuf);
    } else {
        zt_unix_pair(fds);
        if (far_rcvbuf > 0)
            zt_set_buf(fds[0], SO_RCVBUF, far_rcvbuf);
    }
    if (near_sndbuf > 0)
        zt_set_buf(fds[1], SO_SNDBUF, near_sndbuf);
    set_timeouts(fds[0], 10);
    if (zt_set_nonblock(fds[1], 1) < 0)
        DIE("O_NONBLOCK");
}

/* Closes both fds of two pairs (a test's src and dst). */
static inline void close_pairs(int a[2], int b[2])
{
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

static inline zcopy_pool_stats pool_stats(void)
{
    zcopy_pool_stats s;
    memset(&s, 0xff, sizeof s);
    zcopy_pool_get_stats(&s);
    return s;
}

/* Waits (poll) until fd is ready for `wants`; returns poll's revents. */
static inline int wait_for(int fd, int wants, int ms)
{
    struct pollfd p;
    p.fd = fd;
    p.events = wants == ZCOPY_WANT_WRITE ? POLLOUT : POLLIN;
    p.revents = 0;
    if (poll(&p, 1, zt_valgrind() ? ms * 8 : ms) < 0 && errno != EINTR)
        DIE("poll");
    return p.revents;
}

/* Reads what is there now from a non-blocking (or polled) fd into buf+*got. */
static inline void read_available(int fd, unsigned char *buf, size_t cap, size_t *got)
{
    for (;;) {
        unsigned char scratch[4096];
        ssize_t n;
        struct pollfd p;
        p.fd = fd;
        p.events = POLLIN;
        if (poll(&p, 1, 0) <= 0)
            return;
        if (*got < cap)
            n = read(fd, buf + *got, cap - *got);
        else
            n = read(fd, scratch, sizeof scratch); /* too much: counted, dropped */
        if (n <= 0)
            return;
        *got += (size_t)n;
    }
}

/* ---------- far-end threads ---------- */

/* Reads until EOF with random small reads and random sleeps between them. */
struct slow_reader {
    pthread_t th;
    int fd;
    unsigned char *buf;
    size_t cap, got, extra;
    size_t max_chunk;
    unsigned max_sleep_us;
    uint64_t seed;
    int error;
    int eof; /* set (atomically) when read returned 0 */
    long reads;
};

static inline void *slow_reader_main(void *arg)
{
    struct slow_reader *r = arg;
    uint64_t s = r->seed;
    unsigned char scratch[65536];
    block_sigpipe_here();
    for (;;) {
        size_t want = 1 + (size_t)(zt_rand_next(&s) % r->max_chunk);
        ssize_t n;
        if (r->got < r->cap) {
            if (want > r->cap - r->got)
                want = r->cap - r->got;
            n = read(r->fd, r->buf + r->got, want);
        } else {
            n = read(r->fd, scratch, want < sizeof scratch ? want : sizeof scratch);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r->error = errno;
            break;
        }
        if (n == 0) {
            __atomic_store_n(&r->eof, 1, __ATOMIC_SEQ_CST);
            break;
        }
        r->reads++;
        if (r->got < r->cap)
            r->got += (size_t)n;
        else
            r->extra += (size_t)n;
        if (r->max_sleep_us)
            usleep((useconds_t)(zt_rand_next(&s) % (r->max_sleep_us + 1)));
    }
    return NULL;
}

static inline void slow_reader_start(struct slow_reader *r, int fd, size_t cap, size_t max_chunk, unsigned max_sleep_us,
                              uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->cap = cap;
    r->buf = malloc(cap ? cap : 1);
    if (!r->buf)
        DIE("malloc");
    r->max_chunk = max_chunk;
    r->max_sleep_us = max_sleep_us;
    r->seed = seed;
    if (pthread_create(&r->th, NULL, slow_reader_main, r))
        DIE("pthread_create reader");
}

/* Writes `first` bytes, waits (bounded) until *gate is set, writes the
 * rest, then half-closes (SHUT_WR). gate NULL: writes everything at once. */
struct gated_writer {
    pthread_t th;
    int fd;
    const unsigned char *buf;
    size_t len, first;
    const int *gate;
    int gate_seen;
    int error;
    size_t sent;
};

static inline void *gated_writer_main(void *arg)
{
    struct gated_writer *w = arg;
    block_sigpipe_here();
    while (w->sent < w->len) {
        size_t n;
        if (w->gate && w->sent == w->first) {
            double deadline = zt_now() + (zt_valgrind() ? 160 : 20);
            while (!__atomic_load_n(w->gate, __ATOMIC_SEQ_CST) && zt_now() < deadline)
                usleep(1000);
            w->gate_seen = __atomic_load_n(w->gate, __ATOMIC_SEQ_CST);
        }
        n = w->len - w->sent;
        if (n > 65536)
            n = 65536;
        if (w->gate && w->sent < w->first && n > w->first - w->sent)
            n = w->first - w->sent;
        if (zt_write_all(w->fd, w->buf + w->sent, n) < 0) {
            w->error = errno;
            break;
        }
        w->sent += n;
    }
    if (!w->error && shutdown(w->fd, SHUT_WR) < 0)
        w->error = errno;
    return NULL;
}

static inline void gated_writer_start(struct gated_writer *w, int fd, const unsigned char *buf, size_t len, size_t first,
                               const int *gate)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->buf = buf;
    w->len = len;
    w->first = first;
    w->gate = gate;
    if (pthread_create(&w->th, NULL, gated_writer_main, w))
        DIE("pthread_create writer");
}


/* ---------- a simple one-direction pump (poll), for the smaller tests ---------- */

/*
 * Relays `n` random bytes through `sp` from a fresh src pair to a fresh
 * dst pair of `kind` (far-end threads write and read), driving the splicer
 * with poll until EOF. Returns 1 when every byte arrived intact.
 */
static inline int pump_checked(zcopy_splicer *sp, int kind, size_t n, uint64_t seed, const char *label)
{
    int s[2], d[2];
    unsigned char *data = zt_random_buf(n, seed);
    struct gated_writer w;
    struct slow_reader r;
    long long written = 0;
    double deadline = zt_now() + (zt_valgrind() ? 80 : 10);
    int ok = 0, eof = 0;
    long diff;
    stream_pair(kind, s, 0, 0);
    stream_pair(kind, d, 0, 0);
    gated_writer_start(&w, s[0], data, n, n, NULL);
    slow_reader_start(&r, d[0], n, 65536, 0, seed);
    while (zt_now() < deadline) {
        zcopy_result res = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
        g_steps++;
        written += res.written;
        if (res.error == EAGAIN) {
            int wants = zcopy_splicer_wants(sp);
            if (wants == ZCOPY_WANT_WRITE && zcopy_splicer_pending(sp) > 0)
                g_eagain_pending++;
            wait_for(wants == ZCOPY_WANT_WRITE ? d[1] : s[1], wants, 1000);
            continue;
        }
        if (res.error == 0 && zcopy_splicer_eof(sp)) {
            eof = 1;
            break;
        }
        if (res.error != 0 || !res.handled) {
            CHECK(0, "%s: step failed: " ZT_RES_FMT, label, ZT_RES_ARGS(res));
            break;
        }
    }
    shutdown(d[1], SHUT_WR);
    if (!eof)
        shutdown(s[1], SHUT_RDWR);
    zt_join(w.th, 30, "pump writer");
    zt_join(r.th, 30, "pump reader");
    diff = r.got == n ? zt_diff(r.buf, data, n) : -2;
    ok = eof && written == (long long)n && r.got == n && r.extra == 0 && diff == -1;
    CHECK(ok, "%s: %zu bytes %s->%s through the splicer, intact (written %lld, got %zu, first diff %ld)", label, n,
          kind_name(kind), kind_name(kind), written, r.got, diff);
    g_bytes += (long long)r.got;
    g_checked += (long long)n;
    close_pairs(s, d);
    free(r.buf);
    free(data);
    return ok;
}


/* ---------- every program's start and end ---------- */

struct splicer_run {
    int fds_before;
    double t0;
};

/* Starts a splicer program: SIGPIPE at its default (killing) disposition,
 * so a write to a gone peer the library fails to guard kills the test. */
static inline struct splicer_run splicer_begin(const char *name, unsigned watchdog)
{
    struct sigaction sa;
    struct splicer_run run;
    zt_start(name, watchdog);
    signal(SIGPIPE, SIG_DFL);
    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "SIGPIPE has its default (killing) disposition");
    zcopy_pool_drain();
    run.fds_before = zt_fd_count();
    run.t0 = zt_now();
    return run;
}

/* Ends it: no handler installed, no fd left once the pool is drained, the
 * totals; returns the exit status. */
static inline int splicer_end(struct splicer_run run)
{
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "no SIGPIPE handler was installed by the library");
    zcopy_pool_drain();
    CHECK(zt_fd_count() == run.fds_before, "after drain: %d fds, %d before", zt_fd_count(), run.fds_before);
    zt_info("totals: %lld bytes relayed, %lld checked byte for byte, %lld steps, %lld EAGAIN with bytes pending, "
            "%.1f s",
            g_bytes, g_checked, g_steps, g_eagain_pending, zt_now() - run.t0);
    return zt_finish();
}

#endif /* ZC_SPLICER_H */
