/*
 * relay_hostile.c: relays and engines under hostile use (issue 24).
 *
 * - A reset ends the relay at once, whichever side is stalled: the client
 *   fills the relay and resets (TCP: SO_LINGER 0; unix: closes with
 *   unread bytes, which the kernel reports as ECONNRESET) while the
 *   upstream reads nothing, and the mirror case. A unix peer that closes
 *   with everything delivered ends the relay at once with EPIPE (nothing
 *   could reach it again). Through zcopy_relay and engines of 1 and 2
 *   threads; each case must end in well under the 10 s idle timeout.
 * - Datagram sockets (UDP, unix SOCK_DGRAM, SOCK_SEQPACKET) are refused
 *   with EINVAL by zcopy_relay and zcopy_engine_add, nothing moved.
 * - One connection is never relayed twice: (fd, dup(fd)) is EINVAL; an fd
 *   of a running engine relay (or a dup, or the pair reversed) is EEXIST,
 *   and the running relay still moves every byte.
 * - /dev/null is refused by zcopy_engine_add with EPERM synchronously.
 * - Timeouts at the int64 edges mean "never", not EINVAL or a wrap.
 */
#include "relay_run.h"

#include <sys/eventfd.h>

/* A relay with an idle timeout of `idle_ms` and cancel fd `cancel`, by
 * zcopy_relay or an engine (relay_run.h). */
static void start_relay(struct run *x, int kind, int a, int b, int64_t idle_ms, int cancel)
{
    zcopy_options o;
    zcopy_options_init(&o);
    o.idle_timeout_ms = idle_ms;
    o.cancel_fd = cancel;
    run_start_opts(x, kind, a, b, &o);
}

/* Writes to non-blocking `fd` until it has taken nothing for 300 ms (the
 * relay and the stalled peer's buffers are full). Returns bytes written. */
static size_t fill(int fd)
{
    static unsigned char buf[65536];
    size_t total = 0;
    double idle_since = zt_now();
    zt_set_nonblock(fd, 1);
    memset(buf, 'x', sizeof buf);
    while (zt_now() - idle_since < (zt_valgrind() ? 1.5 : 0.3)) {
        ssize_t n = write(fd, buf, sizeof buf);
        if (n > 0) {
            total += (size_t)n;
            idle_since = zt_now();
        } else {
            usleep(5000);
        }
    }
    return total;
}

/* Ends a connection hard: a TCP RST, or a unix close with unread bytes
 * (the relay was made to deliver some to `fd` first). */
