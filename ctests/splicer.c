/*
 * splicer.c: the non-blocking splicer (zcopy_splicer_*) driven the way an
 * event loop drives it.
 *
 * 1. Two-way relays (one splicer per direction) between non-blocking
 *    sockets, driven by ONE epoll loop whose interest follows
 *    zcopy_splicer_wants: TCP with level-triggered epoll, unix sockets with
 *    edge-triggered epoll, TCP <-> unix edge-triggered. The far ends read
 *    slowly (tiny SO_RCVBUF / SO_SNDBUF, random small reads, sleeps), so
 *    that EAGAIN with bytes pending happens on purpose (counted and
 *    asserted). Random data both ways, every byte checked.
 * 2. EOF: one side half-closes first; the relay half-closes the other side;
 *    the other direction keeps flowing (its writer only sends its second
 *    half after its peer saw EOF) until its own EOF.
 * 3. Hard error: dst's peer closes while bytes are pending: EPIPE /
 *    ECONNRESET; delivered + pending == what the splicer took from src;
 *    free closes the pipe (discarded +1); default SIGPIPE disposition.
 * 4. remain: at most remain taken from src per step (FIONREAD on src);
 *    remain 0 only delivers what is pending.
 * 5. Fallback: a directory or an eventfd as src: handled=false, nothing
 *    consumed. An O_APPEND file as dst: handled=false, nothing taken.
 * 6. NULL splicer, negative fds, negative remain.
 * 7. Pool interplay: pipes back to the pool, reused; 100 splicers at once
 *    and 100 in a row leak no fd.
 * 8. fork(): an empty splicer works in the child with a fresh pipe; one
 *    with bytes pending gives ESTALE in the child and the parent still
 *    delivers those bytes intact.
 */
#include "zc_test.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#define U(x) ((unsigned long long)(x))
#define MIB (1024 * 1024)

/* Pool's pipe size (default); pending can never exceed it. */
static const int64_t PIPE_CAP = 1 << 20;

/* Totals printed at the end. */
static long long g_bytes, g_steps, g_eagain_pending, g_checked;

/* ---------- small helpers ---------- */

static void block_sigpipe_here(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/* Bytes waiting to be read in a socket or pipe (FIONREAD), -1 on error. */
static int inq(int fd)
{
    int n = -1;
    if (ioctl(fd, FIONREAD, &n) < 0)
        return -1;
    return n;
}

static void set_timeouts(int fd, int seconds)
{
    struct timeval tv;
    tv.tv_sec = zt_valgrind() ? seconds * 8 : seconds;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void set_buf(int fd, int opt, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes) < 0)
        DIE("setsockopt buf %d", bytes);
}

enum kind { TCP, UNIX };
static const char *kind_name(int k) { return k == TCP ? "tcp" : "unix"; }

/*
 * A connected stream pair: fds[0] the far end (blocking, 10 s timeouts, a
 * test thread uses it), fds[1] the near end (non-blocking, the splicers use
 * it). far_rcvbuf / near_sndbuf > 0 shrink those buffers (for TCP the
 * receive buffer is set before connect, so the window is small from the
 * start).
 */
static void stream_pair(int kind, int fds[2], int far_rcvbuf, int near_sndbuf)
{
    if (kind == TCP) {
        struct sockaddr_in a;
        int l = zt_tcp_listener(&a);
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0)
            DIE("socket");
        if (far_rcvbuf > 0)
            set_buf(c, SO_RCVBUF, far_rcvbuf);
        if (connect(c, (struct sockaddr *)&a, sizeof a) < 0)
            DIE("connect");
        fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (fds[1] < 0)
            DIE("accept");
        fds[0] = c;
        close(l);
    } else {
        zt_unix_pair(fds);
        if (far_rcvbuf > 0)
            set_buf(fds[0], SO_RCVBUF, far_rcvbuf);
    }
    if (near_sndbuf > 0)
        set_buf(fds[1], SO_SNDBUF, near_sndbuf);
    set_timeouts(fds[0], 10);
    if (zt_set_nonblock(fds[1], 1) < 0)
        DIE("O_NONBLOCK");
}

static zcopy_pool_stats pool_stats(void)
{
    zcopy_pool_stats s;
    memset(&s, 0xff, sizeof s);
    zcopy_pool_get_stats(&s);
    return s;
}

/* Waits (poll) until fd is ready for `wants`; returns poll's revents. */
static int wait_for(int fd, int wants, int ms)
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
static void read_available(int fd, unsigned char *buf, size_t cap, size_t *got)
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

static void *slow_reader_main(void *arg)
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

