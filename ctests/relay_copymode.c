/*
 * relay_copymode: the relay's small-message copy mode, through zcopy_relay
 * (on a thread of its own) and through the engine (1 and 2 threads).
 * While messages are small a direction copies with read/write and borrows
 * no pipe at all (the pool's acquisitions do not move, pipes_in_use stays
 * 0); a large message switches it to splice and a run of small ones back;
 * every byte of mixed sizes (1 B .. 1 MiB) arrives both ways; TCP urgent
 * data, EOF and half-close right after a small message, and a slow reader
 * behave as in splice mode.
 */
#include "relay_run.h"

/* Sends msg[0..n) into wfd while reading n bytes from rfd (both made
 * non-blocking), so a message larger than every buffer on the way cannot
 * deadlock; true when the bytes read equal msg. */
static int exchange(int wfd, int rfd, const unsigned char *msg, size_t n, unsigned char *got)
{
    size_t sent = 0, have = 0;
    double t0 = zt_now();
    zt_set_nonblock(wfd, 1);
    zt_set_nonblock(rfd, 1);
    while (have < n) {
        struct pollfd p[2] = { { rfd, POLLIN, 0 }, { wfd, sent < n ? POLLOUT : 0, 0 } };
        ssize_t k;
        if (zt_now() - t0 > 20)
            DIE("exchange of %zu bytes stalled at %zu sent, %zu read", n, sent, have);
        poll(p, 2, 1000);
        if (sent < n) {
            k = write(wfd, msg + sent, n - sent);
            if (k > 0)
                sent += (size_t)k;
        }
        k = read(rfd, got + have, n - have);
        if (k > 0)
            have += (size_t)k;
        else if (k == 0)
            DIE("EOF after %zu of %zu bytes", have, n);
    }
    return memcmp(got, msg, n) == 0;
}

/* Ends a relay cleanly: both peers half-close; the result must be EOF with
 * the counts given. */
static void end_both(struct run *x, int ca, int sb, int64_t ab, int64_t ba, const char *what)
{
    zcopy_relay_result r;
    char c;
    shutdown(ca, SHUT_WR);
    shutdown(sb, SHUT_WR);
    zt_set_nonblock(ca, 0);
    zt_set_nonblock(sb, 0);
    CHECK(read(sb, &c, 1) == 0 && read(ca, &c, 1) == 0, "%s: both peers see EOF", what);
    r = run_end(x, 30);
    CHECK(r.error == 0 && r.a_to_b == ab && r.b_to_a == ba, "%s: " RL_FMT " (want %lld / %lld)", what,
          RL_ARGS(r), (long long)ab, (long long)ba);
}

/* 300 round trips of 64 bytes: no pipe is ever borrowed. */
static void small_messages_borrow_no_pipe(int kind)
{
    int a, ca, b, sb, i, ok = 1, pipes = 0;
    unsigned char m[64], got[64];
    uint64_t before;
    struct run x;
    char what[96];
    snprintf(what, sizeof what, "%s, 64 B ping-pong", run_name[kind]);
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    before = acquisitions();
    run_start(&x, kind, a, b);
    for (i = 0; i < 300; i++) {
        zt_fill(m, sizeof m, (uint64_t)i);
        ok &= exchange(ca, sb, m, sizeof m, got);
        m[0] ^= 0xff;
        ok &= exchange(sb, ca, m, sizeof m, got);
        if (run_pipes(&x) != 0)
            pipes++;
    }
    CHECK(ok, "%s: every byte both ways", what);
    CHECK(pipes == 0, "%s: pipes_in_use 0 at every sample (%d non-zero)", what, pipes);
    CHECK(acquisitions() == before, "%s: no pipe borrowed from the pool (%llu borrowed)", what,
          (unsigned long long)(acquisitions() - before));
    end_both(&x, ca, sb, 300 * 64, 300 * 64, what);
    close(a), close(ca), close(b), close(sb);
}

/* Sizes 1 B .. 1 MiB both ways; large ones splice, a run of small ones
 * goes back to copying (no pipe borrowed for them). */
