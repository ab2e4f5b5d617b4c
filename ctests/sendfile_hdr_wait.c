/*
 * sendfile_hdr_wait.c: zcopy_sendfile_hdr's waits (issue 23). NOWAIT into
 * a 4 KiB socket buffer, resumed by the rule the header documents (drop
 * `written` bytes of header, then body, then trailer), gives the same
 * stream; the idle timeout ends a stalled call with ETIMEDOUT, `written`
 * and *offset agreeing; a readable cancel fd ends it at once.
 */
#include "sendfile_hdr.h"

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


int main(void)
{
    zt_start("sendfile_hdr_wait", 120);
    body = zt_random_buf(BODY, 61530);
    nowait_resume();
    timeouts();
    free(body);
    return zt_finish();
}
