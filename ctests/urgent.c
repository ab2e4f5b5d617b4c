/*
 * urgent.c: TCP urgent data (MSG_OOB) on every splice path.
 *
 * A peer sends 100 000 bytes, one byte with MSG_OOB, then 100 000 bytes.
 * A read(2) loop gets the 200 000 normal bytes (the urgent byte is out of
 * band), or all 200 001 in order when the receiver set SO_OOBINLINE. The
 * kernel's TCP splice stops at the urgent mark and answers 0 (blocking, or
 * after the peer's half-close) or EAGAIN (non-blocking) there, however long
 * the data after it waits. Every path must deliver what read(2) would,
 * never report end of stream early and never spin: the calling thread's
 * CPU for the whole case stays under 50 ms.
 */
#include "zc_test.h"
#include <poll.h>

#define HALF 100000
#define URGENT 'U'

enum mode { M_BLOCKING, M_NONBLOCKING, M_HALF_CLOSED, M_INLINE, M_COUNT };
static const char *const mode_name[] = { "blocking", "non-blocking", "after the peer's half-close",
                                         "SO_OOBINLINE" };

/* sendfile(2) into a pipe is a splice since Linux 5.12, so it takes a
 * socket as src too (and meets the same mark). */
enum caller { C_COPY, C_SPLICE, C_SPLICER, C_SENDFILE, C_COUNT };
static const char *const caller_name[] = { "zcopy_copy", "zcopy_splice", "zcopy_splicer_step",
                                           "zcopy_sendfile" };

static unsigned char data[2 * HALF];

struct peer {
    pthread_t th;
    int fd;
    int linger_ms; /* stay open this long after sending, then half-close */
};

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    char u = URGENT;
    if (zt_write_all(p->fd, data, HALF) < 0)
        DIE("peer write");
    if (send(p->fd, &u, 1, MSG_OOB) != 1)
        DIE("send MSG_OOB");
    if (zt_write_all(p->fd, data + HALF, HALF) < 0)
        DIE("peer write");
    if (p->linger_ms)
        usleep((useconds_t)p->linger_ms * 1000);
    shutdown(p->fd, SHUT_WR);
    return NULL;
}

/* Steps a splicer until end of stream, waiting with poll as an event loop
 * would; counts the steps (a spinning splicer makes thousands). */
static zcopy_result splicer_loop(int dst, int src, long *steps)
{
    zcopy_splicer *s = zcopy_splicer_new();
    zcopy_result total = { 0 };
    if (!s)
        DIE("zcopy_splicer_new");
    *steps = 0;
    for (;;) {
        zcopy_result r = zcopy_splicer_step(s, dst, src, ZCOPY_ALL);
        struct pollfd p;
        ++*steps;
        total.written += r.written;
        total.method = r.method;
        total.handled = r.handled;
        total.error = r.error;
        if (r.error == 0 && (zcopy_splicer_eof(s) || (r.written == 0 && zcopy_splicer_wants(s) == 0)))
            break;
        if (r.error == 0)
            continue;
        if (r.error != EAGAIN || *steps > 100000)
            break;
        p.fd = zcopy_splicer_wants(s) == ZCOPY_WANT_READ ? src : dst;
        p.events = zcopy_splicer_wants(s) == ZCOPY_WANT_READ ? POLLIN : POLLOUT;
        if (poll(&p, 1, 5000) <= 0) {
            total.error = ETIMEDOUT;
            break;
        }
    }
    total.error = total.error == EAGAIN ? 0 : total.error;
    zcopy_splicer_free(s);
    return total;
}