static void mixed_sizes(int kind, int unix_b)
{
    static const size_t sizes[] = { 1, 100, 4096, 65536, 1 << 20, 5, 300000, 16384, 1 << 20, 64, 3 };
    int a, ca, b, sb, ok = 1, i;
    size_t k;
    int64_t total = 0;
    unsigned char *m = malloc(1 << 20), *got = malloc(1 << 20);
    uint64_t before, after_big, settled = 0;
    struct run x;
    char what[96];
    snprintf(what, sizeof what, "%s, mixed sizes, b %s", run_name[kind], unix_b ? "unix" : "tcp");
    if (!m || !got)
        DIE("malloc");
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(unix_b ? RL_UNIX : RL_TCP, &b, &sb);
    before = acquisitions();
    run_start(&x, kind, a, b);
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        zt_fill(m, sizes[k], 2 * k);
        if (!exchange(ca, sb, m, sizes[k], got))
            ok = QCHECK(0, "%s: a -> b, %zu bytes differ", what, sizes[k]);
        zt_fill(m, sizes[k], 2 * k + 1);
        if (!exchange(sb, ca, m, sizes[k], got))
            ok = QCHECK(0, "%s: b -> a, %zu bytes differ", what, sizes[k]);
        total += (int64_t)sizes[k];
    }
    after_big = acquisitions();
    /* A run of small messages: back to copying, then no pipe borrowed. */
    for (i = 0; i < 60; i++) {
        if (i == 10)
            settled = acquisitions();
        zt_fill(m, 200, 1000 + (uint64_t)i);
        ok &= exchange(ca, sb, m, 200, got);
        ok &= exchange(sb, ca, m, 200, got);
        total += 200;
    }
    CHECK(ok, "%s: every byte both ways", what);
    CHECK(after_big > before, "%s: the large messages were spliced (%llu pipes borrowed)", what,
          (unsigned long long)(after_big - before));
    CHECK(acquisitions() == settled, "%s: after a run of small messages no pipe is borrowed (%llu)", what,
          (unsigned long long)(acquisitions() - settled));
    end_both(&x, ca, sb, total, total, what);
    close(a), close(ca), close(b), close(sb);
    free(m);
    free(got);
}

/* "ab", the urgent byte, (a pause), "cd", EOF: what read(2) gives ("abcd",
 * or "abUcd" with SO_OOBINLINE), never an early EOF, no spinning. */
