/*
 * pipesoft.c: the pool for an unprivileged process and pipe-user-pages-soft.
 *
 * Past that limit (the user's pipe pages, all its processes together) the
 * kernel makes every new pipe 2 pages (8 KiB) and refuses F_SETPIPE_SZ
 * with EPERM. Checked, in a child that drops to an otherwise unused uid
 * when run as root (so no other process of that user holds pipe pages),
 * or as the current user otherwise:
 * - sizing: 150 pipes held at once (150 splicers) leave the user under
 *   the soft limit (a fresh pipe still gets the default 64 KiB) and none
 *   of the pool's pipes is 8 KiB; 1 MiB for each would have used it up at
 *   the 64th;
 * - past the limit: 200 zcopy_splice calls and a zcopy_relay reuse the
 *   same 8 KiB pipes (pipes made stays bounded, nothing discarded), every
 *   byte intact;
 * - the limit freed again: the pool grows the pipe it keeps back to 1 MiB
 *   (no new pipe made);
 * - an explicit zcopy_pool_configure pipe size is asked for every pipe.
 */
#include "zc_test.h"

#include <grp.h>
#include <sys/wait.h>

#define U(x) ((unsigned long long)(x))
#define MAXFD 4096

static char mine[MAXFD]; /* fds the test holds itself (not the pool's) */

/* Sizes of the pipes this process holds that are not the test's own: the
 * pool's (idle, and lent to splicers). Returns how many; min, max, sum. */
static int pool_pipes(long *min, long *max, long *sum)
{
    int fd, n = 0;
    *min = 1L << 40;
    *max = *sum = 0;
    for (fd = 0; fd < MAXFD; fd += 1) {
        long sz;
        if (mine[fd])
            continue;
        sz = fcntl(fd, F_GETPIPE_SZ);
        if (sz <= 0)
            continue;
        /* Both ends of a pipe answer: counted twice, halved below. */
        n++;
        *sum += sz;
        if (sz < *min)
            *min = sz;
        if (sz > *max)
            *max = sz;
    }
    *sum /= 2;
    return n / 2;
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

/* Holds 1 MiB pipes until the kernel refuses to grow one: the user is
 * past its soft limit. Returns how many pipes are held. */
static int use_up(int *held, int cap)
{
    int n = 0, p[2];
    while (n + 2 <= cap && pipe2(p, O_CLOEXEC) == 0) {
        held[n++] = p[0];
        held[n++] = p[1];
        mine[p[0]] = mine[p[1]] = 1;
        if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0)
            break;
    }
    return n / 2;
}

static int splice_checked(const char *label, size_t n, uint64_t seed)
{
    unsigned char *data = zt_random_buf(n, seed);
    int a[2], b[2], ok;
    struct zt_writer w;
    struct zt_reader rd;
    zcopy_result r;
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_writer_start_shut(&w, a[0], data, n, 0);
    zt_reader_start(&rd, b[1], n + 16, 0);
    r = zcopy_splice(b[0], a[1], ZCOPY_ALL);
    zt_join(w.th, 20, "writer");
    close(b[0]);
    zt_join(rd.th, 20, "reader");
    ok = zt_ok(r, (long long)n) && rd.got == n && memcmp(rd.buf, data, n) == 0 && r.method == ZCOPY_METHOD_SPLICE;
    if (!ok)
        CHECK(0, "%s: %zu bytes spliced intact: " ZT_RES_FMT ", got %zu", label, n, ZT_RES_ARGS(r), rd.got);
    close(a[0]);
    close(a[1]);
    close(b[1]);
    free(rd.buf);
    free(data);
    return ok;
}

struct relay_arg {
    int a, b;
    zcopy_relay_result r;
};

static void *relay_main(void *p)
{
    struct relay_arg *x = p;
    x->r = zcopy_relay(x->a, x->b, NULL);
    return NULL;
}

/* zcopy_relay between two unix pairs, n bytes one way. */
static void relay_checked(size_t n)
{
    unsigned char *data = zt_random_buf(n, 77);
    int a[2], b[2];
    struct zt_writer w;
    struct zt_reader rd;
    struct relay_arg x;
    pthread_t th;
    zt_unix_pair(a);
    zt_unix_pair(b);
    x.a = a[1];
    x.b = b[0];
    if (pthread_create(&th, NULL, relay_main, &x) != 0)
        DIE("pthread_create");
    zt_writer_start_shut(&w, a[0], data, n, 65536);
    zt_reader_start(&rd, b[1], n + 16, 0);
    zt_join(w.th, 20, "writer");
    zt_join(rd.th, 20, "reader");
    shutdown(b[1], SHUT_WR);
    zt_join(th, 20, "relay");
    CHECK(x.r.error == 0 && x.r.a_to_b == (int64_t)n && rd.got == n && memcmp(rd.buf, data, n) == 0,
          "past the soft limit: zcopy_relay moved %zu bytes intact (a_to_b %lld, error %d)", n,
          (long long)x.r.a_to_b, x.r.error);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    free(rd.buf);
    free(data);
}

