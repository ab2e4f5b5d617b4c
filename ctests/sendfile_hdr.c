/*
 * sendfile_hdr.c: zcopy_sendfile_hdr (issue 23). Header iovecs, a file
 * range and trailer iovecs arrive as one stream, byte for byte, on TCP, a
 * unix socket, a pipe and an O_APPEND file; `written` counts all three;
 * the file position (offset NULL) or *offset (then the position is left
 * alone) moves by the body; TCP_CORK is off again after the call (and a
 * caller's own cork is left on); a request/response loop on one TCP
 * connection gets each whole response at once (no Nagle / delayed-ACK
 * stall between body and trailer); the kill switch sends the body
 * by read/write; bad arguments are errors with nothing sent; a closed
 * peer is EPIPE with no SIGPIPE (default disposition kept). NOWAIT and
 * the options' waits: sendfile_hdr_wait.c.
 */
#include "sendfile_hdr.h"

/* kind 0 tcp, 1 unix, 2 pipe; with_offset: *offset from 4096. */
static void stream(int kind, int with_offset)
{
    static const char *const kinds[] = { "tcp", "unix socket", "pipe" };
    struct iovec hdr[2], trl[2];
    int fds[2], src = zt_file_with(body, BODY);
    struct zt_reader rd;
    int64_t off = 4096;
    size_t from = with_offset ? 4096 : 100, len = BODY - from, n;
    unsigned char *want;
    zcopy_result r;
    iovs(hdr, trl);
    if (kind == 0)
        zt_tcp_pair(fds);
    else if (kind == 1)
        zt_unix_pair(fds);
    else {
        int p[2];
        zt_pipe(p);
        fds[0] = p[1]; /* write end: dst */
        fds[1] = p[0];
    }
    lseek(src, with_offset ? 7 : (off_t)from, SEEK_SET);
    want = expected(from, len, &n);
    zt_reader_start(&rd, fds[1], n + 16, 0);
    r = zcopy_sendfile_hdr(fds[0], hdr, 2, src, with_offset ? &off : NULL, ZCOPY_ALL, trl, 2, NULL);
    CHECK(kind != 0 || cork_of(fds[0]) == 0, "%s: TCP_CORK is off again after the call", kinds[kind]);
    if (kind == 2)
        close(fds[0]);
    else
        shutdown(fds[0], SHUT_WR);
    zt_join(rd.th, 30, "reader");
    CHECK(zt_ok(r, (long long)n) && r.method == ZCOPY_METHOD_SENDFILE && rd.got == n && memcmp(rd.buf, want, n) == 0,
          "%s%s: header + %zu body bytes + trailer arrive as one stream, written counts all: " ZT_RES_FMT, kinds[kind],
          with_offset ? " (offset)" : "", len, ZT_RES_ARGS(r));
    if (with_offset)
        CHECK(off == (int64_t)BODY && zt_pos(src) == 7, "%s: *offset moved by the body (%lld), position untouched (%lld)",
              kinds[kind], (long long)off, (long long)zt_pos(src));
    else
        CHECK(zt_pos(src) == (off_t)BODY, "%s: src's position moved by the body", kinds[kind]);
    free(rd.buf);
    free(want);
    if (kind != 2)
        close(fds[0]);
    close(fds[1]);
    close(src);
}

/* O_APPEND file dst: sendfile refuses it, the body goes by read/write. */
static void append_file(void)
{
    struct iovec hdr[2], trl[2];
    int src = zt_file_with(body, BODY), dst = zt_tmpfile_in("/tmp", O_APPEND);
    size_t n;
    unsigned char *want = expected(0, BODY, &n), *got = malloc(n + 1);
    zcopy_result r;
    iovs(hdr, trl);
    lseek(src, 0, SEEK_SET);
    r = zcopy_sendfile_hdr(dst, hdr, 2, src, NULL, ZCOPY_ALL, trl, 2, NULL);
    CHECK(zt_ok(r, (long long)n) && r.method == ZCOPY_METHOD_READ_WRITE && zt_pread_all(dst, got, n + 1) == n &&
              memcmp(got, want, n) == 0,
          "O_APPEND file: the body by read/write, the stream intact: " ZT_RES_FMT, ZT_RES_ARGS(r));
    free(got);
    free(want);
    close(src);
    close(dst);
}

