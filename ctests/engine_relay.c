/*
 * engine_relay.c: zcopy_relay's cases through the engine. Both directions
 * byte for byte (TCP<->TCP, unix<->TCP, blocking and non-blocking fds,
 * flags restored), half-close, close-both, idle timeout (not while bytes
 * move, no CPU while waiting), cancel fd (shared by several relays),
 * reset on either side names that fd; done is called exactly once, from
 * an engine thread, and relays are spread over the threads.
 */
#include "engine.h"

static zcopy_engine *eng;

/* The fds of a relay that ended must be back to their old flags, open,
 * and done must have been called exactly once from an engine thread. */
static void check_after(struct done_rec *d, struct ends *e, int fl_a, int fl_b, const char *what)
{
    usleep(50000);
    CHECK(rec_calls(d) == 1, "%s: done called exactly once (%d)", what, rec_calls(d));
    CHECK(!pthread_equal(d->thread, pthread_self()), "%s: done ran on an engine thread", what);
    CHECK(fd_open(e->a) && fd_open(e->b), "%s: the engine did not close the fds", what);
    CHECK(fcntl(e->a, F_GETFL) == fl_a && fcntl(e->b, F_GETFL) == fl_b,
          "%s: the fds' flags are as before", what);
}

static void both_directions(int kind_a, int kind_b, int nonblock)
{
    struct ends e;
    struct done_rec d;
    struct flow fl[2];
    char what[64];
    size_t n_ab = (size_t)zt_vg(3 << 20, 8) + 7, n_ba = (size_t)zt_vg(2 << 20, 8) + 3;
    int fl_a, fl_b, bad;
    snprintf(what, sizeof what, "%s<->%s %s", kind_a == E_TCP ? "tcp" : "unix",
             kind_b == E_TCP ? "tcp" : "unix", nonblock ? "non-blocking" : "blocking");
    ends_open(&e, kind_a, kind_b);
    if (nonblock) {
        zt_set_nonblock(e.a, 1);
        zt_set_nonblock(e.b, 1);
    }
    fl_a = fcntl(e.a, F_GETFL);
    fl_b = fcntl(e.b, F_GETFL);
    rec_init(&d);
    CHECK(zcopy_engine_add(eng, e.a, e.b, NULL, rec_done, &d) == 0, "%s: add", what);
    flow_set(&fl[0], e.c, 11, n_ab, 22, n_ba);
    flow_set(&fl[1], e.s, 22, n_ba, 11, n_ab);
    bad = zt_drive(fl, 2, 60);
    CHECK(bad == 0, "%s: %zu bytes a->b and %zu b->a arrived intact, then EOF", what, n_ab, n_ba);
    CHECK(rec_wait(&d, 10), "%s: done came", what);
    CHECK(d.r.error == 0 && d.r.a_to_b == (int64_t)n_ab && d.r.b_to_a == (int64_t)n_ba &&
              d.r.error_fd == -1,
          "%s: result " ZT_RR_FMT, what, ZT_RR_ARGS(d.r));
    check_after(&d, &e, fl_a, fl_b, what);
    ends_close(&e);
}

struct server {
    pthread_t th;
    int fd;
    size_t req, got, answer;
};

/* Reads the whole request (until EOF), only then answers and closes. */
static void *server_main(void *arg)
{
    struct server *s = arg;
    unsigned char buf[65536];
    size_t off = 0;
    ssize_t n;
    while ((n = read(s->fd, buf, sizeof buf)) > 0)
        s->got += (size_t)n;
    while (off < s->answer) {
        size_t k, want = s->answer - off < sizeof buf ? s->answer - off : sizeof buf;
        for (k = 0; k < want; k++)
            buf[k] = zt_pat(77, off + k);
        if (zt_write_all(s->fd, buf, want) < 0)
            break;
        off += want;
    }
    close(s->fd);
    return NULL;
}

