/*
 * sendfile_hdr.c: zcopy_sendfile_hdr (issue 23). Header iovecs, a file
 * range and trailer iovecs arrive as one stream, byte for byte, on TCP, a
 * unix socket, a pipe and an O_APPEND file; `written` counts all three;
 * the file position (offset NULL) or *offset (then the position is left
 * alone) moves by the body; TCP_CORK is off again after the call (and a
 * caller's own cork is left on); a request/response loop on one TCP
 * connection gets each whole response at once (no Nagle / delayed-ACK
 * stall between body and trailer); NOWAIT into a full socket resumes by
 * the documented rule to the same stream; the kill switch sends the body
 * by read/write; bad arguments are errors with nothing sent; a closed
 * peer is EPIPE with no SIGPIPE (default disposition kept).
 */
#include "zc_test.h"
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <sys/eventfd.h>

#define BODY ((size_t)(1 << 20) + 7)

static unsigned char *body;
static const char H1[] = "HTTP/1.1 200 OK\r\n", H2[] = "Content-Type: application/octet-stream\r\n\r\n";
static const char T1[] = "\r\n0\r\n", T2[] = "X-Trailer: yes\r\n\r\n";

/* The stream the call must produce, for `len` body bytes from `from`. */
static unsigned char *expected(size_t from, size_t len, size_t *n)
{
    size_t h = strlen(H1) + strlen(H2), t = strlen(T1) + strlen(T2);
    unsigned char *e = malloc(h + len + t);
    memcpy(e, H1, strlen(H1));
    memcpy(e + strlen(H1), H2, strlen(H2));
    memcpy(e + h, body + from, len);
    memcpy(e + h + len, T1, strlen(T1));
    memcpy(e + h + len + strlen(T1), T2, strlen(T2));
    *n = h + len + t;
    return e;
}

static void iovs(struct iovec hdr[2], struct iovec trl[2])
{
    hdr[0].iov_base = (void *)H1;
    hdr[0].iov_len = strlen(H1);
    hdr[1].iov_base = (void *)H2;
    hdr[1].iov_len = strlen(H2);
    trl[0].iov_base = (void *)T1;
    trl[0].iov_len = strlen(T1);
    trl[1].iov_base = (void *)T2;
    trl[1].iov_len = strlen(T2);
}

static int cork_of(int fd)
{
    int v = -1;
    socklen_t l = sizeof v;
    getsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, &l);
    return v;
}

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

/* NOWAIT into a small socket buffer, resumed by the documented rule. */
static void nowait_resume(void)
{
    struct iovec hdr[2], trl[2], h2[2], t2[2];
    int s[2], src = zt_file_with(body, BODY), calls = 0, eagain = 0;
    size_t n, got = 0, hlen = strlen(H1) + strlen(H2), tlen = strlen(T1) + strlen(T2);
    unsigned char *want = expected(0, BODY, &n), *buf = malloc(n + 1);
    long long done = 0; /* bytes of the stream sent so far */
    zcopy_options o;
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_NOWAIT;
    iovs(hdr, trl);
    zt_unix_pair(s);
    zt_set_buf(s[0], SO_SNDBUF, 4096);
    zt_set_nonblock(s[1], 1);
    while (done < (long long)n && calls < 100000) {
        /* The rest of the stream: drop what `done` covers. */
        int hc = 0, tc = 0, k;
        int64_t off, cnt;
        size_t skip = (size_t)done;
        zcopy_result r;
        for (k = 0; k < 2; k++) {
            size_t l = hdr[k].iov_len;
            if (skip >= l) {
                skip -= l;
                continue;
            }
            h2[hc].iov_base = (char *)hdr[k].iov_base + skip;
            h2[hc++].iov_len = l - skip;
            skip = 0;
        }
        off = done > (long long)hlen ? (done - (long long)hlen < (long long)BODY ? done - (long long)hlen : (long long)BODY) : 0;
        cnt = (int64_t)BODY - off;
        skip = done > (long long)(hlen + BODY) ? (size_t)done - hlen - BODY : 0;
        for (k = 0; k < 2; k++) {
            size_t l = trl[k].iov_len;
            if (skip >= l) {
                skip -= l;
                continue;
            }
            t2[tc].iov_base = (char *)trl[k].iov_base + skip;
            t2[tc++].iov_len = l - skip;
            skip = 0;
        }
        r = zcopy_sendfile_hdr(s[0], hc ? h2 : NULL, hc, src, &off, cnt, tc ? t2 : NULL, tc, &o);
        calls++;
        done += r.written;
        if (r.error == EAGAIN)
            eagain++;
        else if (r.error != 0)
            DIE("nowait: " ZT_RES_FMT "\n", ZT_RES_ARGS(r));
        /* The reader takes some. */
        for (;;) {
            ssize_t m = read(s[1], buf + got, n + 1 - got);
            if (m <= 0)
                break;
            got += (size_t)m;
        }
    }
    (void)tlen;
    for (;;) {
        ssize_t m = read(s[1], buf + got, n + 1 - got);
        if (m <= 0)
            break;
        got += (size_t)m;
    }
    CHECK(done == (long long)n && got == n && memcmp(buf, want, n) == 0 && eagain > 0,
          "NOWAIT into a 4 KiB socket buffer: %d calls (%d EAGAIN) resumed by the rule give the same stream", calls,
          eagain);
    free(buf);
    free(want);
    close(s[0]);
    close(s[1]);
    close(src);
}

/* The options' idle timeout and cancel fd bound the call's waits. */
static void timeouts(void)
{
    struct iovec hdr[2], trl[2];
    int s[2], src = zt_file_with(body, BODY), efd = eventfd(0, EFD_CLOEXEC);
    int64_t off = 0;
    zcopy_options o;
    zcopy_result r;
    double t0, took;
    uint64_t one = 1;
    iovs(hdr, trl);
    zt_unix_pair(s);
    zt_set_buf(s[0], SO_SNDBUF, 4096);
    zcopy_options_init(&o);
    o.idle_timeout_ms = 100;
    t0 = zt_now();
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, ZCOPY_ALL, trl, 2, &o);
    took = zt_now() - t0;
    CHECK(r.error == ETIMEDOUT && r.written > 0 && off == r.written - (int64_t)(strlen(H1) + strlen(H2)) &&
              took >= 0.1 && took < (zt_valgrind() ? 2.0 : 0.4),
          "no reader, idle timeout 100 ms: ETIMEDOUT after %.0f ms, written and *offset agree: " ZT_RES_FMT, took * 1000,
          ZT_RES_ARGS(r));
    zcopy_options_init(&o);
    o.cancel_fd = efd;
    if (write(efd, &one, sizeof one) != (ssize_t)sizeof one)
        DIE("eventfd\n");
    off = 0;
    r = zcopy_sendfile_hdr(s[0], hdr, 2, src, &off, ZCOPY_ALL, trl, 2, &o);
    CHECK(r.error == ECANCELED && r.written == 0 && off == 0, "a readable cancel fd: ECANCELED, nothing sent: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    close(efd);
    close(s[0]);
    close(s[1]);
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
    nowait_resume();
    timeouts();
    killswitch();
    errors();
    free(body);
    return zt_finish();
}
