/*
 * engine.h: helpers for the engine tests (ctests/engine_*.c): a done
 * callback that records what it got, relay endpoints (client <-> a | b <->
 * server) and a poll(2) traffic driver that checks every byte of many
 * relays at once.
 */
#ifndef ZC_ENGINE_H
#define ZC_ENGINE_H

#include "zc_test.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

/* ---------- the done callback ---------- */

struct done_rec {
    pthread_mutex_t m;
    pthread_cond_t c;
    int calls;
    zcopy_relay_result r;
    pthread_t thread;
    int close_a, close_b; /* closed inside done when >= 0 */
    double at;            /* zt_now() of the (first) call */
};

static inline void rec_init(struct done_rec *d)
{
    memset(d, 0, sizeof *d);
    pthread_mutex_init(&d->m, NULL);
    pthread_cond_init(&d->c, NULL);
    d->close_a = d->close_b = -1;
}

static inline void rec_done(void *ctx, zcopy_relay_result r)
{
    struct done_rec *d = ctx;
    pthread_mutex_lock(&d->m);
    if (d->calls++ == 0) {
        d->r = r;
        d->thread = pthread_self();
        d->at = zt_now();
    }
    if (d->close_a >= 0)
        close(d->close_a);
    if (d->close_b >= 0)
        close(d->close_b);
    pthread_cond_broadcast(&d->c);
    pthread_mutex_unlock(&d->m);
}

/* Waits up to `seconds` for the first call; returns 1 when it came. */
static inline int rec_wait(struct done_rec *d, double seconds)
{
    struct timespec ts;
    int got;
    if (zt_valgrind())
        seconds *= 8;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)seconds;
    ts.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&d->m);
    while (d->calls == 0)
        if (pthread_cond_timedwait(&d->c, &d->m, &ts) != 0)
            break;
    got = d->calls > 0;
    pthread_mutex_unlock(&d->m);
    return got;
}

static inline int rec_calls(struct done_rec *d)
{
    int n;
    pthread_mutex_lock(&d->m);
    n = d->calls;
    pthread_mutex_unlock(&d->m);
    return n;
}

#define ZT_RR_FMT "a_to_b=%lld b_to_a=%lld error=%d(%s) error_fd=%d"
#define ZT_RR_ARGS(r) (long long)(r).a_to_b, (long long)(r).b_to_a, (r).error, \
        ((r).error ? strerror((r).error) : "-"), (r).error_fd

/* ---------- endpoints ---------- */

enum { E_TCP, E_UNIX };

/* c <-> a is one connection, b <-> s another; the relay runs between a and b. */
struct ends {
    int c, a, b, s;
};

static inline void ends_open(struct ends *e, int kind_a, int kind_b)
{
    int p[2];
    if (kind_a == E_TCP)
        zt_tcp_pair(p);
    else
        zt_unix_pair(p);
    e->c = p[0];
    e->a = p[1];
    if (kind_b == E_TCP)
        zt_tcp_pair(p);
    else
        zt_unix_pair(p);
    e->b = p[0];
    e->s = p[1];
}

static inline void ends_close(struct ends *e)
{
    zt_close(&e->c);
    zt_close(&e->a);
    zt_close(&e->b);
    zt_close(&e->s);
}

static inline int fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

/* Raises RLIMIT_NOFILE to at least `want` (up to the hard limit; as root
 * the hard limit too). Returns the soft limit now. */
static inline long zt_raise_nofile(long want)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((long)rl.rlim_cur < want) {
        rl.rlim_cur = (rlim_t)want;
        if (rl.rlim_max < rl.rlim_cur) {
            struct rlimit up = rl;
            up.rlim_max = rl.rlim_cur;
            if (setrlimit(RLIMIT_NOFILE, &up) != 0)
                rl.rlim_cur = rl.rlim_max;
        }
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

/* Resident set size in bytes (/proc/self/statm). */
static inline long zt_rss(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = -1;
    fclose(f);
    return res * sysconf(_SC_PAGESIZE);
}

/* ---------- traffic ---------- */

/* Byte `pos` of stream `seed`: position-dependent, so a lost, repeated or
 * reordered chunk is caught. */
static inline unsigned char zt_pat(uint32_t seed, uint64_t pos)
{
    uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)seed * 0xC2B2AE3D27D4EB4FULL;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    return (unsigned char)(x >> 56);
}