static void slow_reader_start(struct slow_reader *r, int fd, size_t cap, size_t max_chunk, unsigned max_sleep_us,
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

static void *gated_writer_main(void *arg)
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

static void gated_writer_start(struct gated_writer *w, int fd, const unsigned char *buf, size_t len, size_t first,
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

/* ---------- 1 + 2: the epoll relay ---------- */

struct dir {
    const char *name;
    zcopy_splicer *sp;
    int src, dst;
    int runnable; /* step on the next turn */
    int waiting;  /* ZCOPY_WANT_* it waits for, or 0 */
    int done;
    int failed;
    long long written;
    long steps, eagain_pending, eagain_partial, eagain_read, budget_returns;
    int64_t max_pending;
    long long other_written_at_eof; /* the other direction's bytes when this one hit EOF */
};

/* One step of one direction, with the contract checked on every result. */
static void step_dir(struct dir *d, const struct dir *other, const char *label)
{
    zcopy_result r = zcopy_splicer_step(d->sp, d->dst, d->src, ZCOPY_ALL);
    int64_t pend = zcopy_splicer_pending(d->sp);
    int wants = zcopy_splicer_wants(d->sp);
    int eof = zcopy_splicer_eof(d->sp);
    d->steps++;
    g_steps++;
    if (!QCHECK(r.handled && r.method == ZCOPY_METHOD_SPLICE && r.written >= 0,
                "%s %s: step result " ZT_RES_FMT, label, d->name, ZT_RES_ARGS(r))) {
        d->failed = d->done = 1;
        return;
    }
    d->written += r.written;
    if (pend > d->max_pending)
        d->max_pending = pend;
    QCHECK(pend >= 0 && pend <= PIPE_CAP, "%s %s: pending %lld within [0, pipe size]", label, d->name,
           (long long)pend);
    if (r.error == EAGAIN) {
        QCHECK(!eof, "%s %s: EAGAIN with eof false", label, d->name);
        if (wants == ZCOPY_WANT_WRITE) {
            QCHECK(pend > 0, "%s %s: WANT_WRITE holds bytes (pending %lld)", label, d->name, (long long)pend);
            d->eagain_pending++;
            g_eagain_pending++;
            if (r.written > 0)
                d->eagain_partial++;
        } else if (wants == ZCOPY_WANT_READ) {
            QCHECK(pend == 0, "%s %s: WANT_READ with everything delivered (pending %lld)", label, d->name,
                   (long long)pend);
            d->eagain_read++;
        } else {
            CHECK(0, "%s %s: EAGAIN but wants %d", label, d->name, wants);
            d->failed = d->done = 1;
            return;
        }
        d->waiting = wants;
        d->runnable = 0;
        return;
    }
    if (r.error != 0) {
        CHECK(0, "%s %s: unexpected hard error: " ZT_RES_FMT ", pending %lld", label, d->name, ZT_RES_ARGS(r),
              (long long)pend);
        d->failed = d->done = 1;
        return;
    }
    QCHECK(wants == 0, "%s %s: error 0 gives wants 0 (got %d)", label, d->name, wants);
    if (eof) {
        zcopy_result r2;
        CHECK(pend == 0 && wants == 0, "%s %s: EOF step: error 0, wants 0, pending 0 (written %lld this step)",
              label, d->name, (long long)r.written);
        /* The next step says the same, with nothing written. */
        r2 = zcopy_splicer_step(d->sp, d->dst, d->src, ZCOPY_ALL);
        d->steps++;
        g_steps++;
        CHECK(r2.handled && r2.error == 0 && r2.written == 0 && zcopy_splicer_wants(d->sp) == 0 &&
                  zcopy_splicer_pending(d->sp) == 0 && zcopy_splicer_eof(d->sp),
              "%s %s: step after EOF: error 0, written 0, wants 0, pending 0, eof true: " ZT_RES_FMT, label,
              d->name, ZT_RES_ARGS(r2));
        CHECK(shutdown(d->dst, SHUT_WR) == 0, "%s %s: relay half-closes dst after EOF", label, d->name);
        d->other_written_at_eof = other->written;
        d->done = 1;
        d->runnable = 0;
        return;
    }
    /* error 0 without EOF: the 16 MiB budget was used; step again. A step
     * that took nothing and is not at EOF would be an inconsistent result
     * (written 0 + wants 0 is documented to mean EOF). */
    QCHECK(r.written > 0, "%s %s: error 0, not eof, but written 0", label, d->name);
    d->budget_returns++;
    d->runnable = 1;
}

/* The epoll interest one fd needs now (both directions use each fd). */
static uint32_t interest(int fd, struct dir *ds, int nd)
{
    uint32_t ev = 0;
    int i;
    for (i = 0; i < nd; i++) {
        if (ds[i].done || ds[i].runnable)
            continue;
        if (ds[i].waiting == ZCOPY_WANT_READ && ds[i].src == fd)
            ev |= EPOLLIN | EPOLLRDHUP;
        if (ds[i].waiting == ZCOPY_WANT_WRITE && ds[i].dst == fd)
            ev |= EPOLLOUT;
    }
    return ev;
}

/*
 * Runs both directions to EOF in one epoll loop. Level-triggered: each
 * fd's interest is recomputed from the splicers' wants after every turn (an
 * fd nobody waits on is removed). Edge-triggered: both fds registered once
 * for IN|OUT|RDHUP; an edge wakes the direction waiting for it.
 */
static int run_loop(const char *label, int fd_a, int fd_b, int edge, struct dir *ds, double seconds, long *turns)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int fds[2];
    uint32_t cur[2] = { 0, 0 };
    int reg[2] = { 0, 0 };
    int i, ok = 1;
    double deadline = zt_now() + (zt_valgrind() ? seconds * 8 : seconds);
    if (ep < 0)
        DIE("epoll_create1");
    fds[0] = fd_a;
    fds[1] = fd_b;
    if (edge) {
        for (i = 0; i < 2; i++) {
            struct epoll_event e;
            memset(&e, 0, sizeof e);
            e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
            e.data.fd = fds[i];
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e) < 0)
                DIE("epoll_ctl ADD");
        }
    }
    ds[0].runnable = ds[1].runnable = 1;
    *turns = 0;
    while (!(ds[0].done && ds[1].done)) {
        struct epoll_event evs[4];
        int n, any_runnable = 0;
        if (zt_now() > deadline) {
            CHECK(0, "%s: relay finished within %.0f s (ab done %d, ba done %d, ab wants %d pending %lld, ba wants %d pending %lld)",
                  label, seconds, ds[0].done, ds[1].done, ds[0].waiting, (long long)zcopy_splicer_pending(ds[0].sp),
                  ds[1].waiting, (long long)zcopy_splicer_pending(ds[1].sp));
            ok = 0;
            break;
        }
        for (i = 0; i < 2; i++)
            if (!ds[i].done && ds[i].runnable)
                step_dir(&ds[i], &ds[1 - i], label);
        if (ds[0].failed || ds[1].failed) {
            ok = 0;
            break;
        }
        for (i = 0; i < 2; i++)
            if (!ds[i].done && ds[i].runnable)
                any_runnable = 1;
        if (!edge) {
            for (i = 0; i < 2; i++) {
                uint32_t want = interest(fds[i], ds, 2);
                struct epoll_event e;
                if (want == cur[i] && reg[i] == (want != 0))
                    continue;
                memset(&e, 0, sizeof e);
                e.events = want;
                e.data.fd = fds[i];
                if (want == 0) {
                    if (reg[i] && epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], &e) < 0)
                        DIE("epoll_ctl DEL");
                    reg[i] = 0;
                } else if (reg[i]) {
                    if (epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &e) < 0)
                        DIE("epoll_ctl MOD");
                } else {
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e) < 0)
                        DIE("epoll_ctl ADD");
                    reg[i] = 1;
                }
                cur[i] = want;
            }
        }
        if (ds[0].done && ds[1].done)
            break;
        n = epoll_wait(ep, evs, 4, any_runnable ? 0 : 200);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            DIE("epoll_wait");
        }
        (*turns)++;
        for (i = 0; i < n; i++) {
            int j;
            uint32_t e = evs[i].events;
            for (j = 0; j < 2; j++) {
                struct dir *d = &ds[j];
                if (d->done || d->runnable)
                    continue;
                if (d->waiting == ZCOPY_WANT_READ && d->src == evs[i].data.fd &&
                    (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                    d->runnable = 1;
                if (d->waiting == ZCOPY_WANT_WRITE && d->dst == evs[i].data.fd &&
                    (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
                    d->runnable = 1;
                if (d->runnable)
                    d->waiting = 0;
            }
        }
    }
    close(ep);
    return ok;
}

/*
 * A relay client A <-> B. A sends n_ab bytes and half-closes. B sends half
 * of n_ba, waits until its reader saw EOF (the relay passed A's half-close
 * on), then sends the other half and half-closes. Both far readers are slow.
 */
static void test_relay(int kind_a, int kind_b, int edge, size_t n_ab, size_t n_ba, int tcp_sndbuf, uint64_t seed)
{
    int a[2], b[2]; /* [0] far, [1] near */
    unsigned char *d_ab = zt_random_buf(n_ab, seed), *d_ba = zt_random_buf(n_ba, seed + 1);
    struct slow_reader ra, rb;
    struct gated_writer wa, wb;
    struct dir ds[2];
    char label[96];
    zcopy_pool_stats before, after;
    int fds_before, ok;
    long turns;
    double t0, secs;
    long diff;

    snprintf(label, sizeof label, "relay %s<->%s %s-triggered%s", kind_name(kind_a), kind_name(kind_b),
             edge ? "edge" : "level", tcp_sndbuf ? ", small TCP send buffer" : "");
    zcopy_pool_drain();
    fds_before = zt_fd_count();
    /* Tiny buffers on the way to each slow reader: SO_RCVBUF 4096 at the far
     * (TCP) end; for unix sockets the sender's SO_SNDBUF is what limits;
     * tcp_sndbuf > 0 also caps the near TCP socket's send buffer (else it
     * grows by autotuning). */
    stream_pair(kind_a, a, 4096, kind_a == UNIX ? 4096 : tcp_sndbuf);
    stream_pair(kind_b, b, 4096, kind_b == UNIX ? 4096 : tcp_sndbuf);
    before = pool_stats();

    memset(ds, 0, sizeof ds);
    ds[0].name = "a->b";
    ds[0].src = a[1];
    ds[0].dst = b[1];
    ds[1].name = "b->a";
    ds[1].src = b[1];
    ds[1].dst = a[1];
    ds[0].sp = zcopy_splicer_new();
    ds[1].sp = zcopy_splicer_new();
    if (!ds[0].sp || !ds[1].sp)
        DIE("zcopy_splicer_new");
    CHECK(zcopy_splicer_pending(ds[0].sp) == 0 && zcopy_splicer_wants(ds[0].sp) == 0 && !zcopy_splicer_eof(ds[0].sp),
          "%s: a new splicer: pending 0, wants 0, eof false", label);

    slow_reader_start(&rb, b[0], n_ab, 4096, 200, seed + 2);
    slow_reader_start(&ra, a[0], n_ba, 4096, 200, seed + 3);
    gated_writer_start(&wa, a[0], d_ab, n_ab, n_ab, NULL);
    gated_writer_start(&wb, b[0], d_ba, n_ba, n_ba / 2, &rb.eof);

    t0 = zt_now();
    ok = run_loop(label, a[1], b[1], edge, ds, 15, &turns);
    secs = zt_now() - t0;
    if (!ok) {
        /* unblock the far threads so that they end */
        shutdown(a[1], SHUT_RDWR);
        shutdown(b[1], SHUT_RDWR);
    }
    zt_join(wa.th, 30, "writer a");
    zt_join(wb.th, 30, "writer b");
    zt_join(ra.th, 30, "reader a");
    zt_join(rb.th, 30, "reader b");

    CHECK(wa.error == 0 && wb.error == 0 && wa.sent == n_ab && wb.sent == n_ba,
          "%s: writers sent %zu and %zu bytes (errors %d, %d)", label, wa.sent, wb.sent, wa.error, wb.error);
    diff = rb.got == n_ab ? zt_diff(rb.buf, d_ab, n_ab) : -2;
    CHECK(rb.error == 0 && rb.got == n_ab && rb.extra == 0 && diff == -1,
          "%s: a->b: %zu of %zu bytes arrived intact, then EOF (extra %zu, first diff %ld, reader errno %d)", label,
          rb.got, n_ab, rb.extra, diff, rb.error);
    diff = ra.got == n_ba ? zt_diff(ra.buf, d_ba, n_ba) : -2;
    CHECK(ra.error == 0 && ra.got == n_ba && ra.extra == 0 && diff == -1,
          "%s: b->a: %zu of %zu bytes arrived intact, then EOF (extra %zu, first diff %ld, reader errno %d)", label,
          ra.got, n_ba, ra.extra, diff, ra.error);
    CHECK(ds[0].written == (long long)n_ab && ds[1].written == (long long)n_ba,
          "%s: the steps' written add up to the bytes sent (%lld, %lld)", label, ds[0].written, ds[1].written);
    /* Half-close: b's writer only sent its second half after b's reader
     * saw the EOF the relay passed on, so b->a flowed after a->b ended. */
    CHECK(wb.gate_seen && ds[0].done && ds[0].other_written_at_eof <= (long long)(n_ba / 2) &&
              ds[1].written == (long long)n_ba,
          "%s: after a half-closed, b saw EOF while b->a kept flowing (b->a had %lld of %zu bytes at a's EOF, then all)",
          label, ds[0].other_written_at_eof, n_ba);
    CHECK(ds[0].eagain_pending > 0 && ds[1].eagain_pending > 0,
          "%s: EAGAIN with bytes pending (wants WRITE) happened: a->b %ld times, b->a %ld times", label,
          ds[0].eagain_pending, ds[1].eagain_pending);
    zt_info("%s: %zu + %zu bytes in %.2f s; steps %ld + %ld, epoll turns %ld; EAGAIN+pending %ld + %ld "
            "(%ld + %ld after a partial write), WANT_READ %ld + %ld, budget returns %ld + %ld; max pending %lld / %lld; "
            "slow reads %ld + %ld",
            label, n_ab, n_ba, secs, ds[0].steps, ds[1].steps, turns, ds[0].eagain_pending, ds[1].eagain_pending,
            ds[0].eagain_partial, ds[1].eagain_partial, ds[0].eagain_read, ds[1].eagain_read, ds[0].budget_returns,
            ds[1].budget_returns, (long long)ds[0].max_pending, (long long)ds[1].max_pending, rb.reads, ra.reads);
    g_bytes += (long long)(rb.got + ra.got);
    g_checked += (long long)(n_ab + n_ba);

    zcopy_splicer_free(ds[0].sp);
    zcopy_splicer_free(ds[1].sp);
    after = pool_stats();
    CHECK(after.in_use == before.in_use,
          "%s: in_use back to %llu after free (now %llu)", label, U(before.in_use), U(after.in_use));
    CHECK(after.discarded == before.discarded, "%s: both pipes returned empty (discarded %llu -> %llu)", label,
          U(before.discarded), U(after.discarded));
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    free(ra.buf);
    free(rb.buf);
    free(d_ab);
    free(d_ba);
    zcopy_pool_drain();
    CHECK(zt_fd_count() == fds_before, "%s: after drain, no fd left behind (%d fds, %d before)", label,
          zt_fd_count(), fds_before);
}

/* ---------- a simple one-direction pump (poll), for the smaller tests ---------- */

/*
 * Relays `n` random bytes through `sp` from a fresh src pair to a fresh
 * dst pair of `kind` (far-end threads write and read), driving the splicer
 * with poll until EOF. Returns 1 when every byte arrived intact.
 */
static int pump_checked(zcopy_splicer *sp, int kind, size_t n, uint64_t seed, const char *label)
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
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    free(r.buf);
    free(data);
    return ok;
}

/* ---------- 3: hard error with bytes pending ---------- */

static void test_hard_error(int dst_kind)
{
    const size_t n = (size_t)zt_vg(2 * MIB, 4);
    unsigned char *data = zt_random_buf(n, 300 + (uint64_t)dst_kind);
    unsigned char *rest = malloc(n);
    unsigned char head[1000];
    int s[2], d[2];
    zcopy_splicer *sp;
    struct gated_writer w;
    long long delivered = 0;
    int64_t pend = -1, pend2;
    zcopy_result r;
    zcopy_pool_stats before, after;
    size_t got_head, rest_n = 0;
    double deadline;
    int fds, wants = 0, step_n = 0;
    struct sigaction sa;
    char label[64];

    snprintf(label, sizeof label, "hard error, unix -> %s dst", kind_name(dst_kind));
    if (!rest)
        DIE("malloc");
    stream_pair(UNIX, s, 0, 0);
    stream_pair(dst_kind, d, 4096, 4096);
    sp = zcopy_splicer_new();
    if (!sp)
        DIE("zcopy_splicer_new");
    gated_writer_start(&w, s[0], data, n, n, NULL);

    /* Step until dst is full with bytes held. */
    deadline = zt_now() + (zt_valgrind() ? 80 : 10);
    for (;;) {
        r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
        step_n++;
        delivered += r.written;
        wants = zcopy_splicer_wants(sp);
        pend = zcopy_splicer_pending(sp);
        if (r.error == EAGAIN && wants == ZCOPY_WANT_WRITE && pend > 0)
            break;
        if ((r.error != EAGAIN && r.error != 0) || zt_now() > deadline || zcopy_splicer_eof(sp))
            break;
        if (r.error == EAGAIN)
            wait_for(s[1], wants, 1000);
    }
    CHECK(r.error == EAGAIN && wants == ZCOPY_WANT_WRITE && pend > 0,
          "%s: dst full, bytes held: " ZT_RES_FMT ", wants %d, pending %lld, delivered %lld", label, ZT_RES_ARGS(r),
          wants, (long long)pend, delivered);
    g_eagain_pending++;

    /* The peer reads a little (the first bytes, intact), then closes with
     * unread bytes in its buffer. */
    got_head = zt_read_full(d[0], head, sizeof head);
    CHECK(got_head == sizeof head && memcmp(head, data, sizeof head) == 0,
          "%s: the peer read the first %zu bytes intact", label, got_head);
    close(d[0]);

    deadline = zt_now() + (zt_valgrind() ? 40 : 5);
    for (;;) {
        wait_for(d[1], ZCOPY_WANT_WRITE, 1000);
        r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
        delivered += r.written;
        if (r.error != EAGAIN || zt_now() > deadline)
            break;
    }
    pend = zcopy_splicer_pending(sp);
    CHECK(r.handled && (r.error == EPIPE || r.error == ECONNRESET) && pend > 0,
          "%s: peer gone: " ZT_RES_FMT ", pending %lld (process alive, SIGPIPE at default)", label, ZT_RES_ARGS(r),
          (long long)pend);
    /* A second step keeps the bytes (no silent loss, no double count). */
    r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
    pend2 = zcopy_splicer_pending(sp);
    CHECK(r.written == 0 && (r.error == EPIPE || r.error == ECONNRESET) && pend2 == pend,
          "%s: stepping again: " ZT_RES_FMT ", pending still %lld", label, ZT_RES_ARGS(r), (long long)pend2);

    /* What is still in src is exactly the tail of the data; the rest was
     * taken by the splicer: delivered + pending. */
    deadline = zt_now() + (zt_valgrind() ? 80 : 10);
    for (;;) {
        ssize_t k;
        if (!(wait_for(s[1], ZCOPY_WANT_READ, 1000) & (POLLIN | POLLHUP)) && zt_now() > deadline)
            break;
        k = read(s[1], rest + rest_n, n - rest_n);
        if (k == 0)
            break;
        if (k > 0)
            rest_n += (size_t)k;
        else if (errno != EAGAIN && errno != EINTR)
            break;
        if (zt_now() > deadline)
            break;
    }
    zt_join(w.th, 30, "hard-error writer");
    CHECK(w.error == 0 && w.sent == n, "%s: the source wrote all %zu bytes", label, n);
    CHECK(memcmp(rest, data + (n - rest_n), rest_n) == 0,
          "%s: the %zu bytes left in src are the data's tail (nothing skipped)", label, rest_n);
    CHECK(delivered + pend == (long long)(n - rest_n),
          "%s: delivered %lld + pending %lld == taken from src %zu (wrote %zu, %zu still in src)", label, delivered,
          (long long)pend, n - rest_n, n, rest_n);

    before = pool_stats();
    fds = zt_fd_count();
    zcopy_splicer_free(sp);
    after = pool_stats();
    CHECK(after.discarded == before.discarded + 1 && after.in_use == before.in_use - 1 && after.idle == before.idle,
          "%s: free closes the pipe with its bytes: discarded %llu -> %llu, in_use %llu -> %llu, idle %llu -> %llu",
          label, U(before.discarded), U(after.discarded), U(before.in_use), U(after.in_use), U(before.idle),
          U(after.idle));
    CHECK(zt_fd_count() == fds - 2, "%s: free closed both pipe fds (%d -> %d)", label, fds, zt_fd_count());
    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "%s: SIGPIPE still at its default disposition, process alive", label);
    close(s[0]);
    close(s[1]);
    close(d[1]);
    free(rest);
    free(data);
}

