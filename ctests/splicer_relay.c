/*
 * splicer_relay.c: the non-blocking splicer (zcopy_splicer_*) relaying
 * both ways the way an event loop drives it.
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
 */
#include "splicer.h"

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
    close_pairs(a, b);
    free(ra.buf);
    free(rb.buf);
    free(d_ab);
    free(d_ba);
    zcopy_pool_drain();
    CHECK(zt_fd_count() == fds_before, "%s: after drain, no fd left behind (%d fds, %d before)", label,
          zt_fd_count(), fds_before);
}


int main(void)
{
    /* The relays are kernel work and stay fast under valgrind; the first
     * keeps its full size there, since only more data than the autotuned
     * TCP send buffer (up to tcp_wmem's 4 MiB) makes the splicer hold
     * bytes. */
    size_t big = 6 * MIB, mid = (size_t)zt_vg(4 * MIB, 2);
    struct splicer_run run = splicer_begin("splicer_relay", 60);

    test_relay(TCP, TCP, 0, big, big, 0, 1);
    test_relay(UNIX, UNIX, 1, mid, mid, 0, 11);
    test_relay(TCP, UNIX, 1, mid, mid / 2, 8192, 21);
    test_relay(TCP, TCP, 1, mid, mid, 8192, 31);
    return splicer_end(run);
}
