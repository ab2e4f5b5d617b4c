/*
 * relay_smallpipe: a relay direction copies, 64 KiB at a time, instead of
 * splicing through pipes below 64 KiB (relay/direction/mode.rs), through
 * zcopy_relay and the engine (1 and 2 threads):
 * - pipe_size 8192 set with zcopy_pool_configure: 16 MiB both ways arrive
 *   byte for byte, counts exact, and no pipe is borrowed from the pool at
 *   all; a TCP urgent byte in the middle of a bulk stream is stepped over
 *   as read(2) does; with 1 MiB pipes the same transfer splices again;
 * - past pipe-user-pages-soft (a child of an otherwise unused uid holds
 *   1 MiB pipes until the kernel makes 8 KiB ones): 16 MiB through
 *   zcopy_relay intact with a handful of borrows (a probe every 50 ms at
 *   most, not one per step); once the pages are freed the pool's pipe
 *   grows back and the relay splices again.
 */
#include "relay_run.h"

#include <grp.h>
#include <sys/wait.h>

#define U(x) ((unsigned long long)(x))

/* n bytes both ways (a: tcp, b: unix) through one relay, each peer
 * half-closing after its last byte; checks every byte and the counts and
 * returns how many pipes were borrowed meanwhile. */
static uint64_t bulk(int kind, size_t n, const char *what, uint64_t seed)
{
    int a, ca, b, sb;
    struct run x;
    struct rl_talk t;
    zcopy_relay_result r;
    uint64_t before;
    char label[128];
    snprintf(label, sizeof label, "%s, %s", run_name[kind], what);
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    before = acquisitions();
    run_start(&x, kind, a, b);
    rl_talk_start(&t, ca, sb, n, n, seed);
    rl_talk_end(&t, label, 0);
    r = run_end(&x, 60);
    CHECK(r.error == 0 && r.a_to_b == (int64_t)n && r.b_to_a == (int64_t)n, "%s: " RL_FMT " (want %zu both ways)",
          label, RL_ARGS(r), n);
    close(a), close(ca), close(b), close(sb);
    return acquisitions() - before;
}

/* 1 MiB, an urgent byte, 1 MiB, EOF from a (tcp): b gets the 2 MiB
 * without the urgent byte, as read(2) would give them; no early EOF. */
static void urgent_in_bulk(int kind)
{
    enum { HALF = 1 << 20 };
    int a, ca, b, sb;
    unsigned char *d = zt_random_buf(2 * HALF, 99);
    struct zt_reader rd;
    struct run x;
    zcopy_relay_result r;
    uint64_t before;
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    before = acquisitions();
    run_start(&x, kind, a, b);
    zt_reader_start(&rd, sb, 2 * HALF + 16, 0);
    if (zt_write_all(ca, d, HALF) < 0 || send(ca, "U", 1, MSG_OOB) != 1 || zt_write_all(ca, d + HALF, HALF) < 0)
        DIE("peer write");
    shutdown(ca, SHUT_WR);
    zt_join(rd.th, 60, "reader");
    CHECK(rd.got == 2 * HALF && memcmp(rd.buf, d, 2 * HALF) == 0,
          "%s, urgent byte in a bulk stream over 8 KiB pipes: the 2 MiB around it, in order (got %zu)",
          run_name[kind], rd.got);
    shutdown(sb, SHUT_WR);
    r = run_end(&x, 60);
    CHECK(r.error == 0 && r.a_to_b == 2 * HALF && r.b_to_a == 0, "%s, urgent byte in bulk: " RL_FMT,
          run_name[kind], RL_ARGS(r));
    CHECK(acquisitions() == before, "%s, urgent byte in bulk: no pipe borrowed (%llu)", run_name[kind],
          U(acquisitions() - before));
    close(a), close(ca), close(b), close(sb);
    free(rd.buf);
    free(d);
}

