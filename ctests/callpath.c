/*
 * callpath.c: the plain call path's short cuts keep every guarantee.
 *
 * - SIGPIPE: after calls that found it at SIG_DFL (the guard then blocks it
 *   without reading the disposition again for a while), a switch to SIG_IGN
 *   and back to SIG_DFL right before an EPIPE still leaves the process
 *   alive, the mask restored and nothing pending; with SIGPIPE ignored but
 *   blocked by the guard, the call's SIGPIPE is consumed. A SIGPIPE pending
 *   before a socket -> socket call stays pending.
 * - A socket dst (asked with one getsockopt, no F_GETFL): one with
 *   O_APPEND set still gets every byte (splice refuses it after the drain;
 *   the drained bytes go by write(2)).
 * - sendfile no longer guards its src: a blocking socket src with
 *   SO_RCVTIMEO (dst a pipe) gives EAGAIN after one timeout, not two, and
 *   stays blocking.
 * - zcopy_copy to a blocking socket with SO_SNDTIMEO (known from the same
 *   getsockopt): EAGAIN within 1.5 timeouts, O_NONBLOCK cleared afterwards.
 */
#include "relay.h"

/* n small socket -> socket transfers that succeed. */
static void small_calls(int n, const char *what)
{
    int s[2], d[2], i, ok = 1;
    unsigned char buf[512], got[512];
    zt_unix_pair(s);
    zt_tcp_pair(d);
    zt_fill(buf, sizeof buf, 7);
    for (i = 0; i < n && ok; i++) {
        zcopy_result r;
        zt_write_all(s[0], buf, sizeof buf);
        r = (i % 2) ? zcopy_copy(d[0], s[1], sizeof buf) : zcopy_splice(d[0], s[1], sizeof buf);
        ok = zt_ok(r, sizeof buf) && zt_read_full(d[1], got, sizeof got) == sizeof got &&
             memcmp(buf, got, sizeof buf) == 0;
    }
    CHECK(ok, "%s: %d small transfers intact", what, n);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
}

/* One socket -> socket call into a TCP peer that is gone. */
static zcopy_result epipe_call(int use_copy)
{
    int s[2], d[2];
    size_t n = 4 << 20; /* more than the socket buffers hold */
    unsigned char *buf = zt_random_buf(n, 8);
    zcopy_result r;
    struct zt_writer w;
    zt_unix_pair(s);
    zt_writer_spawn(&w, zt_block_sigpipe_writer, s[0], buf, n);
    zt_tcp_pair(d);
    close(d[1]);
    r = use_copy ? zcopy_copy(d[0], s[1], ZCOPY_ALL) : zcopy_splice(d[0], s[1], ZCOPY_ALL);
    close(d[0]);
    close(s[1]);
    zt_join(w.th, 20, "writer");
    free(buf);
    return r;
}

static void check_epipe(const char *what, zcopy_result r, int want_blocked)
{
    CHECK(r.handled && (r.error == EPIPE || r.error == ECONNRESET), "%s: EPIPE/ECONNRESET, process alive: " ZT_RES_FMT,
          what, ZT_RES_ARGS(r));
    CHECK(zt_mask_has(SIGPIPE) == want_blocked, "%s: SIGPIPE %s in the mask, as before the call", what,
          want_blocked ? "still" : "not");
    CHECK(!zt_pending(SIGPIPE), "%s: no SIGPIPE left pending", what);
}

static void test_disposition_switches(void)
{
    signal(SIGPIPE, SIG_DFL);
    small_calls(20, "SIG_DFL");
    /* The guard has seen SIG_DFL; ignored now, it may block without asking:
     * the EPIPE's SIGPIPE (queued, as it is blocked) must be consumed. */
    signal(SIGPIPE, SIG_IGN);
    check_epipe("SIG_IGN right after SIG_DFL calls, zcopy_splice", epipe_call(0), 0);
    check_epipe("SIG_IGN right after SIG_DFL calls, zcopy_copy", epipe_call(1), 0);
    small_calls(200, "SIG_IGN");
    /* Many calls saw SIG_IGN; back to the default, the very next call must
     * block again (an "ignored" answer is never remembered). */
    signal(SIGPIPE, SIG_DFL);
    check_epipe("SIG_DFL right after SIG_IGN calls, zcopy_splice", epipe_call(0), 0);
    signal(SIGPIPE, SIG_IGN);
    small_calls(3, "SIG_IGN again");
    signal(SIGPIPE, SIG_DFL);
    check_epipe("SIG_DFL right after SIG_IGN calls, zcopy_copy", epipe_call(1), 0);
}

