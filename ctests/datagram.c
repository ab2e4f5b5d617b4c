/*
 * datagram.c: the plain calls with a datagram source (UDP, unix
 * SOCK_DGRAM, SOCK_SEQPACKET), as the header states it (issue 24):
 * messages that fit what is left of `remain` (and the take) move whole,
 * one after another; a message longer than what is left of `remain` loses
 * its tail (the kernel discards it), and `written` counts only what
 * arrived. Through zcopy_splice, zcopy_copy and zcopy_copy_opts into a
 * stream socket and into a pipe.
 */
#include "zc_test.h"

static const char *const kinds[] = { "udp", "unix SOCK_DGRAM", "unix SOCK_SEQPACKET" };
static const char *const calls[] = { "zcopy_splice", "zcopy_copy", "zcopy_copy_opts" };

static void make(int kind, int d[2])
{
    if (kind == 0)
        zt_udp_pair(d);
    else if (socketpair(AF_UNIX, kind == 1 ? SOCK_DGRAM : SOCK_SEQPACKET, 0, d) != 0)
        DIE("socketpair");
}

static zcopy_result call(int how, int dst, int src, int64_t remain)
{
    zcopy_options o;
    switch (how) {
    case 0: return zcopy_splice(dst, src, remain);
    case 1: return zcopy_copy(dst, src, remain);
    default:
        zcopy_options_init(&o);
        o.idle_timeout_ms = 5000;
        return zcopy_copy_opts(dst, src, remain, &o);
    }
}

/* Drains a non-blocking fd into buf; returns the bytes read. */
static size_t drain(int fd, unsigned char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t n;
    zt_set_nonblock(fd, 1);
    while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)n;
    return got;
}

static void one(int kind, int how, int to_pipe)
{
    int d[2], s[2];
    unsigned char *m1 = zt_random_buf(20000, 1 + kind), *m2 = zt_random_buf(300, 9), *m3 = zt_random_buf(20000, 5);
    static unsigned char got[70000];
    zcopy_result r;
    size_t n;
    ssize_t left;
    const char *into = to_pipe ? "a pipe" : "a stream socket";

    make(kind, d);
    if (to_pipe) {
        if (pipe(s) != 0)
            DIE("pipe");
        int t = s[0]; /* s[0] is what the call writes to, s[1] what we read */
        s[0] = s[1];
        s[1] = t;
    } else {
        zt_unix_pair(s);
    }
    if (send(d[0], m1, 20000, 0) != 20000 || send(d[0], m2, 300, 0) != 300)
        DIE("send");
    /* Both messages fit `remain`: both arrive whole, in order. */
    r = call(how, s[0], d[1], 20300);
    n = drain(s[1], got, sizeof got);
    CHECK(r.error == 0 && r.written == 20300 && n == 20300 && memcmp(got, m1, 20000) == 0 &&
              memcmp(got + 20000, m2, 300) == 0,
          "%s, %s into %s: a 20 000-byte and a 300-byte message arrive whole and in order (" ZT_RES_FMT ", %zu read)",
          calls[how], kinds[kind], into, ZT_RES_ARGS(r), n);
    /* A message longer than `remain`: its head arrives, its tail is gone
     * (as the header says); the next message is intact. */
    if (send(d[0], m3, 20000, 0) != 20000 || send(d[0], m2, 300, 0) != 300)
        DIE("send");
    r = call(how, s[0], d[1], 10000);
    n = drain(s[1], got, sizeof got);
    CHECK(r.error == 0 && r.written == 10000 && n == 10000 && memcmp(got, m3, 10000) == 0,
          "%s, %s into %s: remain 10 000 of a 20 000-byte message delivers its first 10 000 bytes (" ZT_RES_FMT ")",
          calls[how], kinds[kind], into, ZT_RES_ARGS(r));
    left = recv(d[1], got, sizeof got, MSG_DONTWAIT);
    CHECK(left == 300 && memcmp(got, m2, 300) == 0,
          "%s, %s: the message's other 10 000 bytes are gone, the next message is whole (recv %zd)",
          calls[how], kinds[kind], left);
    close(d[0]);
    close(d[1]);
    close(s[0]);
    close(s[1]);
    free(m1);
    free(m2);
    free(m3);
}

int main(void)
{
    zt_start("datagram", 120);
    signal(SIGPIPE, SIG_IGN);
    for (int kind = 0; kind < 3; kind++)
        for (int how = 0; how < 3; how++)
            for (int to_pipe = 0; to_pipe < 2; to_pipe++)
                one(kind, how, to_pipe);
    return zt_finish();
}
