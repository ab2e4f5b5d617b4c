/*
 * pool.c: the global pipe pool through the C ABI: reuse shows in the
 * stats, zcopy_pool_configure validates its arguments, 64 pipes lent at
 * once (64 threads each blocked mid-splice, and 64 splicers) come back and
 * zcopy_pool_drain closes every one of them (the process's fd count is back
 * where it was).
 */
#include "zc_test.h"

#define U(x) ((unsigned long long)(x))

static void stats(zcopy_pool_stats *s) { zcopy_pool_get_stats(s); }

/* One socket->socket splice through the pool of `n` bytes. */
static zcopy_result one_splice(size_t n)
{
    int a[2], b[2];
    unsigned char buf[4096];
    zcopy_result r;
    size_t got;
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_fill(buf, sizeof buf, n);
    if (n > sizeof buf)
        n = sizeof buf;
    zt_write_all(a[0], buf, n);
    shutdown(a[0], SHUT_WR);
    r = zcopy_splice(b[0], a[1], ZCOPY_ALL);
    shutdown(b[0], SHUT_WR);
    {
        unsigned char in[4096 + 1];
        got = zt_read_full(b[1], in, sizeof in);
        QCHECK(got == n && memcmp(in, buf, n) == 0, "pooled splice delivered %zu of %zu bytes", got, n);
    }
    close(a[0]); close(a[1]); close(b[0]); close(b[1]);
    return r;
}

static void test_reuse(void)
{
    zcopy_pool_stats a, b;
    int i;
    zcopy_result r;
    stats(&a);
    for (i = 0; i < 10; i++) {
        r = one_splice(1000 + (size_t)i);
        QCHECK(zt_ok(r, 1000 + i), "splice %d: " ZT_RES_FMT, i, ZT_RES_ARGS(r));
    }
    stats(&b);
    printf("# stats after 10 sequential pooled splices: idle %llu in_use %llu created +%llu reused +%llu discarded +%llu\n",
           U(b.idle), U(b.in_use), U(b.created - a.created), U(b.reused - a.reused),
           U(b.discarded - a.discarded));
    CHECK(b.created - a.created + b.reused - a.reused == 10,
          "10 pooled splices = 10 acquisitions (created+reused delta %llu)",
          U(b.created - a.created + b.reused - a.reused));
    CHECK(b.reused - a.reused >= 9, "sequential splices on one thread reuse the pipe (reused +%llu)",
          U(b.reused - a.reused));
    CHECK(b.created - a.created <= 1, "at most one new pipe made (created +%llu)", U(b.created - a.created));
    CHECK(b.in_use == 0 && b.idle >= 1, "afterwards in_use 0, idle %llu >= 1", U(b.idle));
    zcopy_pool_get_stats(NULL);
    CHECK(1, "zcopy_pool_get_stats(NULL) does nothing (no crash)");
}

static void test_configure(void)
{
    int32_t e;
    e = zcopy_pool_configure(65537, 0);
    CHECK(e == EINVAL, "configure(max_idle 65537) -> EINVAL (%d)", e);
    e = zcopy_pool_configure(UINT64_MAX, 0);
    CHECK(e == EINVAL, "configure(max_idle UINT64_MAX) -> EINVAL (%d)", e);
    e = zcopy_pool_configure(0, 4095);
    CHECK(e == EINVAL, "configure(pipe_size 4095) -> EINVAL (%d)", e);
    e = zcopy_pool_configure(0, (1ULL << 30) + 1);
    CHECK(e == EINVAL, "configure(pipe_size 1GiB+1) -> EINVAL (%d)", e);
    e = zcopy_pool_configure(0, UINT64_MAX);
    CHECK(e == EINVAL, "configure(pipe_size UINT64_MAX) -> EINVAL (%d)", e);
    e = zcopy_pool_configure(16, 1);
    CHECK(e == EINVAL, "configure(16, 1): one bad value -> EINVAL (%d)", e);
    e = zcopy_pool_configure(0, 0);
    CHECK(e == 0, "configure(0, 0) keeps both -> 0 (%d)", e);
    e = zcopy_pool_configure(65536, 0);
    CHECK(e == 0, "configure(65536, 0) -> 0 (%d)", e);
    e = zcopy_pool_configure(1, 4096);
    CHECK(e == 0, "configure(1, 4096) -> 0 (%d)", e);
    {
        /* the idle cap of 1 holds: two pipes returned, one kept */
        zcopy_pool_stats s;
        zcopy_splicer *x = zcopy_splicer_new(), *y = zcopy_splicer_new();
        CHECK(x && y, "two splicers");
        zcopy_splicer_free(x);
        zcopy_splicer_free(y);
        stats(&s);
        CHECK(s.idle <= 1, "with max_idle 1, idle is %llu <= 1", U(s.idle));
        /* a 4096-byte pipe still moves a large transfer (many rounds) */
    }
    {
        size_t n = (size_t)zt_vg(300000, 4);
        unsigned char *data = zt_random_buf(n, 7);
        struct zt_reader rd;
        zcopy_result r = zt_splice_unix(data, n, &rd);
        CHECK(zt_ok(r, (long long)n) && rd.got == n && memcmp(rd.buf, data, n) == 0,
              "splice through 4 KiB pipes: " ZT_RES_FMT ", bytes intact", ZT_RES_ARGS(r));
        free(rd.buf);
        free(data);
    }
    e = zcopy_pool_configure(16, 1 << 20);
    CHECK(e == 0, "configure back to the defaults (16, 1 MiB) -> 0");
}