static void half_close(void)
{
    struct ends e;
    struct done_rec d;
    struct server srv = { 0 };
    size_t req = 100000, answer = (size_t)zt_vg(3 << 20, 8), got = 0, bad = 0;
    unsigned char *buf = zt_random_buf(req, 5);
    unsigned char in[65536];
    ssize_t n;
    ends_open(&e, E_TCP, E_TCP);
    rec_init(&d);
    CHECK(zcopy_engine_add(eng, e.a, e.b, NULL, rec_done, &d) == 0, "half-close: add");
    srv.fd = e.s;
    srv.answer = answer;
    e.s = -1;
    if (pthread_create(&srv.th, NULL, server_main, &srv) != 0)
        DIE("pthread_create");
    CHECK(zt_write_all(e.c, buf, req) == 0 && shutdown(e.c, SHUT_WR) == 0,
          "half-close: client sent its request and shut down its write side");
    while ((n = read(e.c, in, sizeof in)) > 0) {
        ssize_t k;
        for (k = 0; k < n; k++)
            if (in[k] != zt_pat(77, got + (size_t)k))
                bad++;
        got += (size_t)n;
    }
    zt_join(srv.th, 30, "server");
    CHECK(srv.got == req, "half-close: the server got the whole request before EOF (%zu)", srv.got);
    CHECK(got == answer && bad == 0, "half-close: the whole answer arrived after the client's EOF (%zu of %zu)",
          got, answer);
    rec_wait(&d, 10);
    CHECK(rec_calls(&d) == 1 && d.r.error == 0 && d.r.a_to_b == (int64_t)req &&
              d.r.b_to_a == (int64_t)answer,
          "half-close: result " ZT_RR_FMT, ZT_RR_ARGS(d.r));
    free(buf);
    ends_close(&e);
}

static void close_both(void)
{
    struct ends e;
    struct done_rec d;
    zcopy_options o;
    char buf[8];
    double t0;
    ends_open(&e, E_TCP, E_UNIX);
    rec_init(&d);
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_CLOSE_BOTH;
    CHECK(zcopy_engine_add(eng, e.a, e.b, &o, rec_done, &d) == 0, "close-both: add");
    t0 = zt_now();
    CHECK(write(e.c, "hi", 2) == 2 && shutdown(e.c, SHUT_WR) == 0, "close-both: client sent 2 bytes and EOF");
    CHECK(rec_wait(&d, 5), "close-both: done came though the server never closed (%.0f ms)",
          (zt_now() - t0) * 1e3);
    CHECK(d.r.error == 0 && d.r.a_to_b == 2 && d.r.b_to_a == 0, "close-both: result " ZT_RR_FMT,
          ZT_RR_ARGS(d.r));
    CHECK(zt_read_full(e.s, buf, sizeof buf) == 2 && memcmp(buf, "hi", 2) == 0,
          "close-both: the server got the bytes, then EOF");
    CHECK(zt_read_full(e.c, buf, sizeof buf) == 0, "close-both: the client's side was shut down too");
    ends_close(&e);
}

static double process_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void idle_timeout(void)
{
    struct ends e;
    struct done_rec d;
    zcopy_options o;
    char c;
    int i, ok = 1;
    double t_last = 0, cpu0, waited;
    ends_open(&e, E_UNIX, E_TCP);
    rec_init(&d);
    zcopy_options_init(&o);
    o.idle_timeout_ms = 300;
    CHECK(zcopy_engine_add(eng, e.a, e.b, &o, rec_done, &d) == 0, "idle: add with a 300 ms timeout");
    /* A byte every 100 ms for 0.8 s, alternating directions: each one
     * restarts the clock. */
    for (i = 0; i < 8; i++) {
        int from = i % 2 ? e.s : e.c, to = i % 2 ? e.c : e.s;
        usleep(100000);
        /* Taken before the write: the relay moves the byte (and restarts
         * its clock) after it, so the timeout cannot end before
         * t_last + 300 ms. */
        t_last = zt_now();
        ok &= write(from, "x", 1) == 1 && read(to, &c, 1) == 1;
    }
    CHECK(ok && rec_calls(&d) == 0, "idle: no timeout while a byte moves every 100 ms (0.8 s > 300 ms)");
    cpu0 = process_cpu();
    CHECK(rec_wait(&d, 5), "idle: done came");
    waited = (d.at - t_last) * 1e3;
    CHECK(d.r.error == ETIMEDOUT && d.r.a_to_b == 4 && d.r.b_to_a == 4,
          "idle: result " ZT_RR_FMT, ZT_RR_ARGS(d.r));
    CHECK(waited >= 299 && waited < (zt_valgrind() ? 3000 : 1000),
          "idle: ended %.0f ms after the last byte (timeout 300 ms)", waited);
    CHECK(process_cpu() - cpu0 < 0.05, "idle: %.1f ms of process CPU while waiting",
          (process_cpu() - cpu0) * 1e3);
    ends_close(&e);
}