static void urgent_in_copy_mode(int kind, int oobinline)
{
    int a, ca, b, sb, one = 1, side;
    struct run x;
    struct rusage r0, r1;
    zcopy_relay_result r;
    char what[96], got[2][16];
    const char *want = oobinline ? "abUcd" : "abcd";
    size_t wl = strlen(want), n[2];
    double cpu;
    snprintf(what, sizeof what, "%s, urgent byte in copy mode%s", run_name[kind],
             oobinline ? ", SO_OOBINLINE" : "");
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    if (oobinline) {
        setsockopt(a, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
        setsockopt(b, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
    }
    run_start(&x, kind, a, b);
    getrusage(RUSAGE_SELF, &r0);
    for (side = 0; side < 2; side++) {
        int fd = side ? sb : ca;
        if (write(fd, "ab", 2) != 2 || send(fd, "U", 1, MSG_OOB) != 1)
            DIE("peer write");
    }
    usleep(200000); /* the relay sits right after the mark meanwhile */
    for (side = 0; side < 2; side++) {
        int fd = side ? sb : ca;
        if (write(fd, "cd", 2) != 2)
            DIE("peer write");
        shutdown(fd, SHUT_WR);
    }
    for (side = 0; side < 2; side++) {
        int fd = side ? ca : sb;
        n[side] = zt_read_full(fd, got[side], sizeof got[side]);
    }
    r = run_end(&x, 30);
    getrusage(RUSAGE_SELF, &r1);
    cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e3 +
          (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e3;
    CHECK(n[0] == wl && memcmp(got[0], want, wl) == 0 && n[1] == wl && memcmp(got[1], want, wl) == 0,
          "%s: both peers got \"%s\" (got %zu and %zu bytes)", what, want, n[0], n[1]);
    CHECK(r.error == 0 && r.a_to_b == (int64_t)wl && r.b_to_a == (int64_t)wl, "%s: " RL_FMT, what, RL_ARGS(r));
    /* Spinning there for 200 ms would cost about 200 ms of CPU. */
    CHECK(cpu < (zt_valgrind() ? 1500 : 150), "%s: no spinning at the mark (%.0f ms CPU over a 200 ms pause)", what, cpu);
    close(a), close(ca), close(b), close(sb);
}

/* A small message and the half-close right behind it (written before the
 * relay starts, or while it runs): the byte, then EOF; the other way goes on. */
static void eof_after_small(int kind, int early)
{
    int a, ca, b, sb;
    struct run x;
    char what[96], buf[16];
    snprintf(what, sizeof what, "%s, EOF right after 1 byte%s", run_name[kind], early ? " (before start)" : "");
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    if (!early)
        run_start(&x, kind, a, b);
    if (write(ca, "x", 1) != 1)
        DIE("write");
    shutdown(ca, SHUT_WR);
    if (early)
        run_start(&x, kind, a, b);
    CHECK(zt_read_full(sb, buf, sizeof buf) == 1 && buf[0] == 'x', "%s: the byte, then EOF", what);
    CHECK(write(sb, "reply", 5) == 5 && zt_read_full(ca, buf, 5) == 5 && memcmp(buf, "reply", 5) == 0,
          "%s: the other direction goes on after the half-close", what);
    end_both(&x, ca, sb, 1, 5, what);
    close(a), close(ca), close(b), close(sb);
}

/* Paced 1000-byte messages into a destination nobody reads: the relay
 * holds what does not fit without a pipe; then everything arrives, in order. */
static void slow_reader(int kind)
{
    enum { MSG = 1000, COUNT = 300 };
    int a, ca, b, sb, i, pipes = 0;
    unsigned char *sent = malloc(MSG * COUNT), *got = malloc(MSG * COUNT);
    uint64_t before;
    struct run x;
    char what[96];
    snprintf(what, sizeof what, "%s, slow reader", run_name[kind]);
    if (!sent || !got)
        DIE("malloc");
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    zt_set_buf(b, SO_SNDBUF, 8192);
    zt_set_buf(sb, SO_RCVBUF, 8192);
    zt_fill(sent, MSG * COUNT, 77);
    before = acquisitions();
    run_start(&x, kind, a, b);
    /* One message every 2 ms (20 under valgrind): the relay takes each on
     * its own (copy mode), until b is full and it holds one. */
    for (i = 0; i < COUNT / 3; i++) {
        if (zt_write_all(ca, sent + (size_t)i * MSG, MSG) < 0)
            DIE("write");
        usleep(zt_valgrind() ? 20000 : 2000);
        if (run_pipes(&x) != 0)
            pipes++;
    }
    CHECK(pipes == 0 && acquisitions() == before,
          "%s: held copied bytes need no pipe (pipes_in_use non-zero %d times, %llu borrowed)", what, pipes,
          (unsigned long long)(acquisitions() - before));
    /* The rest at once; then read it all. */
    if (zt_write_all(ca, sent + (size_t)(COUNT / 3) * MSG, (size_t)(COUNT - COUNT / 3) * MSG) < 0)
        DIE("write");
    CHECK(zt_read_full(sb, got, MSG * COUNT) == MSG * COUNT && memcmp(got, sent, MSG * COUNT) == 0,
          "%s: every byte, in order", what);
    end_both(&x, ca, sb, MSG * COUNT, 0, what);
    close(a), close(ca), close(b), close(sb);
    free(sent);
    free(got);
}

int main(void)
{
    int kind;
    zt_start("relay_copymode", 240);
    signal(SIGPIPE, SIG_IGN);
    for (kind = RUN_CALL; kind <= RUN_ENGINE1; kind++) {
        small_messages_borrow_no_pipe(kind);
        urgent_in_copy_mode(kind, 0);
        urgent_in_copy_mode(kind, 1);
        eof_after_small(kind, 0);
        eof_after_small(kind, 1);
        slow_reader(kind);
    }
    mixed_sizes(RUN_CALL, 0);
    mixed_sizes(RUN_CALL, 1);
    mixed_sizes(RUN_ENGINE1, 0);
    mixed_sizes(RUN_ENGINE2, 1);
    small_messages_borrow_no_pipe(RUN_ENGINE2);
    return zt_finish();
}
