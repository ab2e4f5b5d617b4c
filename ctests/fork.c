/*
 * fork.c: after fork(), parent and child relay on their own sockets at the
 * same time and every byte arrives intact; the child never touches a pipe
 * it inherited (its stats show them discarded); the parent carries on.
 * Also: fork while another thread is blocked mid-splice (holding a pipe),
 * and a splicer made before fork used in the child.
 */
#include "zc_test.h"

#define U(x) ((unsigned long long)(x))

/* `rounds` socket->socket splices of random sizes, each checked. Returns
 * the number of bad rounds. */
static int relay_rounds(int rounds, uint64_t seed, const char *who, long long *bytes)
{
    int bad = 0, i;
    uint64_t rs = seed;
    for (i = 0; i < rounds; i++) {
        size_t n = 1 + (size_t)(zt_rand_next(&rs) % (size_t)zt_vg(3 << 20, 16));
        unsigned char *data = zt_random_buf(n, seed * 1000 + (uint64_t)i);
        struct zt_reader r;
        zcopy_result res = zt_splice_unix(data, n, &r);
        if (!QCHECK(zt_ok(res, (long long)n) && r.got == n && r.extra == 0 && memcmp(r.buf, data, n) == 0,
                    "%s round %d: %zu bytes: " ZT_RES_FMT ", got %zu+%zu", who, i, n, ZT_RES_ARGS(res), r.got,
                    r.extra))
            bad++;
        *bytes += (long long)n;
        free(r.buf);
        free(data);
    }
    return bad;
}

static void *warm_main(void *arg)
{
    long long bytes = 0;
    (void)arg;
    relay_rounds(2, 77, "warm thread", &bytes);
    return NULL;
}

int main(void)
{
    int rounds = (int)zt_vg(30, 6);
    zcopy_pool_stats before, ps, cs;
    struct zt_blocked bl;
    zcopy_splicer *sp;
    pid_t pid;
    int status, bad;
    long long bytes = 0;
    int fds_before;
    pthread_t warm;

    zt_start("fork", 100);
    fds_before = zt_fd_count();
    /* A thread blocked mid-splice (holding a pipe) across the fork. */
    zt_blocked_start(&bl);
    usleep(100000);
    /* A splicer made before fork (nothing pending). */
    sp = zcopy_splicer_new();
    CHECK(sp != NULL, "splicer made before fork");

    /* Warm the pool: idle pipes in this thread's slot and on the shared
     * list (a thread that exits parks its pipe there). */
    relay_rounds(3, 1, "warm-up", &bytes);
    if (pthread_create(&warm, NULL, warm_main, NULL))
        DIE("pthread_create");
    zt_join(warm, 30, "warm thread");
    zcopy_pool_get_stats(&before);
    CHECK(before.idle >= 1, "before fork: %llu idle pipes in the pool", U(before.idle));

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        /* child: relay at the same time as the parent */
        long long cbytes = 0;
        int cbad;
        zcopy_result r;
        int a[2], b[2];
        char got[8];
        zt_watchdog(60);
        cbad = relay_rounds(rounds, 2, "child", &cbytes);
        zcopy_pool_get_stats(&cs);
        printf("# child: %d rounds, %lld bytes checked; stats idle %llu in_use %llu created %llu reused %llu discarded %llu\n",
               rounds, cbytes, U(cs.idle), U(cs.in_use), U(cs.created), U(cs.reused), U(cs.discarded));
        if (!CHECK(cbad == 0, "child: %d bad rounds", cbad))
            cbad = 1;
        if (!CHECK(cs.discarded > before.discarded, "child: inherited pipes discarded (discarded %llu, %llu before fork)",
                    U(cs.discarded), U(before.discarded)))
            cbad++;
        if (!CHECK(cs.in_use == 0, "child: in_use %llu (the parent's lent pipe is not counted)", U(cs.in_use)))
            cbad++;
        /* the inherited splicer (nothing pending) works with a fresh pipe */
        zt_unix_pair(a);
        zt_unix_pair(b);
        zt_write_all(a[0], "child!", 6);
        close(a[0]);
        r = zcopy_splicer_step(sp, b[0], a[1], ZCOPY_ALL);
        if (!CHECK(r.written == 6 && zt_read_full(b[1], got, 6) == 6 && memcmp(got, "child!", 6) == 0,
                    "child: inherited empty splicer works: " ZT_RES_FMT, ZT_RES_ARGS(r)))
            cbad++;
        zcopy_splicer_free(sp);
        fflush(stdout);
        _exit(cbad ? 1 : 0);
    }
    bad = relay_rounds(rounds, 3, "parent", &bytes);
    CHECK(bad == 0, "parent: %d rounds relayed while the child relayed too, %d bad", rounds, bad);
    status = zt_wait_child(pid, zt_valgrind() ? 400 : 60);
    CHECK(status == 0, "child relayed %d rounds intact and saw inherited pipes discarded (exit status %d)", rounds,
          status);
    /* the blocked parent thread finishes normally */
    zt_blocked_release(&bl, "late", 4);
    {
        char got[8];
        size_t n = zt_blocked_finish(&bl, got, sizeof got);
        CHECK(zt_ok(bl.r, 4) && n == 4 && memcmp(got, "late", 4) == 0,
              "parent: splice blocked across the fork completes: " ZT_RES_FMT, ZT_RES_ARGS(bl.r));
    }
    zcopy_splicer_free(sp);
    zcopy_pool_get_stats(&ps);
    CHECK(ps.in_use == 0 && ps.discarded == before.discarded,
          "parent: in_use 0, nothing discarded by the fork (discarded %llu -> %llu)", U(before.discarded),
          U(ps.discarded));
    printf("# parent+child: %d rounds each, %lld bytes checked in the parent\n", rounds, bytes);
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}