/* The largest timeout is "never" in practice: no overflow into the past. */
static void huge_timeout(void)
{
    struct ends e;
    struct done_rec d;
    zcopy_options o;
    char c[2];
    ends_open(&e, E_UNIX, E_UNIX);
    rec_init(&d);
    zcopy_options_init(&o);
    o.idle_timeout_ms = INT64_MAX;
    CHECK(zcopy_engine_add(eng, e.a, e.b, &o, rec_done, &d) == 0, "huge timeout: add with INT64_MAX ms");
    usleep(50000);
    CHECK(rec_calls(&d) == 0 && write(e.c, "hi", 2) == 2 && zt_read_full(e.s, c, 2) == 2,
          "huge timeout: not timed out, bytes move");
    shutdown(e.c, SHUT_WR);
    shutdown(e.s, SHUT_WR);
    rec_wait(&d, 5);
    CHECK(rec_calls(&d) == 1 && d.r.error == 0 && d.r.a_to_b == 2, "huge timeout: " ZT_RR_FMT, ZT_RR_ARGS(d.r));
    ends_close(&e);
}

static void cancel_fd(void)
{
    struct ends e[4];
    struct done_rec d[4];
    zcopy_options o;
    uint64_t one = 1;
    struct pollfd p;
    int i, efd = eventfd(0, EFD_CLOEXEC), ok = 1;
    double t0;
    zcopy_options_init(&o);
    o.cancel_fd = efd;
    for (i = 0; i < 4; i++) {
        ends_open(&e[i], E_TCP, E_TCP);
        rec_init(&d[i]);
        /* Three relays share the cancel fd; the fourth has none. */
        ok &= zcopy_engine_add(eng, e[i].a, e[i].b, i < 3 ? &o : NULL, rec_done, &d[i]) == 0;
    }
    CHECK(ok, "cancel: 4 adds, 3 sharing one eventfd");
    usleep(100000);
    CHECK(rec_calls(&d[0]) + rec_calls(&d[1]) + rec_calls(&d[2]) == 0, "cancel: nothing ended before the write");
    t0 = zt_now();
    CHECK(write(efd, &one, 8) == 8, "cancel: eventfd written");
    for (i = 0; i < 3; i++)
        rec_wait(&d[i], 2);
    for (i = 0; i < 3; i++)
        CHECK(rec_calls(&d[i]) == 1 && d[i].r.error == ECANCELED && d[i].r.error_fd == -1,
              "cancel: relay %d ended with ECANCELED (%.0f ms) " ZT_RR_FMT, i,
              (d[i].at - t0) * 1e3, ZT_RR_ARGS(d[i].r));
    usleep(100000);
    CHECK(rec_calls(&d[3]) == 0, "cancel: the relay without a cancel fd goes on");
    p.fd = efd;
    p.events = POLLIN;
    CHECK(poll(&p, 1, 0) == 1, "cancel: the eventfd was never read (still readable)");
    /* A cancel fd readable before the add ends the relay at once. */
    {
        struct ends x;
        struct done_rec dx;
        ends_open(&x, E_UNIX, E_UNIX);
        rec_init(&dx);
        CHECK(zcopy_engine_add(eng, x.a, x.b, &o, rec_done, &dx) == 0 && rec_wait(&dx, 2) &&
                  dx.r.error == ECANCELED,
              "cancel: an already readable cancel fd ends a new relay at once");
        ends_close(&x);
    }
    CHECK(write(e[3].c, "ok", 2) == 2 && zt_read_full(e[3].s, &one, 2) == 2,
          "cancel: the fourth relay still moves bytes");
    shutdown(e[3].c, SHUT_WR);
    shutdown(e[3].s, SHUT_WR);
    rec_wait(&d[3], 5);
    CHECK(rec_calls(&d[3]) == 1 && d[3].r.error == 0 && d[3].r.a_to_b == 2,
          "cancel: the fourth ends normally " ZT_RR_FMT,
          ZT_RR_ARGS(d[3].r));
    for (i = 0; i < 4; i++)
        ends_close(&e[i]);
    close(efd);
}