/* One endpoint in the driver: sends out_len bytes of stream seed_out, then
 * shuts down its write side; expects in_len bytes of stream seed_in, then
 * EOF. */
struct flow {
    int fd;
    uint32_t seed_out, seed_in;
    size_t out_len, in_len;
    size_t sent, got;
    int out_done, in_eof, bad;
};

static inline void flow_set(struct flow *f, int fd, uint32_t seed_out, size_t out_len,
                            uint32_t seed_in, size_t in_len)
{
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->seed_out = seed_out;
    f->out_len = out_len;
    f->seed_in = seed_in;
    f->in_len = in_len;
}

/* Pumps every flow until all are done or `seconds` pass. Returns the
 * number of flows that are not exactly right (bytes wrong, too many, too
 * few, or not finished). */
static inline int zt_drive(struct flow *fl, int n, double seconds)
{
    struct pollfd *p = calloc((size_t)n, sizeof *p);
    int *idx = calloc((size_t)n, sizeof *idx);
    unsigned char buf[16384];
    double end = zt_now() + (zt_valgrind() ? seconds * 8 : seconds);
    int i, bad = 0;
    if (!p || !idx)
        DIE("calloc");
    for (i = 0; i < n; i++)
        zt_set_nonblock(fl[i].fd, 1);
    for (;;) {
        int m = 0;
        for (i = 0; i < n; i++) {
            struct flow *f = &fl[i];
            short ev = 0;
            if (f->bad)
                continue;
            if (!f->out_done)
                ev |= POLLOUT;
            if (!f->in_eof)
                ev |= POLLIN;
            if (!ev)
                continue;
            p[m].fd = f->fd;
            p[m].events = ev;
            p[m].revents = 0;
            idx[m++] = i;
        }
        if (m == 0 || zt_now() > end)
            break;
        if (poll(p, (nfds_t)m, 200) < 0 && errno != EINTR)
            DIE("poll");
        for (i = 0; i < m; i++) {
            struct flow *f = &fl[idx[i]];
            if (p[i].revents & POLLOUT && !f->out_done) {
                size_t k, want = f->out_len - f->sent;
                ssize_t w;
                if (want > sizeof buf)
                    want = sizeof buf;
                for (k = 0; k < want; k++)
                    buf[k] = zt_pat(f->seed_out, f->sent + k);
                w = want ? send(f->fd, buf, want, MSG_NOSIGNAL) : 0;
                if (w > 0)
                    f->sent += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    f->bad = 1;
                if (f->sent == f->out_len) {
                    shutdown(f->fd, SHUT_WR);
                    f->out_done = 1;
                }
            }
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR) && !f->in_eof) {
                ssize_t r = recv(f->fd, buf, sizeof buf, 0);
                if (r == 0) {
                    f->in_eof = 1;
                } else if (r > 0) {
                    size_t k;
                    for (k = 0; k < (size_t)r; k++)
                        if (f->got + k >= f->in_len ||
                            buf[k] != zt_pat(f->seed_in, f->got + k)) {
                            f->bad = 1;
                            break;
                        }
                    f->got += (size_t)r;
                } else if (errno != EAGAIN && errno != EINTR) {
                    f->bad = 1;
                }
            }
        }
    }
    for (i = 0; i < n; i++)
        if (fl[i].bad || !fl[i].out_done || !fl[i].in_eof || fl[i].got != fl[i].in_len)
            bad++;
    free(p);
    free(idx);
    return bad;
}

#endif /* ZC_ENGINE_H */
