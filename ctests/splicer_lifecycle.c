/*
 * splicer_lifecycle.c: the splicer's pipe from zcopy_splicer_new to
 * zcopy_splicer_free, through failure and fork.
 *
 * 3. Hard error: dst's peer closes while bytes are pending: EPIPE /
 *    ECONNRESET; delivered + pending == what the splicer took from src;
 *    free closes the pipe (discarded +1); default SIGPIPE disposition.
 * 7. Pool interplay: pipes back to the pool, reused; 100 splicers at once
 *    and 100 in a row leak no fd.
 * 8. fork(): an empty splicer works in the child with a fresh pipe; one
 *    with bytes pending gives ESTALE in the child and the parent still
 *    delivers those bytes intact.
 */
#include "splicer.h"

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
    pid_t pid;
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
        close_pairs(s, d);
        free(got);
        free(data);
        fflush(stdout);
        _exit(zt_failed > failed0 ? 1 : 0);
    }
    status = zt_wait_child(pid, zt_valgrind() ? 240 : 30);
    CHECK(status == 0, "fork: the child's checks passed (status %d)", status);
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
    close_pairs(s, d);
    free(got);
    free(data);
}

int main(void)
{
    struct splicer_run run = splicer_begin("splicer_lifecycle", 60);
    test_hard_error(TCP);
    test_hard_error(UNIX);
    test_pool();
    test_fork();
    return splicer_end(run);
}