/* ---------- 4: remain ---------- */

static void test_remain(void)
{
    enum { N = 60000 };
    unsigned char *data = zt_random_buf(N, 400);
    unsigned char *got = malloc(N + 1);
    int s[2], d[2], d2[2];
    zcopy_splicer *sp = zcopy_splicer_new();
    zcopy_result r;
    size_t off = 0, got_n = 0, n2 = 0, prefill = 0;
    unsigned char *junkbuf;
    int64_t p;
    long long w2 = 0;
    double deadline;

    if (!sp || !got)
        DIE("setup");
    stream_pair(UNIX, s, 0, 0);
    stream_pair(UNIX, d, 0, 0);
    stream_pair(UNIX, d2, 0, 4096);
    if (zt_write_all(s[0], data, N) < 0)
        DIE("write src");
    CHECK(inq(s[1]) == N, "remain: src holds %d bytes (FIONREAD %d)", N, inq(s[1]));

    r = zcopy_splicer_step(sp, d[1], s[1], 1000);
    CHECK(zt_ok(r, 1000) && zcopy_splicer_pending(sp) == 0 && zcopy_splicer_wants(sp) == 0 && !zcopy_splicer_eof(sp),
          "remain 1000: " ZT_RES_FMT ", pending 0, wants 0, eof false", ZT_RES_ARGS(r));
    CHECK(inq(s[1]) == N - 1000, "remain 1000: exactly 1000 taken from src (%d left)", inq(s[1]));
    off = 1000;

    r = zcopy_splicer_step(sp, d[1], s[1], 0);
    CHECK(zt_ok(r, 0) && zcopy_splicer_wants(sp) == 0 && zcopy_splicer_pending(sp) == 0 && !zcopy_splicer_eof(sp),
          "remain 0, nothing pending: " ZT_RES_FMT ", wants 0, eof false", ZT_RES_ARGS(r));
    CHECK(inq(s[1]) == N - 1000, "remain 0: nothing taken from src (%d left)", inq(s[1]));

    r = zcopy_splicer_step(sp, d[1], s[1], 1);
    CHECK(zt_ok(r, 1) && inq(s[1]) == N - 1001, "remain 1: " ZT_RES_FMT ", one byte taken (%d left)", ZT_RES_ARGS(r),
          inq(s[1]));
    off = 1001;

    /* dst (4 KiB send buffer, nobody reading) is filled up first: the
     * splicer must hold what it takes. */
    for (;;) {
        unsigned char junk[512];
        ssize_t k;
        memset(junk, 'j', sizeof junk);
        k = write(d2[1], junk, sizeof junk);
        if (k <= 0)
            break;
        prefill += (size_t)k;
    }
    r = zcopy_splicer_step(sp, d2[1], s[1], 30000);
    p = zcopy_splicer_pending(sp);
    w2 = r.written;
    CHECK(r.error == EAGAIN && zcopy_splicer_wants(sp) == ZCOPY_WANT_WRITE && p > 0 && r.written + p == 30000,
          "remain 30000 into a full dst: " ZT_RES_FMT ", pending %lld, written + pending == 30000", ZT_RES_ARGS(r),
          (long long)p);
    CHECK(inq(s[1]) == N - 31001, "remain 30000: exactly 30000 taken from src (%d left)", inq(s[1]));
    if (r.error == EAGAIN && p > 0)
        g_eagain_pending++;
    r = zcopy_splicer_step(sp, d2[1], s[1], 0);
    CHECK(r.error == EAGAIN && r.written == 0 && zcopy_splicer_pending(sp) == p && inq(s[1]) == N - 31001,
          "remain 0, dst still full: " ZT_RES_FMT ", pending still %lld, src untouched", ZT_RES_ARGS(r), (long long)p);

    /* remain 0 delivers the pending bytes, and takes nothing. */
    junkbuf = malloc(prefill + 1);
    if (!junkbuf)
        DIE("malloc");
    CHECK(zt_read_full(d2[0], junkbuf, prefill) == prefill, "remain: read back the %zu filler bytes", prefill);
    free(junkbuf);
    deadline = zt_now() + (zt_valgrind() ? 40 : 5);
    while (zt_now() < deadline) {
        read_available(d2[0], got, N, &n2);
        r = zcopy_splicer_step(sp, d2[1], s[1], 0);
        w2 += r.written;
        QCHECK(inq(s[1]) == N - 31001, "remain 0 took from src (%d left)", inq(s[1]));
        if (r.error != EAGAIN)
            break;
        wait_for(d2[1], ZCOPY_WANT_WRITE, 100);
    }
    read_available(d2[0], got, N, &n2);
    CHECK(r.error == 0 && zcopy_splicer_pending(sp) == 0 && zcopy_splicer_wants(sp) == 0 && w2 == 30000 &&
              inq(s[1]) == N - 31001,
          "remain 0 steps delivered all held bytes (%lld) and took nothing from src (%d left)", w2, inq(s[1]));
    CHECK(n2 == 30000 && memcmp(got, data + off, 30000) == 0, "the 30000 bytes reached the second dst intact (%zu)",
          n2);
    off += 30000;

    /* The rest, then EOF. */
    r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
    CHECK(r.error == EAGAIN && r.written == N - 31001 && zcopy_splicer_wants(sp) == ZCOPY_WANT_READ && inq(s[1]) == 0,
          "remain ZCOPY_ALL: the other %d bytes, then WANT_READ: " ZT_RES_FMT, N - 31001, ZT_RES_ARGS(r));
    shutdown(s[0], SHUT_WR);
    r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
    CHECK(zt_ok(r, 0) && zcopy_splicer_eof(sp) && zcopy_splicer_wants(sp) == 0,
          "after src's half-close: EOF (" ZT_RES_FMT ")", ZT_RES_ARGS(r));
    shutdown(d[1], SHUT_WR);
    got_n = zt_read_full(d[0], got, N + 1);
    CHECK(got_n == 1001 + (size_t)(N - 31001) && memcmp(got, data, 1001) == 0 &&
              memcmp(got + 1001, data + 31001, N - 31001) == 0,
          "the first dst got bytes [0,1001) and [31001,%d) intact (%zu bytes)", N, got_n);
    g_checked += N;
    zcopy_splicer_free(sp);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    close(d2[0]);
    close(d2[1]);
    free(got);
    free(data);
}

