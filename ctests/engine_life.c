/*
 * engine_life.c: the engine's life cycle and arguments. Bad arguments are
 * errors (never a crash, a leak or a done call); done may add a new relay;
 * a relay may have no done; free with relays running ends each with
 * ECANCELED before it returns and leaves the fds open; pipes_in_use counts
 * a pipe while bytes wait for a full destination and is 0 afterwards.
 */
#include "engine.h"
#include <stddef.h>

/* The ABI as the issue gives it: field order and sizes, the callback type. */
static void abi(void)
{
    void (*fn)(void *, zcopy_relay_result) = rec_done;
    zcopy_relay_done_fn cb = fn;
    CHECK(sizeof(zcopy_engine_stats) == 32 && offsetof(zcopy_engine_stats, active) == 0 &&
              offsetof(zcopy_engine_stats, finished) == 8 && offsetof(zcopy_engine_stats, bytes) == 16 &&
              offsetof(zcopy_engine_stats, pipes_in_use) == 24,
          "abi: zcopy_engine_stats is 4 x uint64_t in order");
    CHECK(cb == rec_done && sizeof(zcopy_relay_result) == 24,
          "abi: zcopy_relay_done_fn is void (*)(void *, zcopy_relay_result)");
}

static void bad_args(void)
{
    zcopy_engine *e = zcopy_engine_new(1);
    zcopy_engine_stats st;
    zcopy_options o;
    struct ends x;
    struct done_rec d;
    int closed, file, fds0;
    CHECK(e != NULL, "new(1)");
    ends_open(&x, E_UNIX, E_UNIX);
    rec_init(&d);
    fds0 = zt_fd_count();
    CHECK(zcopy_engine_add(NULL, x.a, x.b, NULL, rec_done, &d) == EINVAL, "add(NULL engine): EINVAL");
    CHECK(zcopy_engine_add(e, x.a, x.a, NULL, rec_done, &d) == EINVAL, "add(a == b): EINVAL");
    CHECK(zcopy_engine_add(e, -1, x.b, NULL, rec_done, &d) == EBADF, "add(a = -1): EBADF");
    CHECK(zcopy_engine_add(e, x.a, -5, NULL, rec_done, &d) == EBADF, "add(b = -5): EBADF");
    closed = dup(x.a);
    close(closed);
    CHECK(zcopy_engine_add(e, closed, x.b, NULL, rec_done, &d) == EBADF, "add(a closed): EBADF");
    zcopy_options_init(&o);
    o.size = 16;
    CHECK(zcopy_engine_add(e, x.a, x.b, &o, rec_done, &d) == EINVAL, "add(opts.size 16): EINVAL");
    zcopy_options_init(&o);
    o.flags = 0x80;
    CHECK(zcopy_engine_add(e, x.a, x.b, &o, rec_done, &d) == EINVAL, "add(unknown flag): EINVAL");
    zcopy_options_init(&o);
    o.idle_timeout_ms = -1;
    CHECK(zcopy_engine_add(e, x.a, x.b, &o, rec_done, &d) == EINVAL, "add(timeout -1): EINVAL");
    zcopy_options_init(&o);
    o.cancel_fd = closed;
    CHECK(zcopy_engine_add(e, x.a, x.b, &o, rec_done, &d) == EBADF, "add(cancel_fd closed): EBADF");
    file = zt_tmpfile();
    CHECK(zcopy_engine_add(e, file, x.b, NULL, rec_done, &d) == EPERM,
          "add(a regular file): EPERM (epoll cannot watch it)");
    close(file);
    usleep(50000);
    CHECK(rec_calls(&d) == 0, "no done call for a refused add");
    CHECK(zt_fd_count() == fds0 && (fcntl(x.a, F_GETFL) & O_NONBLOCK) == 0,
          "a refused add leaks no fd and leaves the flags alone");
    memset(&st, 0xff, sizeof st);
    zcopy_engine_get_stats(e, &st);
    CHECK(st.active == 0 && st.finished == 0 && st.bytes == 0 && st.pipes_in_use == 0,
          "stats after refused adds: all 0");
    zcopy_engine_get_stats(NULL, &st);
    zcopy_engine_get_stats(e, NULL);
    zcopy_engine_free(NULL);
    CHECK(1, "get_stats(NULL, ...), get_stats(e, NULL), free(NULL): nothing happens");
    errno = 0;
    CHECK(zcopy_engine_new(100000) == NULL && errno == EINVAL, "new(100000 threads): NULL, EINVAL");
    zcopy_engine_free(e);
    ends_close(&x);
}

/* fds that are not connections: the relay ends with an error through
 * done (no hang, no crash), and the fds stay open. */
