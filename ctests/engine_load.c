/*
 * engine_load.c: 2 000 relays at once on one engine (TCP and unix
 * sockets, RLIMIT_NOFILE raised), every byte intact, done once each,
 * stats consistent (active, finished, bytes), pipes_in_use back to 0, RSS
 * growth under 8 KiB per idle relay. Then, as an unprivileged user (fork
 * and setuid(65534) when run as root) whose pipe-user-pages-soft is
 * already used up (new pipes get 2 pages and cannot grow): relays still
 * splice through pipes and every byte arrives.
 */
#include "engine.h"
#include <grp.h>

static int load_failed;

/* Runs n relays with `len` bytes each way (every 50th one `big`), on a
 * fresh engine; returns the number of failed checks. */
static void run_relays(const char *who, int n, size_t len, size_t big, int measure_rss)
{
    zcopy_engine *e = zcopy_engine_new(2);
    struct ends *x = calloc((size_t)n, sizeof *x);
    struct done_rec *d = calloc((size_t)n, sizeof *d);
    struct flow *fl = calloc((size_t)n * 2, sizeof *fl);
    zcopy_engine_stats st;
    uint64_t total = 0;
    long rss0 = 0, rss1;
    int i, ok = 1, once = 1, right = 0, bad;
    if (!e || !x || !d || !fl)
        DIE("%s: setup", who);
    for (i = 0; i < n; i++) {
        size_t l = i % 50 == 49 ? big : len;
        ends_open(&x[i], i % 10 == 0 ? E_TCP : E_UNIX, i % 10 < 2 ? E_TCP : E_UNIX);
        rec_init(&d[i]);
        flow_set(&fl[2 * i], x[i].c, (uint32_t)(2 * i), l, (uint32_t)(2 * i + 1), l + (size_t)i % 7);
        flow_set(&fl[2 * i + 1], x[i].s, (uint32_t)(2 * i + 1), l + (size_t)i % 7, (uint32_t)(2 * i), l);
        total += 2 * l + (size_t)i % 7;
    }
    /* A first relay warms the threads up (stacks, malloc arenas). */
    {
        struct ends w;
        struct done_rec dw;
        ends_open(&w, E_UNIX, E_UNIX);
        rec_init(&dw);
        zcopy_engine_add(e, w.a, w.b, NULL, rec_done, &dw);
        shutdown(w.c, SHUT_WR);
        shutdown(w.s, SHUT_WR);
        rec_wait(&dw, 5);
        ends_close(&w);
    }
    rss0 = zt_rss();
    for (i = 0; i < n; i++)
        ok &= zcopy_engine_add(e, x[i].a, x[i].b, NULL, rec_done, &d[i]) == 0;
    CHECK(ok, "%s: %d adds", who, n);
    usleep(300000);
    rss1 = zt_rss();
    zcopy_engine_get_stats(e, &st);
    CHECK(st.active == (uint64_t)n && st.pipes_in_use == 0,
          "%s: %d idle relays: active=%llu, pipes_in_use=%llu", who, n, (unsigned long long)st.active,
          (unsigned long long)st.pipes_in_use);
    if (measure_rss && !zt_valgrind())
        CHECK(rss1 - rss0 < 8192L * n, "%s: RSS grew %ld bytes per idle relay (< 8192)", who,
              (rss1 - rss0) / n);
    bad = zt_drive(fl, 2 * n, 120);
    CHECK(bad == 0, "%s: every byte of %d relays arrived intact, then EOF (%d flows wrong)", who, n, bad);
    for (i = 0; i < n; i++)
        rec_wait(&d[i], 10);
    usleep(50000);
    for (i = 0; i < n; i++) {
        size_t l = i % 50 == 49 ? big : len;
        once &= rec_calls(&d[i]) == 1;
        right += d[i].r.error == 0 && d[i].r.a_to_b == (int64_t)l &&
                 d[i].r.b_to_a == (int64_t)(l + (size_t)i % 7);
    }
    CHECK(once, "%s: done called exactly once per relay", who);
    CHECK(right == n, "%s: %d of %d results exact", who, right, n);
    zcopy_engine_get_stats(e, &st);
    CHECK(st.active == 0 && st.finished == (uint64_t)n + 1 && st.bytes == total && st.pipes_in_use == 0,
          "%s: stats active=%llu finished=%llu bytes=%llu (want %llu) pipes_in_use=%llu", who,
          (unsigned long long)st.active, (unsigned long long)st.finished,
          (unsigned long long)st.bytes, (unsigned long long)total,
          (unsigned long long)st.pipes_in_use);
    zcopy_engine_free(e);
    for (i = 0; i < n; i++)
        ends_close(&x[i]);
    free(x);
    free(d);
    free(fl);
}

/* Uses up this user's pipe-user-pages-soft with 1 MiB pipes; returns how
 * many pipes it holds (their fds stay open until exit). */
static int use_up_pipe_pages(void)
{
    int n = 0, p[2];
    while (n < 400 && pipe2(p, O_CLOEXEC) == 0) {
        n++;
        if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0)
            break;
    }
    return n;
}

static void unprivileged(void)
{
    pid_t pid;
    int status;
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        zcopy_pool_stats ps0, ps1;
        int held, p[2], size;
        if (getuid() == 0) {
            setgroups(0, NULL);
            if (setgid(65534) != 0 || setuid(65534) != 0)
                DIE("setuid(65534)");
        }
        CHECK(getuid() != 0, "unprivileged: running as uid %d", (int)getuid());
        held = use_up_pipe_pages();
        if (pipe2(p, O_CLOEXEC) != 0)
            DIE("pipe2");
        size = fcntl(p[1], F_GETPIPE_SZ);
        close(p[0]);
        close(p[1]);
        zt_info("unprivileged: holding %d 1 MiB pipes; a new pipe now gets %d bytes", held, size);
        CHECK(size <= 8192, "unprivileged: past pipe-user-pages-soft (new pipes get %d bytes)", size);
        zcopy_pool_get_stats(&ps0);
        run_relays("unprivileged", (int)zt_vg(200, 4), (size_t)zt_vg(256 << 10, 8), 1 << 20, 0);
        zcopy_pool_get_stats(&ps1);
        CHECK(ps1.created > ps0.created, "unprivileged: the relays spliced through pool pipes (%llu made)",
              (unsigned long long)(ps1.created - ps0.created));
        fflush(stdout);
        _exit(zt_failed ? 1 : 0);
    }
    if (waitpid(pid, &status, 0) != pid)
        DIE("waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unprivileged: the child's checks passed (status %d)",
          status);
    load_failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    int n = (int)zt_vg(2000, 10);
    long lim;
    zt_start("engine_load", 600);
    lim = zt_raise_nofile(4L * n + 1000);
    if (lim < 4L * n + 100)
        DIE("RLIMIT_NOFILE %ld is too low for %d relays", lim, n);
    unprivileged();
    run_relays("load", n, 8192, 512 << 10, 1);
    return zt_finish();
}