/* Blocked and pending before a socket -> socket call: still pending, once. */
static void test_pending_kept(void)
{
    sigset_t s, one;
    struct timespec zero = { 0, 0 };
    int use_copy;
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    for (use_copy = 0; use_copy < 2; use_copy++) {
        const char *what = use_copy ? "zcopy_copy unix -> closed tcp, SIGPIPE pending before"
                                    : "zcopy_splice unix -> closed tcp, SIGPIPE pending before";
        zcopy_result r;
        pthread_kill(pthread_self(), SIGPIPE);
        r = epipe_call(use_copy);
        CHECK(r.handled && (r.error == EPIPE || r.error == ECONNRESET), "%s: " ZT_RES_FMT, what, ZT_RES_ARGS(r));
        CHECK(zt_pending(SIGPIPE) && zt_mask_has(SIGPIPE), "%s: still pending and blocked", what);
        sigemptyset(&one);
        sigaddset(&one, SIGPIPE);
        CHECK(sigtimedwait(&one, NULL, &zero) == SIGPIPE && !zt_pending(SIGPIPE), "%s: exactly one pending", what);
    }
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

/* O_APPEND set on a socket dst: nothing is lost. */
static void test_append_socket(void)
{
    size_t n = 300000;
    unsigned char *data = zt_random_buf(n, 9), *got = malloc(n);
    int s[2], d[2], fl, k;
    for (k = 0; k < 2; k++) {
        const char *what = k ? "zcopy_copy unix -> tcp with O_APPEND set" : "zcopy_splice unix -> tcp with O_APPEND set";
        struct zt_writer w;
        struct zt_reader rd;
        zcopy_result r;
        size_t rest;
        zt_unix_pair(s);
        zt_tcp_pair(d);
        fl = fcntl(d[0], F_GETFL);
        if (fcntl(d[0], F_SETFL, fl | O_APPEND) != 0 || !(fcntl(d[0], F_GETFL) & O_APPEND))
            DIE("F_SETFL O_APPEND on a socket");
        zt_writer_spawn(&w, zt_writer_main, s[0], data, n); /* closes s[0] when done */
        zt_reader_start(&rd, d[1], n, 1);                  /* closes d[1] at EOF */
        r = k ? zcopy_copy(d[0], s[1], (int64_t)n) : zcopy_splice(d[0], s[1], (int64_t)n);
        if (k) {
            CHECK(zt_ok(r, (long long)n), "%s: every byte: " ZT_RES_FMT, what, ZT_RES_ARGS(r));
        } else {
            /* splice refuses an O_APPEND dst: the bytes it drained arrive by
             * write(2), the call ends with EINVAL, the rest stays in src. */
            CHECK(r.handled && (r.error == 0 || r.error == EINVAL) && r.written > 0, "%s: " ZT_RES_FMT, what,
                  ZT_RES_ARGS(r));
        }
        rest = r.written > 0 ? (size_t)r.written : 0;
        if (rest > n)
            rest = n;
        if (!k && rest < n) {
            /* what is left is still in src, in order */
            CHECK(zt_read_full(s[1], got, n - rest) == n - rest && memcmp(got, data + rest, n - rest) == 0,
                  "%s: the other %zu bytes still in src", what, n - rest);
        }
        close(d[0]);
        zt_join(rd.th, 20, "reader");
        CHECK(rd.got == rest && rd.extra == 0 && memcmp(rd.buf, data, rest) == 0,
              "%s: the %zu bytes reported arrived, in order (got %zu)", what, rest, rd.got);
        free(rd.buf);
        zt_join(w.th, 20, "writer");
        close(s[1]);
    }
    free(data);
    free(got);
}

/* sendfile from a blocking socket with SO_RCVTIMEO into a pipe. */
static void test_sendfile_socket_src_timeout(void)
{
    int s[2], p[2];
    struct timeval tv = { 0, 200000 };
    double t0, took;
    zcopy_result r;
    zt_unix_pair(s);
    zt_pipe(p);
    setsockopt(s[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    t0 = zt_now();
    r = zcopy_sendfile(p[1], s[1], 100);
    took = zt_now() - t0;
    if (!r.handled) {
        CHECK(r.error == EINVAL, "sendfile socket -> pipe refused (kernel < 5.12): " ZT_RES_FMT, ZT_RES_ARGS(r));
    } else {
        CHECK(r.error == EAGAIN && r.written == 0, "sendfile from a silent socket with SO_RCVTIMEO 200 ms: EAGAIN: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        /* two timeouts would be 0.40 s; the margin is for a loaded machine */
        CHECK(took >= 0.19 && took < 0.35, "... after one timeout, not two (%.3f s)", took);
    }
    CHECK(!(fcntl(s[1], F_GETFL) & O_NONBLOCK), "the socket src is still blocking");
    close(s[0]);
    close(s[1]);
    close(p[0]);
    close(p[1]);
}

/* zcopy_copy into a full blocking socket with SO_SNDTIMEO. */
static void test_copy_dst_timeout(void)
{
    int s[2], d[2];
    struct timeval tv = { 0, 200000 };
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 10);
    struct zt_writer w;
    double t0, took;
    zcopy_result r;
    zt_unix_pair(s);
    zt_tcp_pair_rcvbuf(d, 4096);
    zt_set_buf(d[0], SO_SNDBUF, 4096);
    setsockopt(d[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    zt_writer_spawn(&w, zt_block_sigpipe_writer, s[0], data, n);
    t0 = zt_now();
    r = zcopy_copy(d[0], s[1], (int64_t)n);
    took = zt_now() - t0;
    CHECK(r.handled && r.error == EAGAIN && r.written > 0 && r.written < (long long)n,
          "zcopy_copy into an unread blocking socket with SO_SNDTIMEO 200 ms: EAGAIN: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(took >= 0.19 && took < 0.30 + 1.0, "... after %.3f s (one timeout after the last progress)", took);
    CHECK(!(fcntl(d[0], F_GETFL) & O_NONBLOCK), "dst is blocking again after the call");
    close(d[0]);
    close(d[1]);
    close(s[1]);
    zt_join(w.th, 20, "writer"); /* it closes s[0] */
    free(data);
}

int main(void)
{
    int fds_before;
    zt_start("callpath", 120);
    fds_before = zt_fd_count();
    test_disposition_switches();
    test_pending_kept();
    signal(SIGPIPE, SIG_DFL);
    test_append_socket();
    test_sendfile_socket_src_timeout();
    test_copy_dst_timeout();
    return zt_finish_drained(fds_before);
}