static void reset(int side)
{
    struct ends e;
    struct done_rec d;
    struct linger lg = { 1, 0 };
    int *peer, want;
    ends_open(&e, E_TCP, E_TCP);
    rec_init(&d);
    CHECK(zcopy_engine_add(eng, e.a, e.b, NULL, rec_done, &d) == 0, "reset %s: add", side ? "b" : "a");
    CHECK(write(e.c, "abc", 3) == 3, "reset: some bytes first");
    usleep(50000);
    peer = side ? &e.s : &e.c;
    want = side ? e.b : e.a;
    setsockopt(*peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    zt_close(peer); /* RST */
    CHECK(rec_wait(&d, 5), "reset %s: done came", side ? "b" : "a");
    CHECK((d.r.error == ECONNRESET || d.r.error == EPIPE) && d.r.error_fd == want,
          "reset %s: error names fd %d: " ZT_RR_FMT, side ? "b" : "a", want, ZT_RR_ARGS(d.r));
    ends_close(&e);
}

static volatile pthread_t usr1_thread;
static volatile int usr1_calls;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_thread = pthread_self();
    usr1_calls++;
}

/* Engine threads block every signal: a process-directed signal that the
 * application thread blocks stays pending rather than running its handler
 * on an engine thread. */
static void signals_stay_off_engine_threads(void)
{
    sigset_t s, pend;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    kill(getpid(), SIGUSR1);
    usleep(100000);
    sigpending(&pend);
    CHECK(usr1_calls == 0 && sigismember(&pend, SIGUSR1) == 1,
          "signals: SIGUSR1 stays pending while only engine threads could take it");
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    CHECK(usr1_calls == 1 && pthread_equal(usr1_thread, pthread_self()),
          "signals: it runs on the application thread once unblocked");
}

/* A destination whose peer is gone: the splice gets EPIPE or ECONNRESET
 * and raises SIGPIPE on the engine thread, where it is blocked: the
 * process (SIGPIPE at its default action, which kills) lives on. */
static void peer_gone(void)
{
    struct ends e;
    struct done_rec d;
    static unsigned char buf[1 << 20];
    int i;
    ends_open(&e, E_TCP, E_UNIX);
    rec_init(&d);
    CHECK(zcopy_engine_add(eng, e.a, e.b, NULL, rec_done, &d) == 0, "peer gone: add");
    zt_close(&e.s); /* b's peer closed: writes to b fail with EPIPE */
    zt_set_nonblock(e.c, 1);
    for (i = 0; i < 50 && rec_calls(&d) == 0; i++) {
        if (write(e.c, buf, sizeof buf) < 0)
            usleep(10000);
    }
    rec_wait(&d, 5);
    CHECK(rec_calls(&d) == 1 && (d.r.error == EPIPE || d.r.error == ECONNRESET) && d.r.error_fd == e.b,
          "peer gone: " ZT_RR_FMT " (SIGPIPE did not kill the process)", ZT_RR_ARGS(d.r));
    ends_close(&e);
}

static void spread(void)
{
    struct ends e[4];
    struct done_rec d[4];
    int i, distinct = 0;
    for (i = 0; i < 4; i++) {
        ends_open(&e[i], E_UNIX, E_UNIX);
        rec_init(&d[i]);
        zcopy_engine_add(eng, e[i].a, e[i].b, NULL, rec_done, &d[i]);
        shutdown(e[i].c, SHUT_WR);
        shutdown(e[i].s, SHUT_WR);
    }
    for (i = 0; i < 4; i++)
        rec_wait(&d[i], 5);
    for (i = 1; i < 4; i++)
        distinct |= !pthread_equal(d[i].thread, d[0].thread);
    CHECK(distinct, "spread: 4 relays on a 2-thread engine ran on both threads");
    for (i = 0; i < 4; i++)
        ends_close(&e[i]);
}

int main(void)
{
    zt_start("engine_relay", 240);
    signal(SIGPIPE, SIG_DFL); /* the engine must not need it ignored */
    eng = zcopy_engine_new(2);
    if (!eng)
        DIE("zcopy_engine_new");
    both_directions(E_TCP, E_TCP, 0);
    both_directions(E_TCP, E_TCP, 1);
    both_directions(E_UNIX, E_TCP, 0);
    both_directions(E_TCP, E_UNIX, 1);
    half_close();
    close_both();
    idle_timeout();
    huge_timeout();
    cancel_fd();
    reset(0);
    reset(1);
    spread();
    peer_gone();
    signals_stay_off_engine_threads();
    zcopy_engine_free(eng);
    return zt_finish();
}