static void odd_fds(void)
{
    zcopy_engine *e = zcopy_engine_new(1);
    struct sockaddr_in addr;
    struct done_rec d1, d2;
    int l = zt_tcp_listener(&addr), u[2], ev = eventfd(0, EFD_CLOEXEC), p[2];
    zt_unix_pair(u);
    zt_pipe(p);
    rec_init(&d1);
    rec_init(&d2);
    CHECK(zcopy_engine_add(e, l, u[0], NULL, rec_done, &d1) == 0, "odd: a listening socket is accepted by add");
    rec_wait(&d1, 5);
    CHECK(rec_calls(&d1) == 1 && d1.r.error != 0 && d1.r.error_fd == l,
          "odd: ... and ends with an error on it: " ZT_RR_FMT, ZT_RR_ARGS(d1.r));
    /* An eventfd on one side and a pipe's read end on the other: data
     * read from the pipe cannot go to the eventfd in 1-byte writes. */
    CHECK(write(p[1], "x", 1) == 1, "odd: a byte waits in a pipe");
    CHECK(zcopy_engine_add(e, p[0], ev, NULL, rec_done, &d2) == 0, "odd: pipe <-> eventfd accepted by add");
    rec_wait(&d2, 5);
    CHECK(rec_calls(&d2) == 1 && d2.r.error != 0, "odd: ... and ends with an error: " ZT_RR_FMT, ZT_RR_ARGS(d2.r));
    CHECK(fd_open(l) && fd_open(u[0]) && fd_open(ev) && fd_open(p[0]), "odd: the fds are still open");
    zcopy_engine_free(e);
    close(l);
    close(u[0]);
    close(u[1]);
    close(ev);
    close(p[0]);
    close(p[1]);
}

/* done of the first relay adds the second (the fds it gets in ctx). */
struct chain {
    zcopy_engine *e;
    struct done_rec first, second;
    struct ends next;
    int add_result;
};

static void chain_done(void *ctx, zcopy_relay_result r)
{
    struct chain *c = ctx;
    c->add_result = zcopy_engine_add(c->e, c->next.a, c->next.b, NULL, rec_done, &c->second);
    rec_done(&c->first, r);
}

static void add_from_done(void)
{
    zcopy_engine *e = zcopy_engine_new(1);
    struct chain c;
    struct ends x;
    char buf[8];
    memset(&c, 0, sizeof c);
    c.e = e;
    rec_init(&c.first);
    rec_init(&c.second);
    c.add_result = -1;
    ends_open(&x, E_UNIX, E_UNIX);
    ends_open(&c.next, E_TCP, E_TCP);
    CHECK(zcopy_engine_add(e, x.a, x.b, NULL, chain_done, &c) == 0, "add-from-done: first add");
    shutdown(x.c, SHUT_WR);
    shutdown(x.s, SHUT_WR);
    rec_wait(&c.first, 5);
    CHECK(rec_calls(&c.first) == 1 && c.add_result == 0, "add-from-done: done added a relay (%d)",
          c.add_result);
    CHECK(write(c.next.c, "ping", 4) == 4 && zt_read_full(c.next.s, buf, 4) == 4 &&
              memcmp(buf, "ping", 4) == 0,
          "add-from-done: the relay added inside done moves bytes");
    shutdown(c.next.c, SHUT_WR);
    shutdown(c.next.s, SHUT_WR);
    rec_wait(&c.second, 5);
    CHECK(rec_calls(&c.second) == 1 && c.second.r.error == 0 && c.second.r.a_to_b == 4,
          "add-from-done: its done came " ZT_RR_FMT, ZT_RR_ARGS(c.second.r));
    zcopy_engine_free(e);
    ends_close(&x);
    ends_close(&c.next);
}

static void free_running(void)
{
    enum { N = 50 };
    zcopy_engine *e = zcopy_engine_new(2);
    struct ends x[N];
    struct done_rec d[N];
    zcopy_engine_stats st;
    int i, ok = 1, cancelled = 0, once = 1, open_fds = 1;
    for (i = 0; i < N; i++) {
        ends_open(&x[i], i % 2 ? E_TCP : E_UNIX, E_UNIX);
        rec_init(&d[i]);
        ok &= zcopy_engine_add(e, x[i].a, x[i].b, NULL, rec_done, &d[i]) == 0;
    }
    CHECK(ok, "free-running: %d adds", N);
    /* One relay is mid-transfer: bytes wait in its pipe for a full dst. */
    {
        static unsigned char big[1 << 20];
        zt_set_nonblock(x[0].c, 1);
        while (write(x[0].c, big, sizeof big) > 0)
            ;
    }
    usleep(100000);
    zcopy_engine_get_stats(e, &st);
    CHECK(st.active == N && st.finished == 0, "free-running: stats active=%llu finished=%llu",
          (unsigned long long)st.active, (unsigned long long)st.finished);
    zcopy_engine_free(e);
    for (i = 0; i < N; i++) {
        cancelled += d[i].calls == 1 && d[i].r.error == ECANCELED;
        once &= d[i].calls == 1;
        open_fds &= fd_open(x[i].a) && fd_open(x[i].b) && (fcntl(x[i].a, F_GETFL) & O_NONBLOCK) == 0;
    }
    CHECK(once && cancelled == N, "free-running: every done was called once with ECANCELED before free returned (%d)",
          cancelled);
    CHECK(open_fds, "free-running: the fds are open, flags restored");
    CHECK(d[0].r.a_to_b > 0, "free-running: the busy relay reports its bytes (%lld)",
          (long long)d[0].r.a_to_b);
    for (i = 0; i < N; i++)
        ends_close(&x[i]);
}