static void configured_small(void)
{
    size_t n = (size_t)zt_vg(16 << 20, 32);
    int kind;
    CHECK(zcopy_pool_configure(0, 8192) == 0, "pipe_size 8192 accepted");
    for (kind = RUN_CALL; kind <= RUN_ENGINE2; kind++) {
        uint64_t got = bulk(kind, n, "pipe_size 8192, bulk both ways", 10 + (uint64_t)kind);
        CHECK(got == 0, "%s, pipe_size 8192: %zu bytes both ways with no pipe borrowed (%llu borrowed)",
              run_name[kind], n, U(got));
        urgent_in_bulk(kind);
    }
    CHECK(zcopy_pool_configure(0, 1 << 20) == 0, "pipe_size 1 MiB accepted");
    for (kind = RUN_CALL; kind <= RUN_ENGINE1; kind++) {
        uint64_t got = bulk(kind, n, "pipe_size 1 MiB, bulk both ways", 20 + (uint64_t)kind);
        CHECK(got > 0, "%s, pipe_size 1 MiB: the same transfer splices again (%llu borrowed)", run_name[kind],
              U(got));
    }
}

/* Holds 1 MiB pipes until the kernel refuses to grow one: the user is
 * past its soft limit. Returns how many fds are in held. */
static int use_up(int *held, int cap)
{
    int n = 0, p[2];
    while (n + 2 <= cap && pipe2(p, O_CLOEXEC) == 0) {
        held[n++] = p[0];
        held[n++] = p[1];
        if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0)
            break;
    }
    return n;
}

static long fresh_pipe_size(void)
{
    int p[2];
    long sz;
    zt_pipe(p);
    sz = fcntl(p[1], F_GETPIPE_SZ);
    close(p[0]);
    close(p[1]);
    return sz;
}

static void past_soft(void)
{
    static int held[2 * 1000];
    /* Not scaled down under valgrind: with less than a few MiB a splicing
     * relay borrows as few pipes as a copying one probes (512 KiB: 3), and
     * the last check could not tell them apart; the bytes are moved by
     * the kernel either way, so valgrind costs little here. */
    size_t n = 16 << 20;
    int i, nheld;
    double t0, ms;
    uint64_t got;
    nheld = use_up(held, (int)(sizeof held / sizeof held[0]));
    CHECK(fresh_pipe_size() <= 8192, "past pipe-user-pages-soft (%d pipes held): new pipes get 8 KiB", nheld / 2);
    t0 = zt_now();
    got = bulk(RUN_CALL, n, "past the soft limit", 30);
    ms = rl_ms_since(t0);
    zt_info("past soft: %zu bytes both ways in %.0f ms, %llu pipes borrowed", n, ms, U(got));
    /* A probe per 50 ms at most (each direction may meet one), a few more
     * for the start; splicing borrows one per step: hundreds. */
    CHECK(got <= 6 + 2 * (uint64_t)(ms / 50), "past the soft limit: %zu bytes both ways in %.0f ms with %llu borrows",
          n, ms, U(got));
    for (i = 0; i < nheld; i++)
        close(held[i]);
    usleep(200 * 1000);
    got = bulk(RUN_CALL, n, "the pages freed again", 31);
    CHECK(got > 6, "the pages freed: the relay splices again (%llu borrowed)", U(got));
}

int main(void)
{
    pid_t pid;
    int status;
    zt_start("relay_smallpipe", 240);
    signal(SIGPIPE, SIG_IGN);
    /* The child first, with the pool as the library starts it. */
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        if (getuid() == 0) {
            /* A uid no other process uses: only this child's pipes count
             * against that user's soft limit. */
            uid_t uid = (uid_t)(60000 + getpid() % 5000);
            if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)
                DIE("setuid(%d)", (int)uid);
        }
        past_soft();
        fflush(stdout);
        _exit(zt_finish());
    }
    status = zt_wait_child(pid, 200);
    CHECK(status == 0, "the unprivileged child's checks passed (exit status %d)", status);
    configured_small();
    return zt_finish();
}