static void unprivileged(void)
{
    static int held[2 * 1000];
    zcopy_splicer *sp[150];
    zcopy_pool_stats a, b;
    long min, max, sum, fresh;
    int i, n, nheld, ok = 1, calls = (int)zt_vg(200, 10);
    long soft = 16384;
    FILE *f = fopen("/proc/sys/fs/pipe-user-pages-soft", "r");
    if (f) {
        if (fscanf(f, "%ld", &soft) != 1)
            soft = 16384;
        fclose(f);
    }
    zt_info("uid %d, pipe-user-pages-soft %ld", (int)getuid(), soft);

    /* Sizing: 150 pipes in use at once. */
    for (i = 0; i < 150; i++)
        if (!(sp[i] = zcopy_splicer_new()))
            DIE("zcopy_splicer_new: %s", strerror(errno));
    n = pool_pipes(&min, &max, &sum);
    fresh = fresh_pipe_size();
    zt_info("150 splicers: %d pool pipes, %ld to %ld bytes, %ld KiB in all; a fresh pipe gets %ld", n, min, max,
            sum >> 10, fresh);
    CHECK(n >= 150 && min >= 16384, "150 pipes in use: none is 8 KiB (smallest %ld bytes)", min);
    CHECK(sum / 4096 <= soft / 2 + 150 * 4, "their pages (%ld) stay within half the soft limit plus 16 KiB each",
          sum / 4096);
    CHECK(fresh >= 65536, "the user is not past the soft limit: a fresh pipe gets %ld bytes", fresh);
    CHECK(max >= 1 << 20, "the first pipes still get 1 MiB (largest %ld)", max);
    for (i = 0; i < 150; i++)
        zcopy_splicer_free(sp[i]);
    zcopy_pool_drain();

    /* Past the soft limit. */
    nheld = use_up(held, (int)(sizeof held / sizeof held[0]));
    fresh = fresh_pipe_size();
    zt_info("holding %d 1 MiB pipes: a fresh pipe gets %ld bytes", nheld, fresh);
    CHECK(fresh <= 8192, "past pipe-user-pages-soft: new pipes get %ld bytes", fresh);
    zcopy_pool_get_stats(&a);
    for (i = 0; i < calls && ok; i++)
        ok = splice_checked("past the soft limit", (size_t)zt_vg(256 << 10, 4) + (size_t)i, (uint64_t)i + 1);
    relay_checked((size_t)zt_vg(4 << 20, 8));
    zcopy_pool_get_stats(&b);
    CHECK(ok, "past the soft limit: %d zcopy_splice calls, every byte intact", i);
    CHECK(b.created - a.created <= 4, "the pool reuses its 8 KiB pipes: %llu made for %d calls and a relay (reused +%llu)",
          U(b.created - a.created), calls, U(b.reused - a.reused));
    CHECK(b.discarded == a.discarded, "none of them closed as too small (discarded +%llu)", U(b.discarded - a.discarded));
    n = pool_pipes(&min, &max, &sum);
    CHECK(n >= 1 && max <= 8192, "what the pool keeps is what the kernel gave: %d pipes, largest %ld bytes", n, max);

    /* The limit freed: the kept pipe grows back. */
    for (i = 0; i < 2 * nheld; i++) {
        close(held[i]);
        mine[held[i]] = 0;
    }
    usleep(200 * 1000);
    zcopy_pool_get_stats(&a);
    for (i = 0; i < 3; i++)
        splice_checked("after the limit was freed", 3 << 20, 1000 + (uint64_t)i);
    zcopy_pool_get_stats(&b);
    n = pool_pipes(&min, &max, &sum);
    zt_info("after: %d pool pipes, largest %ld bytes; created +%llu", n, max, U(b.created - a.created));
    CHECK(max >= 1 << 20, "the pool grew its pipe back to 1 MiB once the limit was freed (largest %ld)", max);
    CHECK(b.created == a.created, "by growing the pipe it kept, not by making a new one (created +%llu)",
          U(b.created - a.created));
    zcopy_pool_drain();

    /* An explicit size is asked for every pipe: 40 pipes of 1 MiB (the
     * budget alone would give 16 of them 1 MiB, the rest less). */
    CHECK(zcopy_pool_configure(0, 1 << 20) == 0, "pipe_size 1 MiB set explicitly");
    for (i = 0; i < 40; i++)
        if (!(sp[i] = zcopy_splicer_new()))
            DIE("zcopy_splicer_new: %s", strerror(errno));
    n = pool_pipes(&min, &max, &sum);
    CHECK(n >= 40 && min >= 1 << 20, "an explicit pipe_size wins: %d pipes, smallest %ld bytes", n, min);
    for (i = 0; i < 40; i++)
        zcopy_splicer_free(sp[i]);
    zcopy_pool_drain();
}

int main(void)
{
    pid_t pid;
    int status, fd;
    zt_start("pipesoft", 120);
    /* Every fd open now is not the pool's (stdio, and pipes inherited from
     * the harness, such as a build tool's jobserver). */
    for (fd = 0; fd < MAXFD; fd++)
        mine[fd] = fcntl(fd, F_GETFD) >= 0;
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        if (getuid() == 0) {
            /* A uid no other process uses, so that only this child's pipes
             * count against that user's soft limit. */
            uid_t uid = (uid_t)(60000 + getpid() % 5000);
            if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)
                DIE("setuid(%d)", (int)uid);
        }
        unprivileged();
        fflush(stdout);
        _exit(zt_finish());
    }
    status = zt_wait_child(pid, 100);
    CHECK(status == 0, "the unprivileged child's checks passed (exit status %d)", status);
    return zt_finish();
}