static void hard_close(int *fd)
{
    struct linger l = { 1, 0 };
    setsockopt(*fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    zt_close(fd);
}

/* The peer `victim` resets while the other peer (`staller`) reads nothing.
 * `victim_is_client`: the victim is c (its relay end is a). */
static void reset_case(int conn, int kind, int victim_is_client)
{
    struct ends e;
    struct run x;
    zcopy_relay_result r;
    double t0, ms;
    int *victim, *other, want_fd;
    char tag[160];

    ends_open(&e, conn, conn);
    victim = victim_is_client ? &e.c : &e.s;
    other = victim_is_client ? &e.s : &e.c;
    want_fd = victim_is_client ? e.a : e.b;
    snprintf(tag, sizeof tag, "%s, %s, the %s resets while the %s stalls", run_name[kind],
             rl_kind_name[conn], victim_is_client ? "client" : "upstream",
             victim_is_client ? "upstream" : "client");
    start_relay(&x, kind, e.a, e.b, 10000, -1);
    /* A few bytes reach the victim and stay unread there (a unix close
     * with unread bytes is the kernel's ECONNRESET). */
    if (zt_write_all(*other, "hello", 5) != 0)
        DIE("write hello");
    usleep(zt_valgrind() ? 400000 : 50000);
    size_t sent = fill(*victim);
    hard_close(victim);
    t0 = zt_now();
    r = run_end(&x, 15); /* the 10 s idle timeout ends it on a library that misses the reset */
    ms = rl_ms_since(t0);
    CHECK(r.error == ECONNRESET && r.error_fd == want_fd,
          "%s: ends with ECONNRESET on the victim's fd %d (" RL_FMT ", %zu bytes sent)", tag,
          want_fd, RL_ARGS(r), sent);
    CHECK(ms < (zt_valgrind() ? 4000 : 1000), "%s: ends at once (%.0f ms, the idle timeout is 10 s)",
          tag, ms);
    ends_close(&e);
}

/* A unix client sends 1000 bytes and closes (nothing unread): the relay
 * delivers them all, then ends with EPIPE on a at once, although the
 * upstream neither writes nor closes. */
static void unix_close_case(int kind)
{
    struct ends e;
    struct run x;
    zcopy_relay_result r;
    unsigned char msg[1000], got[1100];
    size_t n;
    double t0, ms;

    ends_open(&e, E_UNIX, E_UNIX);
    zt_fill(msg, sizeof msg, 7);
    start_relay(&x, kind, e.a, e.b, 10000, -1);
    if (zt_write_all(e.c, msg, sizeof msg) != 0)
        DIE("write");
    zt_close(&e.c);
    t0 = zt_now();
    n = zt_read_full(e.s, got, sizeof got); /* to EOF: the relay half-closes b */
    r = run_end(&x, 15); /* the 10 s idle timeout ends it on a library that misses the reset */
    ms = rl_ms_since(t0);
    CHECK(n == sizeof msg && memcmp(got, msg, n) == 0,
          "%s, unix client sends and closes: the upstream gets all %zu bytes, then EOF (got %zu)",
          run_name[kind], sizeof msg, n);
    CHECK(r.error == EPIPE && r.error_fd == e.a && r.a_to_b == (int64_t)sizeof msg,
          "%s, unix client gone: ends with EPIPE on a (" RL_FMT ")", run_name[kind], RL_ARGS(r));
    CHECK(ms < (zt_valgrind() ? 4000 : 1000), "%s, unix client gone: ends at once (%.0f ms)",
          run_name[kind], ms);
    ends_close(&e);
}

static void datagram_cases(void)
{
    static const char *const names[] = { "udp", "unix SOCK_DGRAM", "unix SOCK_SEQPACKET" };
    for (int k = 0; k < 3; k++) {
        int d[2], s[2], rc;
        zcopy_relay_result r;
        zcopy_engine *e = zcopy_engine_new(1);
        if (k == 0)
            zt_udp_pair(d);
        else if (socketpair(AF_UNIX, k == 1 ? SOCK_DGRAM : SOCK_SEQPACKET, 0, d) != 0)
            DIE("socketpair");
        zt_unix_pair(s);
        /* One 20 000-byte message waits: a relay that took it would cut it. */
        static unsigned char msg[20000];
        if (send(d[0], msg, sizeof msg, 0) != (ssize_t)sizeof msg)
            DIE("send datagram");
        r = zcopy_relay(d[1], s[0], NULL);
        CHECK(r.error == EINVAL && r.error_fd == d[1] && r.a_to_b == 0 && r.b_to_a == 0,
              "zcopy_relay refuses a %s socket with EINVAL and its fd (" RL_FMT ")", names[k],
              RL_ARGS(r));
        r = zcopy_relay(s[0], d[1], NULL);
        CHECK(r.error == EINVAL && r.error_fd == d[1], "zcopy_relay refuses a %s socket as b too",
              names[k]);
        rc = zcopy_engine_add(e, d[1], s[0], NULL, NULL, NULL);
        CHECK(rc == EINVAL, "zcopy_engine_add refuses a %s socket with EINVAL (got %d)", names[k], rc);
        CHECK(recv(d[1], msg, sizeof msg, MSG_DONTWAIT) == (ssize_t)sizeof msg,
              "the %s message is still whole and unread", names[k]);
        zcopy_engine_free(e);
        close(d[0]);
        close(d[1]);
        close(s[0]);
        close(s[1]);
    }
}

/* The bytes of a running relay arrive whole both ways (40 KiB each). */
static int talk(int c, int s, const char *label)
{
    struct rl_talk t;
    rl_talk_start(&t, c, s, 40960, 40960, 24);
    return rl_talk_end(&t, label, 0);
}

static void twice_cases(int threads)
{
    struct ends e, f;
    struct done_rec d, d2;
    zcopy_engine *eng = zcopy_engine_new(threads);
    int dup_a, rc;
    zcopy_relay_result r;
    char tag[64];

    snprintf(tag, sizeof tag, "engine %d thread%s", threads, threads > 1 ? "s" : "");
    ends_open(&e, E_TCP, E_TCP);
    ends_open(&f, E_UNIX, E_UNIX);
    dup_a = dup(e.a);
    r = zcopy_relay(e.a, dup_a, NULL);
    CHECK(r.error == EINVAL && r.error_fd == -1, "zcopy_relay(fd, dup(fd)) is EINVAL (" RL_FMT ")",
          RL_ARGS(r));
    rc = zcopy_engine_add(eng, e.a, dup_a, NULL, NULL, NULL);
    CHECK(rc == EINVAL, "%s: add(fd, dup(fd)) is EINVAL (got %d)", tag, rc);

    rec_init(&d);
    rec_init(&d2);
    if (zcopy_engine_add(eng, e.a, e.b, NULL, rec_done, &d) != 0)
        DIE("add");
    rc = zcopy_engine_add(eng, dup_a, f.a, NULL, rec_done, &d2);
    CHECK(rc == EEXIST, "%s: a dup of a running relay's fd is EEXIST (got %d)", tag, rc);
    rc = zcopy_engine_add(eng, e.b, e.a, NULL, rec_done, &d2);
    CHECK(rc == EEXIST, "%s: the running pair added again reversed is EEXIST (got %d)", tag, rc);
    rc = zcopy_engine_add(eng, f.a, e.b, NULL, rec_done, &d2);
    CHECK(rc == EEXIST, "%s: b of a running relay in another pair is EEXIST (got %d)", tag, rc);
    talk(e.c, e.s, tag);
    CHECK(rec_wait(&d, 10) && d.r.error == 0 && d.r.a_to_b == 40960 && d.r.b_to_a == 40960,
          "%s: the first relay ends well (" RL_FMT ")", tag, RL_ARGS(d.r));
    CHECK(rec_calls(&d2) == 0, "%s: no refused add ever calls done", tag);
    /* Once it ended, its fds may be relayed again. */
    rc = zcopy_engine_add(eng, f.a, f.b, NULL, rec_done, &d2);
    CHECK(rc == 0, "%s: other fds are accepted (got %d)", tag, rc);
    talk(f.c, f.s, tag);
    CHECK(rec_wait(&d2, 10) && d2.r.error == 0, "%s: that relay ends well too", tag);
    zcopy_engine_free(eng);
    close(dup_a);
    ends_close(&e);
    ends_close(&f);
}

static void devnull_case(void)
{
    zcopy_engine *eng = zcopy_engine_new(1);
    int s[2], null = open("/dev/null", O_RDWR | O_CLOEXEC);
    struct done_rec d;
    int rc;
    zt_unix_pair(s);
    rec_init(&d);
    rc = zcopy_engine_add(eng, null, s[0], NULL, rec_done, &d);
    CHECK(rc == EPERM, "add(/dev/null, socket) is EPERM at once (got %d)", rc);
    usleep(50000);
    CHECK(rec_calls(&d) == 0, "and done is never called");
    zcopy_engine_free(eng);
    close(null);
    close(s[0]);
    close(s[1]);
}

/* A relay with a huge idle timeout runs (is not refused, does not time out
 * early) until its cancel fd ends it. */
static void timeout_edge(int kind, int64_t ms)
{
    struct ends e;
    struct run x;
    zcopy_relay_result r;
    unsigned char got[5];
    uint64_t one = 1;
    int cancel = eventfd(0, EFD_CLOEXEC);

    ends_open(&e, E_UNIX, E_UNIX);
    start_relay(&x, kind, e.a, e.b, ms, cancel);
    if (zt_write_all(e.c, "abcde", 5) != 0)
        DIE("write");
    CHECK(zt_read_full(e.s, got, 5) == 5 && memcmp(got, "abcde", 5) == 0,
          "%s, idle_timeout_ms %lld: bytes move", run_name[kind], (long long)ms);
    usleep(zt_valgrind() ? 500000 : 200000);
    if (write(cancel, &one, sizeof one) != sizeof one)
        DIE("eventfd write");
    r = run_end(&x, 8);
    CHECK(r.error == ECANCELED && r.a_to_b == 5,
          "%s, idle_timeout_ms %lld: runs until cancelled, no early timeout, no EINVAL (" RL_FMT ")",
          run_name[kind], (long long)ms, RL_ARGS(r));
    close(cancel);
    ends_close(&e);
}

int main(void)
{
    zt_start("relay_hostile", 240);
    signal(SIGPIPE, SIG_IGN);
    for (int kind = RUN_CALL; kind <= RUN_ENGINE2; kind++)
        for (int conn = E_TCP; conn <= E_UNIX; conn++) {
            reset_case(conn, kind, 1);
            reset_case(conn, kind, 0);
        }
    for (int kind = RUN_CALL; kind <= RUN_ENGINE2; kind++)
        unix_close_case(kind);
    datagram_cases();
    twice_cases(1);
    twice_cases(2);
    devnull_case();
    {
        static const int64_t edges[] = { INT64_MAX, INT64_MAX - 1, INT64_MAX / 1000000 + 1,
                                         9200000000000000000LL, 10000000000000000LL };
        for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
            for (int kind = RUN_CALL; kind <= RUN_ENGINE1; kind++)
                timeout_edge(kind, edges[i]);
    }
    return zt_finish();
}