/* Request/response on one TCP connection with Nagle on: each whole
 * response (small header, 300-byte body, small trailer) is read within
 * 40 ms of the request (a trailer held behind Nagle waits for the
 * client's delayed ACK, about 40 ms on Linux). */
static void no_stall(void)
{
    struct iovec hdr[2], trl[2];
    int t[2], src = zt_file_with(body, 300), i, slow = 0;
    size_t n;
    unsigned char *want = expected(0, 300, &n), buf[2048];
    double worst = 0;
    iovs(hdr, trl);
    zt_tcp_pair(t);
    for (i = 0; i < 30; i++) {
        double t0;
        int64_t off = 0;
        zcopy_result r;
        if (write(t[1], "GET", 3) != 3 || zt_read_full(t[0], buf, 3) != 3)
            DIE("request\n");
        t0 = zt_now();
        r = zcopy_sendfile_hdr(t[0], hdr, 2, src, &off, 300, trl, 2, NULL);
        if (!zt_ok(r, (long long)n) || zt_read_full(t[1], buf, n) != n || memcmp(buf, want, n) != 0)
            DIE("response %d: " ZT_RES_FMT "\n", i, ZT_RES_ARGS(r));
        if (zt_now() - t0 > worst)
            worst = zt_now() - t0;
        slow += zt_now() - t0 > 0.030;
    }
    CHECK(slow <= 2, "tcp request/response x30: whole responses at once (%d over 30 ms, worst %.1f ms)", slow,
          worst * 1000);
    /* No trailer (the header goes with MSG_MORE), and a count past the
     * file's end (300 of 400 bytes): what was sent must still leave at
     * once. */
    slow = 0;
    worst = 0;
    for (i = 0; i < 30; i++) {
        double t0;
        int64_t off = 0;
        size_t hl = strlen(H1) + strlen(H2);
        zcopy_result r;
        if (write(t[1], "GET", 3) != 3 || zt_read_full(t[0], buf, 3) != 3)
            DIE("request\n");
        t0 = zt_now();
        r = zcopy_sendfile_hdr(t[0], hdr, 2, src, &off, i % 2 ? 300 : 400, NULL, 0, NULL);
        if (!zt_ok(r, (long long)(hl + 300)) || zt_read_full(t[1], buf, hl + 300) != hl + 300 ||
            memcmp(buf, want, hl + 300) != 0)
            DIE("response %d: " ZT_RES_FMT "\n", i, ZT_RES_ARGS(r));
        if (zt_now() - t0 > worst)
            worst = zt_now() - t0;
        slow += zt_now() - t0 > 0.030;
    }
    CHECK(slow <= 2 && cork_of(t[0]) == 0,
          "tcp, no trailer, count exact or past the end x30: whole responses at once (%d over 30 ms, worst %.1f ms)",
          slow, worst * 1000);
    /* A caller's own cork stays on. */
    {
        int one = 1;
        int64_t off = 0;
        setsockopt(t[0], IPPROTO_TCP, TCP_CORK, &one, sizeof one);
        zcopy_sendfile_hdr(t[0], hdr, 2, src, &off, 300, trl, 2, NULL);
        CHECK(cork_of(t[0]) == 1, "a cork the caller set is left on");
    }
    free(want);
    close(t[0]);
    close(t[1]);
    close(src);
}

