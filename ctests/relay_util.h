/*
 * relay_util.h: helpers for the zcopy_relay tests (relay_*.c).
 *
 * A relay sits between two connections: `a` is the relay's end of the
 * client's connection (the client holds `ca`), `b` the relay's end of the
 * server's (the server holds `sb`). A "talk" runs both peers at once: each
 * peer writes its bytes and half-closes, and reads until EOF; afterwards
 * the bytes each side got are compared with what the other sent.
 */
#ifndef ZC_RELAY_UTIL_H
#define ZC_RELAY_UTIL_H

#include "zc_test.h"

#include <sys/resource.h>

enum rl_kind { RL_TCP, RL_UNIX };

static const char *const rl_kind_name[] = { "tcp", "unix" };

/* One connection: *mine is the relay's end, *peer the other one. */
static inline void rl_conn(int kind, int *mine, int *peer)
{
    int p[2];
    if (kind == RL_TCP) {
        int one = 1;
        zt_tcp_pair(p);
        setsockopt(p[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(p[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    } else {
        zt_unix_pair(p);
    }
    *mine = p[1];
    *peer = p[0];
}

/* Threads alive in this process (entries of /proc/self/task). */
static inline int rl_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (!d)
        DIE("opendir /proc/self/task");
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static inline double rl_ms_since(double t0) { return (zt_now() - t0) * 1000.0; }

/* CPU time of the calling thread, in ms (getrusage RUSAGE_THREAD). */
static inline double rl_thread_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        DIE("getrusage");
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static inline int rl_nonblocking(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

/* Both peers of a relay, each writing `len` bytes then SHUT_WR and
 * reading until EOF. */
struct rl_talk {
    size_t len_ab, len_ba;
    unsigned char *d_ab, *d_ba; /* what the client / the server sends */
    struct zt_writer wc, ws;
    struct zt_reader rc, rs;
};

static inline void rl_talk_start(struct rl_talk *t, int ca, int sb, size_t len_ab, size_t len_ba,
                                 uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->len_ab = len_ab;
    t->len_ba = len_ba;
    t->d_ab = zt_random_buf(len_ab, seed);
    t->d_ba = zt_random_buf(len_ba, seed + 1);
    zt_reader_start(&t->rs, sb, len_ab + 16, 0);
    zt_reader_start(&t->rc, ca, len_ba + 16, 0);
    t->wc.fd = ca;
    t->wc.buf = t->d_ab;
    t->wc.len = len_ab;
    t->wc.chunk = 100003; /* odd sizes: chunks never line up with pipes */
    t->wc.shut_after = 1;
    t->ws.fd = sb;
    t->ws.buf = t->d_ba;
    t->ws.len = len_ba;
    t->ws.chunk = 77777;
    t->ws.shut_after = 1;
    if (pthread_create(&t->wc.th, NULL, zt_writer_main, &t->wc) != 0 ||
        pthread_create(&t->ws.th, NULL, zt_writer_main, &t->ws) != 0)
        DIE("pthread_create");
}

/* Joins the peers; true when each side got exactly the other's bytes. */
static inline int rl_talk_end(struct rl_talk *t, const char *label, int quiet)
{
    int ok;
    zt_join(t->wc.th, 60, "client writer");
    zt_join(t->ws.th, 60, "server writer");
    zt_join(t->rc.th, 60, "client reader");
    zt_join(t->rs.th, 60, "server reader");
    ok = t->rs.got == t->len_ab && t->rs.extra == 0 && memcmp(t->rs.buf, t->d_ab, t->len_ab) == 0 &&
         t->rc.got == t->len_ba && t->rc.extra == 0 && memcmp(t->rc.buf, t->d_ba, t->len_ba) == 0;
    if (!quiet || !ok)
        CHECK(ok, "%s: server got the client's %zu bytes (got %zu), client got the server's %zu (got %zu), byte for byte",
              label, t->len_ab, t->rs.got, t->len_ba, t->rc.got);
    free(t->d_ab);
    free(t->d_ba);
    free(t->rs.buf);
    free(t->rc.buf);
    return ok;
}

#define RL_FMT "a_to_b=%lld b_to_a=%lld error=%d(%s) error_fd=%d"
#define RL_ARGS(r) (long long)(r).a_to_b, (long long)(r).b_to_a, (r).error, \
        ((r).error ? strerror((r).error) : "-"), (r).error_fd

#endif /* ZC_RELAY_UTIL_H */