/* The 16 MiB step budget: /dev/zero -> /dev/null never blocks and never
 * ends, so only the budget (or remain) stops a step. */
static void test_budget(void)
{
    int z = open("/dev/zero", O_RDONLY | O_CLOEXEC), nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    zcopy_splicer *sp = zcopy_splicer_new();
    zcopy_result r;
    if (z < 0 || nul < 0 || !sp)
        DIE("setup");
    r = zcopy_splicer_step(sp, nul, z, ZCOPY_ALL);
    CHECK(zt_ok(r, 16 * MIB) && zcopy_splicer_wants(sp) == 0 && zcopy_splicer_pending(sp) == 0 &&
              !zcopy_splicer_eof(sp),
          "budget: /dev/zero -> /dev/null with ZCOPY_ALL stops at 16 MiB: " ZT_RES_FMT
          ", wants 0, pending 0, eof false (step again)",
          ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, nul, z, 5 * MIB + 3);
    CHECK(zt_ok(r, 5 * MIB + 3) && zcopy_splicer_wants(sp) == 0 && !zcopy_splicer_eof(sp),
          "budget: remain 5 MiB + 3 moves exactly that: " ZT_RES_FMT, ZT_RES_ARGS(r));
    g_steps += 2;
    zcopy_splicer_free(sp);
    close(z);
    close(nul);
}