static void killswitch(void)
{
    struct iovec hdr[2], trl[2];
    int s[2], src = zt_file_with(body, BODY);
    struct zt_reader rd;
    int64_t off = 0;
    size_t n;
    unsigned char *want = expected(0, BODY, &n);
    zcopy_result r;
    iovs(hdr, trl);
    zt_unix_pair(s);
    zt_reader_start(&rd, s[1], n + 16, 0);
    zcopy_disable(ZCOPY_DISABLE_SENDFILE);
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, ZCOPY_ALL, trl, 2, NULL);
    zcopy_disable(0);
    shutdown(s[0], SHUT_WR);
    zt_join(rd.th, 30, "reader");
    CHECK(zt_ok(r, (long long)n) && r.method == ZCOPY_METHOD_READ_WRITE && rd.got == n && memcmp(rd.buf, want, n) == 0 &&
              off == (int64_t)BODY && zt_pos(src) == 0,
          "sendfile switched off: the body by read/write (pread at *offset), stream intact: " ZT_RES_FMT
          " got %zu off %lld pos %lld",
          ZT_RES_ARGS(r), rd.got, (long long)off, (long long)zt_pos(src));
    free(rd.buf);
    free(want);
    close(s[0]);
    close(s[1]);
    close(src);
}

static void errors(void)
{
    struct iovec hdr[2], trl[2], bad = { NULL, 5 };
    int s[2], src = zt_file_with(body, 100), p[2];
    int64_t neg = -1, off = 0;
    zcopy_options o;
    zcopy_result r;
    unsigned char got[64];
    iovs(hdr, trl);
    zt_unix_pair(s);
    zt_set_nonblock(s[1], 1);
#define NOTHING_SENT (read(s[1], got, sizeof got) < 0 && errno == EAGAIN)
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, -1, trl, 2, NULL);
    CHECK(r.error == EINVAL && r.written == 0 && NOTHING_SENT, "count -1: EINVAL, nothing sent");
    r = zcopy_sendfile_hdr(s[0], NULL, 1, src, &off, 10, trl, 2, NULL);
    CHECK(r.error == EINVAL && NOTHING_SENT, "hdr NULL with a count: EINVAL");
    r = zcopy_sendfile_hdr(s[0], hdr, 1025, src, &off, 10, trl, 2, NULL);
    CHECK(r.error == EINVAL && NOTHING_SENT, "hdr_cnt 1025: EINVAL");
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, 10, trl, -1, NULL);
    CHECK(r.error == EINVAL && NOTHING_SENT, "trl_cnt -1: EINVAL");
    r = zcopy_sendfile_hdr(s[0], &bad, 1, src, &off, 10, trl, 2, NULL);
    CHECK(r.error == EINVAL && NOTHING_SENT, "an iovec with a NULL base and length 5: EINVAL");
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &neg, 10, trl, 2, NULL);
    CHECK(r.error == EINVAL && NOTHING_SENT && neg == -1, "*offset -1: EINVAL");
    r = zcopy_sendfile_hdr(-1, hdr, 2, src, &off, 10, trl, 2, NULL);
    CHECK(r.error == EBADF, "dst -1: EBADF");
    zcopy_options_init(&o);
    o.rate_a_to_b = 1000;
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, 10, trl, 2, &o);
    CHECK(r.error == EINVAL && NOTHING_SENT, "a rate in the options: EINVAL (not a relay)");
    /* Nothing but the header and trailer; no body. */
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, 0, NULL, 0, NULL);
    CHECK(zt_ok(r, (long long)(strlen(H1) + strlen(H2))) && off == 0, "count 0, no trailer: the header alone: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    while (read(s[1], got, sizeof got) > 0) {
    }
    /* A reader gone: EPIPE, and SIGPIPE (default action: death) never
     * reaches the process. */
    signal(SIGPIPE, SIG_DFL);
    zt_pipe(p);
    close(p[0]);
    r = zcopy_sendfile_hdr(p[1], hdr, 2, src, &off, 10, trl, 2, NULL);
    CHECK(r.error == EPIPE && r.written == 0, "a pipe with no reader: EPIPE, no SIGPIPE: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(s[1]);
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, 10, trl, 2, NULL);
    CHECK(r.error == EPIPE, "a socket whose peer is gone: EPIPE, no SIGPIPE: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(p[1]);
    close(s[0]);
    close(src);
}

int main(void)
{
    int k;
    zt_start("sendfile_hdr", 120);
    body = zt_random_buf(BODY, 61530);
    for (k = 0; k < 6; k++)
        stream(k % 3, k / 3);
    append_file();
    no_stall();
    killswitch();
    errors();
    free(body);
    return zt_finish();
}