static void one_case(int caller, int to_pipe, int mode)
{
    int s[2], d[2], one = 1;
    struct peer p;
    struct zt_reader rd;
    zcopy_result r;
    double cpu0, cpu, t0, el;
    long steps = 0;
    size_t want = mode == M_INLINE ? 2 * HALF + 1 : 2 * HALF;
    unsigned char *expect = malloc(want);
    char label[200];
    if (!expect)
        DIE("malloc");
    memcpy(expect, data, HALF);
    if (mode == M_INLINE) {
        expect[HALF] = URGENT;
        memcpy(expect + HALF + 1, data + HALF, HALF);
    } else {
        memcpy(expect + HALF, data + HALF, HALF);
    }
    snprintf(label, sizeof label, "%s tcp->%s, %s src", caller_name[caller], to_pipe ? "pipe" : "tcp",
             mode_name[mode]);
    zt_tcp_pair(s);
    if (to_pipe)
        zt_pipe(d);
    else
        zt_tcp_pair(d);
    /* d[0] is the end zcopy writes to (a pipe's write end is p[1]). */
    if (to_pipe) {
        int t = d[0];
        d[0] = d[1];
        d[1] = t;
    }
    if (mode == M_INLINE && setsockopt(s[1], SOL_SOCKET, SO_OOBINLINE, &one, sizeof one) < 0)
        DIE("SO_OOBINLINE");
    if (mode == M_NONBLOCKING)
        zt_set_nonblock(s[1], 1);
    zt_reader_start(&rd, d[1], want + 16, 0);
    memset(&p, 0, sizeof p);
    p.fd = s[0];
    p.linger_ms = mode == M_HALF_CLOSED ? 0 : 300;
    if (pthread_create(&p.th, NULL, peer_main, &p))
        DIE("pthread_create");
    if (mode == M_HALF_CLOSED)
        zt_join(p.th, 20, "peer");
    t0 = zt_now();
    cpu0 = zt_thread_cpu();
    if (caller == C_COPY)
        r = zcopy_copy(d[0], s[1], ZCOPY_ALL);
    else if (caller == C_SPLICE)
        r = zcopy_splice(d[0], s[1], ZCOPY_ALL);
    else if (caller == C_SPLICER)
        r = splicer_loop(d[0], s[1], &steps);
    else
        r = zcopy_sendfile(d[0], s[1], ZCOPY_ALL);
    cpu = zt_thread_cpu() - cpu0;
    el = zt_now() - t0;
    if (mode != M_HALF_CLOSED)
        zt_join(p.th, 20, "peer");
    close(d[0]);
    zt_join(rd.th, 20, "reader");
    CHECK(r.handled && r.error == 0 && r.written == (long long)want,
          "%s: every normal byte, no early end: " ZT_RES_FMT " (want %zu)", label, ZT_RES_ARGS(r), want);
    CHECK(rd.got == want && memcmp(rd.buf, expect, want) == 0,
          "%s: dst got what read(2) would (%zu bytes, want %zu%s)", label, rd.got, want,
          mode == M_INLINE ? ", urgent byte inline" : ", urgent byte out of band");
    CHECK(cpu < 0.050 * (zt_valgrind() ? 10 : 1), "%s: no spinning: %.1f ms CPU in %.3f s%s", label,
          cpu * 1e3, el, caller == C_SPLICER ? "" : "");
    if (caller == C_SPLICER)
        CHECK(steps < 1000, "%s: %ld steps", label, steps);
    free(rd.buf);
    free(expect);
    close(d[1]);
    close(s[0]);
    close(s[1]);
}

int main(void)
{
    int c, m, to_pipe;
    zt_start("urgent", 120);
    zt_fill(data, sizeof data, 77);
    /* No byte of the data is the urgent byte, so a misplaced one shows. */
    for (c = 0; c < (int)sizeof data; c++)
        if (data[c] == URGENT)
            data[c] = 'u';
    for (c = 0; c < C_COUNT; c++)
        for (to_pipe = 0; to_pipe < 2; to_pipe++)
            for (m = 0; m < M_COUNT && (to_pipe || c != C_SENDFILE); m++)
                one_case(c, to_pipe, m);
    return zt_finish();
}