/* zcopy_engine_free called from inside a done callback: it cannot join its
 * own thread, so that thread ends its other relays after the callback
 * returns; every done still comes exactly once. */
static zcopy_engine *freed_in_done;
static struct done_rec fid_first;

static void free_in_done(void *ctx, zcopy_relay_result r)
{
    (void)ctx;
    zcopy_engine_free(freed_in_done);
    rec_done(&fid_first, r);
}

static void free_from_done(void)
{
    enum { N = 10 };
    struct ends first, x[N];
    struct done_rec d[N];
    int i, once = 1, cancelled = 0;
    freed_in_done = zcopy_engine_new(1);
    rec_init(&fid_first);
    ends_open(&first, E_UNIX, E_UNIX);
    for (i = 0; i < N; i++) {
        ends_open(&x[i], E_UNIX, E_UNIX);
        rec_init(&d[i]);
        zcopy_engine_add(freed_in_done, x[i].a, x[i].b, NULL, rec_done, &d[i]);
    }
    CHECK(zcopy_engine_add(freed_in_done, first.a, first.b, NULL, free_in_done, NULL) == 0,
          "free-in-done: add");
    shutdown(first.c, SHUT_WR);
    shutdown(first.s, SHUT_WR);
    rec_wait(&fid_first, 5);
    for (i = 0; i < N; i++)
        rec_wait(&d[i], 5);
    usleep(50000);
    for (i = 0; i < N; i++) {
        once &= rec_calls(&d[i]) == 1;
        cancelled += d[i].r.error == ECANCELED;
    }
    CHECK(rec_calls(&fid_first) == 1 && fid_first.r.error == 0, "free-in-done: the freeing relay ended normally");
    CHECK(once && cancelled == N, "free-in-done: the %d others got ECANCELED once each (%d)", N, cancelled);
    ends_close(&first);
    for (i = 0; i < N; i++)
        ends_close(&x[i]);
}

static void no_done(void)
{
    zcopy_engine *e = zcopy_engine_new(0);
    zcopy_engine_stats st;
    struct ends x;
    char buf[4];
    int i;
    CHECK(e != NULL, "new(0): one thread per CPU");
    ends_open(&x, E_UNIX, E_UNIX);
    CHECK(zcopy_engine_add(e, x.a, x.b, NULL, NULL, NULL) == 0, "no-done: add with done NULL");
    CHECK(write(x.c, "abc", 3) == 3 && zt_read_full(x.s, buf, 3) == 3, "no-done: bytes move");
    shutdown(x.c, SHUT_WR);
    shutdown(x.s, SHUT_WR);
    for (i = 0; i < 500; i++) {
        zcopy_engine_get_stats(e, &st);
        if (st.finished == 1)
            break;
        usleep(10000);
    }
    CHECK(st.finished == 1 && st.active == 0 && st.bytes == 3, "no-done: the relay ended, counted (bytes %llu)",
          (unsigned long long)st.bytes);
    zcopy_engine_free(e);
    ends_close(&x);
}