/* The start of both 64-at-once tests: an empty pool that may keep 64
 * idle pipes of 64 KiB, its counters in *a; returns the fd count. */
static int begin_64(zcopy_pool_stats *a)
{
    int fds0;
    zcopy_pool_drain();
    fds0 = zt_fd_count();
    CHECK(zcopy_pool_configure(64, 64 * 1024) == 0, "configure(max_idle 64, 64 KiB pipes)");
    stats(a);
    return fds0;
}

/* 64 threads each blocked in zcopy_splice (source without data yet). */
static void test_64_concurrent(void)
{
    enum { N = 64 };
    static struct zt_blocked bs[N];
    zcopy_pool_stats a, s;
    int fds0, i;
    double deadline;
    uint64_t drained;
    fds0 = begin_64(&a);
    for (i = 0; i < N; i++) {
        zt_blocked_start(&bs[i]);
    }
    deadline = zt_now() + (zt_valgrind() ? 60 : 10);
    do {
        stats(&s);
        if (s.in_use - a.in_use >= N)
            break;
        usleep(10000);
    } while (zt_now() < deadline);
    CHECK(s.in_use - a.in_use == N, "64 threads blocked mid-splice hold 64 pipes (in_use %llu)",
          U(s.in_use));
    for (i = 0; i < N; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "thread %d", i);
        zt_blocked_release(&bs[i], msg, (size_t)len);
    }
    for (i = 0; i < N; i++) {
        char msg[32], got[40];
        int len = snprintf(msg, sizeof msg, "thread %d", i);
        size_t n;
        n = zt_blocked_finish(&bs[i], got, sizeof got);
        QCHECK(zt_ok(bs[i].r, len) && n == (size_t)len && memcmp(got, msg, n) == 0,
               "thread %d: " ZT_RES_FMT, i, ZT_RES_ARGS(bs[i].r));
    }
    stats(&s);
    printf("# after 64 concurrent splices: idle %llu in_use %llu created +%llu reused +%llu discarded +%llu\n",
           U(s.idle), U(s.in_use), U(s.created - a.created), U(s.reused - a.reused),
           U(s.discarded - a.discarded));
    CHECK(s.in_use == 0, "all 64 pipes returned (in_use 0)");
    CHECK(s.created - a.created + s.reused - a.reused == N, "created+reused delta == 64 acquisitions (%llu)",
          U(s.created - a.created + s.reused - a.reused));
    CHECK(s.idle == N, "64 idle pipes parked (idle %llu, max_idle 64)", U(s.idle));
    drained = zcopy_pool_drain();
    stats(&s);
    CHECK(drained == N && s.idle == 0, "zcopy_pool_drain closed %llu pipes, idle now %llu", U(drained),
          U(s.idle));
    CHECK(zt_fd_count() == fds0, "every pipe fd closed: %d fds, %d before", zt_fd_count(), fds0);
    CHECK(zcopy_pool_configure(16, 1 << 20) == 0, "configure back to defaults");
}

/* 64 splicers lent at once by one thread, freed, drained. */
static void test_64_splicers(void)
{
    enum { N = 64 };
    zcopy_splicer *sp[N];
    zcopy_pool_stats a, s;
    int fds0, i, made = 0;
    uint64_t drained;
    fds0 = begin_64(&a);
    for (i = 0; i < N; i++) {
        sp[i] = zcopy_splicer_new();
        made += sp[i] != NULL;
    }
    stats(&s);
    CHECK(made == N && s.in_use - a.in_use == N, "64 splicers hold 64 pipes (in_use %llu)", U(s.in_use));
    CHECK(zt_fd_count() == fds0 + 2 * N, "128 pipe fds open (%d, %d before)", zt_fd_count(), fds0);
    for (i = 0; i < N; i++)
        zcopy_splicer_free(sp[i]);
    stats(&s);
    CHECK(s.in_use == 0 && s.idle == N, "freed: in_use %llu, idle %llu", U(s.in_use), U(s.idle));
    drained = zcopy_pool_drain();
    CHECK(drained == N, "drain closed %llu pipes", U(drained));
    CHECK(zt_fd_count() == fds0, "every fd closed: %d, %d before", zt_fd_count(), fds0);
    CHECK(zcopy_pool_configure(16, 1 << 20) == 0, "configure back to defaults");
}

int main(void)
{
    int fds_before;
    zt_start("pool", 100);
    fds_before = zt_fd_count();
    test_reuse();
    test_configure();
    test_64_concurrent();
    test_64_splicers();
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}