/* ---------- 5: fallback ---------- */

static void test_fallback(void)
{
    int d[2], s[2];
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int efd = eventfd(5, EFD_CLOEXEC | EFD_NONBLOCK);
    int app = zt_tmpfile_in("/tmp", O_APPEND);
    zcopy_splicer *sp = zcopy_splicer_new();
    zcopy_result r;
    uint64_t v = 0;
    unsigned char data[5000];
    int64_t p;
    off_t sz;

    if (dir < 0 || efd < 0 || !sp)
        DIE("setup");
    stream_pair(UNIX, d, 0, 0);

    r = zcopy_splicer_step(sp, d[1], dir, ZCOPY_ALL);
    CHECK(!r.handled && r.error == EINVAL && r.written == 0 && zcopy_splicer_pending(sp) == 0,
          "a directory as src: handled=false, EINVAL, nothing consumed: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(lseek(dir, 0, SEEK_CUR) == 0 && inq(d[0]) == 0, "directory position untouched, dst got nothing");

    r = zcopy_splicer_step(sp, d[1], efd, ZCOPY_ALL);
    CHECK(!r.handled && r.error == EINVAL && r.written == 0 && zcopy_splicer_pending(sp) == 0,
          "an eventfd as src: handled=false, EINVAL: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(read(efd, &v, sizeof v) == (ssize_t)sizeof v && v == 5, "the eventfd's counter is still 5 (got %llu)",
          U(v));

    /* The same splicer still works on a pair it can serve. */
    pump_checked(sp, UNIX, 100000, 500, "after two handled=false steps");

    /* An O_APPEND file as dst (splice into it gives EINVAL only after the
     * bytes were taken into the pipe): the splicer checks dst first and
     * answers handled=false with nothing taken, so the caller can fall back. */
    zt_fill(data, sizeof data, 501);
    stream_pair(UNIX, s, 0, 0);
    if (zt_write_all(s[0], data, sizeof data) < 0)
        DIE("write");
    r = zcopy_splicer_step(sp, app, s[1], ZCOPY_ALL);
    p = zcopy_splicer_pending(sp);
    sz = zt_fsize(app);
    zt_info("O_APPEND dst: " ZT_RES_FMT ", pending %lld, %d bytes left in src, file size %lld", ZT_RES_ARGS(r),
            (long long)p, inq(s[1]), (long long)sz);
    CHECK(r.error == EINVAL && !r.handled && r.written == 0 && p == 0 && inq(s[1]) == (int)sizeof data && sz == 0,
          "an O_APPEND file as dst: handled=false, EINVAL, nothing taken (all %zu bytes still in src)", sizeof data);
    zcopy_splicer_free(sp);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    close(dir);
    close(efd);
    close(app);
}

/* ---------- 6: NULL and bad arguments ---------- */

static void test_args(void)
{
    zcopy_result r;
    zcopy_splicer *sp;
    int s[2], d[2];
    zcopy_splicer_free(NULL);
    CHECK(1, "zcopy_splicer_free(NULL) returns");
    r = zcopy_splicer_step(NULL, 1, 0, 100);
    CHECK(r.error == EINVAL && r.written == 0, "step(NULL, ...): " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(zcopy_splicer_pending(NULL) == 0 && zcopy_splicer_wants(NULL) == 0 && !zcopy_splicer_eof(NULL),
          "pending/wants/eof(NULL): 0, 0, false");

    sp = zcopy_splicer_new();
    if (!sp)
        DIE("zcopy_splicer_new");
    stream_pair(UNIX, s, 0, 0);
    stream_pair(UNIX, d, 0, 0);
    zt_write_all(s[0], "0123456789", 10);
    r = zcopy_splicer_step(sp, -1, s[1], ZCOPY_ALL);
    CHECK(r.handled && r.error == EBADF && r.written == 0, "dst -1: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], -1, ZCOPY_ALL);
    CHECK(r.handled && r.error == EBADF && r.written == 0, "src -1: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], INT32_MIN, ZCOPY_ALL);
    CHECK(r.handled && r.error == EBADF && r.written == 0, "src INT_MIN: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], s[1], -1);
    CHECK(r.handled && r.error == EINVAL && r.written == 0, "remain -1: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], s[1], INT64_MIN);
    CHECK(r.handled && r.error == EINVAL && r.written == 0, "remain INT64_MIN: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(inq(s[1]) == 10 && zcopy_splicer_pending(sp) == 0 && zcopy_splicer_wants(sp) == 0,
          "bad arguments consumed nothing (src still holds %d bytes), wants 0", inq(s[1]));
    r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
    {
        char b[10];
        CHECK(r.error == EAGAIN && r.written == 10 && zt_read_full(d[0], b, 10) == 10 &&
                  memcmp(b, "0123456789", 10) == 0,
              "the splicer works after the bad calls: " ZT_RES_FMT, ZT_RES_ARGS(r));
    }
    zcopy_splicer_free(sp);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
}

/* ---------- 7: the pool ---------- */

static void test_pool(void)
{
    enum { MANY = 100 };
    zcopy_splicer *many[MANY];
    zcopy_pool_stats s0, s1, s2, s3, s4;
    int fds0, i, ok = 1;
    uint64_t drained;
    zcopy_splicer *sp;

    zcopy_pool_drain();
    fds0 = zt_fd_count();
    s0 = pool_stats();
    sp = zcopy_splicer_new();
    s1 = pool_stats();
    CHECK(sp && s1.in_use == s0.in_use + 1 && s1.created == s0.created + 1 && s1.idle == 0,
          "pool: a new splicer borrows a new pipe (in_use %llu -> %llu, created +%llu)", U(s0.in_use), U(s1.in_use),
          U(s1.created - s0.created));
    CHECK(zt_fd_count() == fds0 + 2, "pool: the splicer holds one pipe (2 fds)");
    zcopy_splicer_free(sp);
    s2 = pool_stats();
    CHECK(s2.idle == s1.idle + 1 && s2.in_use == s0.in_use && s2.discarded == s1.discarded,
          "pool: freed with nothing pending, the pipe goes back (idle %llu -> %llu, discarded +%llu)", U(s1.idle),
          U(s2.idle), U(s2.discarded - s1.discarded));
    sp = zcopy_splicer_new();
    s3 = pool_stats();
    CHECK(sp && s3.reused == s2.reused + 1 && s3.idle == s2.idle - 1 && s3.created == s2.created,
          "pool: the next splicer reuses it (reused +%llu, created +%llu)", U(s3.reused - s2.reused),
          U(s3.created - s2.created));
    /* After a complete transfer (nothing pending) the pipe goes back too. */
    pump_checked(sp, TCP, 3 * MIB / 2, 700, "pool: splicer");
    s3 = pool_stats();
    zcopy_splicer_free(sp);
    s4 = pool_stats();
    CHECK(s4.idle == s3.idle + 1 && s4.discarded == s3.discarded && s4.in_use == s3.in_use - 1,
          "pool: after a full transfer the pipe is pooled, not discarded (idle %llu -> %llu)", U(s3.idle),
          U(s4.idle));

    /* 100 at once (small pipes, to stay clear of the per-user pipe quota). */
    CHECK(zcopy_pool_configure(0, 65536) == 0, "pool: pipe size 64 KiB for the 100-splicer test");
    zcopy_pool_drain();
    fds0 = zt_fd_count();
    s0 = pool_stats();
    for (i = 0; i < MANY; i++) {
        many[i] = zcopy_splicer_new();
        if (!many[i]) {
            ok = 0;
            CHECK(0, "pool: splicer %d: NULL, errno %d", i, errno);
            break;
        }
    }
    s1 = pool_stats();
    CHECK(ok && s1.in_use == s0.in_use + MANY && zt_fd_count() == fds0 + 2 * MANY,
          "pool: %d splicers alive: in_use +%llu, %d fds more", MANY, U(s1.in_use - s0.in_use), zt_fd_count() - fds0);
    /* each works */
    if (ok)
        pump_checked(many[MANY / 2], UNIX, 200000, 701, "pool: splicer 50 of 100");
    for (i = 0; i < MANY; i++)
        zcopy_splicer_free(many[i]);
    s2 = pool_stats();
    CHECK(s2.in_use == s0.in_use && s2.idle <= 16 && s2.idle + (s2.discarded - s1.discarded) == MANY,
          "pool: all 100 given back: in_use %llu, idle %llu (cap 16), discarded +%llu", U(s2.in_use), U(s2.idle),
          U(s2.discarded - s1.discarded));
    drained = zcopy_pool_drain();
    CHECK(drained == s2.idle && zt_fd_count() == fds0, "pool: drain closed %llu, fds %d == %d before", U(drained),
          zt_fd_count(), fds0);
    /* 100 in a row: one pipe serves them all. */
    s0 = pool_stats();
    for (i = 0; i < MANY; i++) {
        sp = zcopy_splicer_new();
        if (!sp)
            DIE("zcopy_splicer_new");
        zcopy_splicer_free(sp);
    }
    s1 = pool_stats();
    CHECK(s1.created - s0.created == 1 && s1.reused - s0.reused == MANY - 1 && s1.in_use == s0.in_use,
          "pool: 100 new/free in a row: created +%llu, reused +%llu", U(s1.created - s0.created),
          U(s1.reused - s0.reused));
    zcopy_pool_drain();
    CHECK(zt_fd_count() == fds0, "pool: after drain %d fds, %d before", zt_fd_count(), fds0);
    CHECK(zcopy_pool_configure(0, (uint64_t)PIPE_CAP) == 0, "pool: pipe size back to 1 MiB");
}

/* ---------- 8: fork ---------- */

static void test_fork(void)
{
    enum { N = 120000, TAIL = 20000 };
    unsigned char *data = zt_random_buf(N, 800);
    unsigned char *got = malloc(N + 1);
    zcopy_splicer *empty = zcopy_splicer_new(), *full = zcopy_splicer_new();
    int s[2], d[2], status = -1;
    zcopy_result r;
    int64_t p;
    long long w0;
    zcopy_pool_stats before, after;
    pid_t pid, wp;
    size_t n = 0;
    double deadline;
    int src_left;

    if (!got || !empty || !full)
        DIE("setup");
    stream_pair(UNIX, s, 0, 0);
    stream_pair(UNIX, d, 0, 4096);
    /* The first N - TAIL bytes go into the splicer; TAIL more wait in src. */
    if (zt_write_all(s[0], data, N - TAIL) < 0)
        DIE("write src");
    r = zcopy_splicer_step(full, d[1], s[1], ZCOPY_ALL);
    p = zcopy_splicer_pending(full);
    w0 = r.written;
    if (zt_write_all(s[0], data + N - TAIL, TAIL) < 0)
        DIE("write src");
    shutdown(s[0], SHUT_WR);
    src_left = inq(s[1]);
    CHECK(src_left == TAIL, "fork: %d more bytes wait in src (FIONREAD %d)", TAIL, src_left);
    CHECK(r.error == EAGAIN && zcopy_splicer_wants(full) == ZCOPY_WANT_WRITE && p > 0,
          "fork: before fork a splicer holds %lld bytes (" ZT_RES_FMT ")", (long long)p, ZT_RES_ARGS(r));
    before = pool_stats();
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        long failed0 = zt_failed;
        zcopy_pool_stats cs;
        zt_watchdog(30);
        r = zcopy_splicer_step(full, d[1], s[1], ZCOPY_ALL);
        CHECK(r.error == ESTALE && r.written == 0 && zcopy_splicer_pending(full) == p && inq(s[1]) == src_left,
              "fork child: the splicer with bytes pending gives ESTALE: " ZT_RES_FMT
              ", pending %lld, src untouched (%d)",
              ZT_RES_ARGS(r), (long long)zcopy_splicer_pending(full), inq(s[1]));
        r = zcopy_splicer_step(full, d[1], s[1], 0);
        CHECK(r.error == ESTALE && r.written == 0, "fork child: also with remain 0: " ZT_RES_FMT, ZT_RES_ARGS(r));
        pump_checked(empty, UNIX, 1 * MIB, 801, "fork child: the inherited empty splicer");
        pump_checked(empty, TCP, 1 * MIB, 802, "fork child: the inherited empty splicer, again");
        zcopy_pool_get_stats(&cs);
        CHECK(cs.discarded >= before.discarded + 1, "fork child: the inherited pipe was discarded (%llu -> %llu)",
              U(before.discarded), U(cs.discarded));
        zcopy_splicer_free(full);
        zcopy_splicer_free(empty);
        close(s[0]);
        close(s[1]);
        close(d[0]);
        close(d[1]);
        free(got);
        free(data);
        fflush(stdout);
        _exit(zt_failed > failed0 ? 1 : 0);
    }
    deadline = zt_now() + (zt_valgrind() ? 240 : 30);
    while ((wp = waitpid(pid, &status, WNOHANG)) == 0 && zt_now() < deadline)
        usleep(5000);
    if (wp == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK(wp == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork: the child's checks passed (status %d)",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    CHECK(zcopy_splicer_pending(full) == p, "fork parent: still %lld bytes pending", (long long)p);

    /* The parent delivers the pending bytes and the rest, intact. */
    deadline = zt_now() + (zt_valgrind() ? 80 : 10);
    while (zt_now() < deadline) {
        read_available(d[0], got, N + 1, &n);
        r = zcopy_splicer_step(full, d[1], s[1], ZCOPY_ALL);
        w0 += r.written;
        if (r.error == 0 && zcopy_splicer_eof(full))
            break;
        if (r.error != EAGAIN)
            break;
        if (zcopy_splicer_wants(full) == ZCOPY_WANT_WRITE)
            wait_for(d[1], ZCOPY_WANT_WRITE, 100);
    }
    shutdown(d[1], SHUT_WR);
    n += zt_read_full(d[0], got + n, N + 1 - n);
    CHECK(zcopy_splicer_eof(full) && w0 == N && n == N && memcmp(got, data, N) == 0,
          "fork parent: all %d bytes (the %lld held across the fork first) arrived intact (written %lld, got %zu)", N,
          (long long)p, w0, n);
    g_checked += N;
    g_bytes += (long long)n;
    zcopy_splicer_free(full);
    zcopy_splicer_free(empty);
    after = pool_stats();
    CHECK(after.discarded == before.discarded && after.in_use == before.in_use - 2,
          "fork parent: nothing discarded, both pipes back (discarded %llu -> %llu, in_use %llu -> %llu)",
          U(before.discarded), U(after.discarded), U(before.in_use), U(after.in_use));
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    free(got);
    free(data);
}

int main(void)
{
    struct sigaction sa;
    int fds_before;
    double t0;
    /* The relays are kernel work and stay fast under valgrind; the first
     * keeps its full size there, since only more data than the autotuned
     * TCP send buffer (up to tcp_wmem's 4 MiB) makes the splicer hold
     * bytes. */
    size_t big = 6 * MIB, mid = (size_t)zt_vg(4 * MIB, 2);

    zt_start("splicer", 60);
    signal(SIGPIPE, SIG_DFL);
    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "SIGPIPE has its default (killing) disposition");
    zcopy_pool_drain();
    fds_before = zt_fd_count();
    t0 = zt_now();

    test_relay(TCP, TCP, 0, big, big, 0, 1);
    test_relay(UNIX, UNIX, 1, mid, mid, 0, 11);
    test_relay(TCP, UNIX, 1, mid, mid / 2, 8192, 21);
    test_relay(TCP, TCP, 1, mid, mid, 8192, 31);
    test_hard_error(TCP);
    test_hard_error(UNIX);
    test_remain();
    test_budget();
    test_fallback();
    test_args();
    test_pool();
    test_fork();

    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "no SIGPIPE handler was installed by the library");
    zcopy_pool_drain();
    CHECK(zt_fd_count() == fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    zt_info("totals: %lld bytes relayed, %lld checked byte for byte, %lld steps, %lld EAGAIN with bytes pending, "
            "%.1f s",
            g_bytes, g_checked, g_steps, g_eagain_pending, zt_now() - t0);
    return zt_finish();
}