static void pipes_in_use(void)
{
    zcopy_engine *e = zcopy_engine_new(1);
    zcopy_engine_stats st;
    struct ends x;
    struct done_rec d;
    struct flow fl[2];
    size_t n = (size_t)zt_vg(8 << 20, 8);
    int i;
    ends_open(&x, E_TCP, E_TCP);
    rec_init(&d);
    /* Small buffers on the b side, so that b is full long before the
     * client has written everything (loopback autotuning would otherwise
     * take megabytes; not below 64 KiB, or loopback's 64 KiB segments
     * meet a zero window and crawl on persist probes). */
    {
        int small = 65536;
        setsockopt(x.b, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        setsockopt(x.s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    CHECK(zcopy_engine_add(e, x.a, x.b, NULL, rec_done, &d) == 0, "pipes: add");
    /* The client writes while nobody reads at s: b fills up and the relay
     * keeps what it took in a pipe. */
    {
        unsigned char buf[65536];
        size_t sent = 0;
        zt_set_nonblock(x.c, 1);
        for (i = 0; i < 200 && sent < n; i++) {
            size_t k;
            ssize_t w;
            for (k = 0; k < sizeof buf; k++)
                buf[k] = zt_pat(9, sent + k);
            w = write(x.c, buf, sizeof buf < n - sent ? sizeof buf : n - sent);
            if (w > 0)
                sent += (size_t)w;
            else
                usleep(5000);
        }
        for (i = 0; i < 200; i++) {
            zcopy_engine_get_stats(e, &st);
            if (st.pipes_in_use > 0)
                break;
            usleep(10000);
        }
        CHECK(st.pipes_in_use == 1 && st.active == 1,
              "pipes: one pipe in use while bytes wait for a full dst (%llu)",
              (unsigned long long)st.pipes_in_use);
        flow_set(&fl[0], x.c, 9, n, 10, 0);
        fl[0].sent = sent;
        flow_set(&fl[1], x.s, 10, 0, 9, n);
    }
    CHECK(zt_drive(fl, 2, 60) == 0, "pipes: %zu bytes intact", n);
    rec_wait(&d, 10);
    zcopy_engine_get_stats(e, &st);
    CHECK(rec_calls(&d) == 1 && d.r.error == 0 && d.r.a_to_b == (int64_t)n, "pipes: result " ZT_RR_FMT,
          ZT_RR_ARGS(d.r));
    CHECK(st.pipes_in_use == 0 && st.active == 0 && st.finished == 1 && st.bytes == n,
          "pipes: afterwards pipes_in_use=%llu active=%llu finished=%llu bytes=%llu",
          (unsigned long long)st.pipes_in_use, (unsigned long long)st.active,
          (unsigned long long)st.finished, (unsigned long long)st.bytes);
    zcopy_engine_free(e);
    ends_close(&x);
}

/* Adds from several threads at once, each relay ended at once by its
 * ends' half-closes: every done once, the counters add up. */
struct adder {
    pthread_t th;
    zcopy_engine *e;
    int n, ok;
    struct ends *x;
    struct done_rec *d;
};

static void *adder_main(void *arg)
{
    struct adder *a = arg;
    int i;
    a->ok = 1;
    for (i = 0; i < a->n; i++) {
        ends_open(&a->x[i], E_UNIX, E_UNIX);
        rec_init(&a->d[i]);
        a->ok &= zcopy_engine_add(a->e, a->x[i].a, a->x[i].b, NULL, rec_done, &a->d[i]) == 0;
        a->ok &= write(a->x[i].c, "q", 1) == 1;
        shutdown(a->x[i].c, SHUT_WR);
        shutdown(a->x[i].s, SHUT_WR);
    }
    return NULL;
}

static void concurrent_adds(void)
{
    enum { T = 4 };
    int n = (int)zt_vg(200, 10), i, j, ok = 1, once = 1, right = 1;
    zcopy_engine *e = zcopy_engine_new(3);
    struct adder a[T];
    zcopy_engine_stats st;
    for (i = 0; i < T; i++) {
        a[i].e = e;
        a[i].n = n;
        a[i].x = calloc((size_t)n, sizeof *a[i].x);
        a[i].d = calloc((size_t)n, sizeof *a[i].d);
        if (!a[i].x || !a[i].d || pthread_create(&a[i].th, NULL, adder_main, &a[i]) != 0)
            DIE("adder");
    }
    for (i = 0; i < T; i++) {
        zt_join(a[i].th, 60, "adder");
        ok &= a[i].ok;
    }
    CHECK(ok, "concurrent: %d threads added %d relays each", T, n);
    for (i = 0; i < T; i++)
        for (j = 0; j < n; j++)
            rec_wait(&a[i].d[j], 10);
    usleep(50000);
    for (i = 0; i < T; i++)
        for (j = 0; j < n; j++) {
            once &= rec_calls(&a[i].d[j]) == 1;
            right &= a[i].d[j].r.error == 0 && a[i].d[j].r.a_to_b == 1 && a[i].d[j].r.b_to_a == 0;
        }
    zcopy_engine_get_stats(e, &st);
    CHECK(once && right, "concurrent: every done once, every result exact");
    CHECK(st.finished == (uint64_t)(T * n) && st.active == 0 && st.bytes == (uint64_t)(T * n),
          "concurrent: stats finished=%llu active=%llu bytes=%llu", (unsigned long long)st.finished,
          (unsigned long long)st.active, (unsigned long long)st.bytes);
    zcopy_engine_free(e);
    for (i = 0; i < T; i++) {
        for (j = 0; j < n; j++)
            ends_close(&a[i].x[j]);
        free(a[i].x);
        free(a[i].d);
    }
}

int main(void)
{
    zt_start("engine_life", 180);
    abi();
    bad_args();
    odd_fds();
    add_from_done();
    free_running();
    no_done();
    free_from_done();
    pipes_in_use();
    concurrent_adds();
    return zt_finish();
}
