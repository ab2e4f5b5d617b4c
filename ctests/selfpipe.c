/*
 * selfpipe.c: a pipe spliced into itself is EINVAL, at once, with its
 * bytes untouched, however the two fds were opened: a FIFO opened O_RDWR
 * (the usual way to open a FIFO without blocking), one fd passed as both
 * dst and src, or a pipe reopened O_RDWR through /proc/self/fd. Every byte
 * would otherwise go round for ever through a pooled pipe.
 */
#include "zc_test.h"

struct call {
    pthread_t th;
    int dst, src;
    int copy; /* zcopy_copy instead of zcopy_splice */
    zcopy_result r;
};

static void *call_main(void *arg)
{
    struct call *c = arg;
    c->r = c->copy ? zcopy_copy(c->dst, c->src, ZCOPY_ALL) : zcopy_splice(c->dst, c->src, ZCOPY_ALL);
    return NULL;
}

/* Runs the call in a thread: one that loops for ever fails the join. */
static void expect_einval(const char *label, int dst, int src, int wr, int rd)
{
    static const char msg[] = "bytes that must stay where they are";
    char got[sizeof msg + 8];
    int i;
    for (i = 0; i < 2; i++) {
        struct call c;
        double t0;
        ssize_t n;
        memset(&c, 0, sizeof c);
        c.dst = dst;
        c.src = src;
        c.copy = i;
        if (zt_write_all(wr, msg, sizeof msg) < 0)
            DIE("write");
        t0 = zt_now();
        if (pthread_create(&c.th, NULL, call_main, &c))
            DIE("pthread_create");
        zt_join(c.th, 5, label);
        CHECK(c.r.handled && c.r.error == EINVAL && c.r.written == 0,
              "%s, %s: EINVAL at once (%.3f s): " ZT_RES_FMT, label, i ? "zcopy_copy" : "zcopy_splice",
              zt_now() - t0, ZT_RES_ARGS(c.r));
        zt_set_nonblock(rd, 1);
        n = read(rd, got, sizeof got);
        CHECK(n == (ssize_t)sizeof msg && memcmp(got, msg, sizeof msg) == 0,
              "%s, %s: the pipe still holds its %zu bytes, in order (read %zd)", label,
              i ? "zcopy_copy" : "zcopy_splice", sizeof msg, n);
    }
}

int main(void)
{
    char path[64], proc[64];
    int fifo, p[2], rw, fds_before;
    zt_start("selfpipe", 60);
    fds_before = zt_fd_count();

    snprintf(path, sizeof path, "/tmp/zcopy-selfpipe-%d", (int)getpid());
    unlink(path);
    if (mkfifo(path, 0600) < 0)
        DIE("mkfifo");
    fifo = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fifo < 0)
        DIE("open fifo");
    expect_einval("FIFO opened O_RDWR|O_NONBLOCK, one fd both ways", fifo, fifo, fifo, fifo);
    close(fifo);
    fifo = open(path, O_RDWR | O_CLOEXEC);
    if (fifo < 0)
        DIE("open fifo");
    rw = open(path, O_RDWR | O_CLOEXEC);
    if (rw < 0)
        DIE("open fifo");
    expect_einval("FIFO opened O_RDWR twice (blocking)", rw, fifo, fifo, fifo);
    zt_set_nonblock(fifo, 0); /* (the read above made it non-blocking) */
    expect_einval("FIFO opened O_RDWR (blocking), one fd both ways", fifo, fifo, fifo, fifo);
    close(rw);
    close(fifo);
    unlink(path);

    zt_pipe(p);
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", p[0]);
    rw = open(proc, O_RDWR | O_CLOEXEC);
    if (rw < 0)
        DIE("open %s", proc);
    expect_einval("pipe reopened O_RDWR via /proc/self/fd, one fd both ways", rw, rw, p[1], p[0]);
    expect_einval("pipe reopened O_RDWR via /proc/self/fd, into its read end", rw, p[0], p[1], p[0]);
    expect_einval("pipe reopened O_RDWR via /proc/self/fd, from its write end", p[1], rw, p[1], p[0]);
    close(rw);
    close(p[0]);
    close(p[1]);
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "no fd leaked: %d, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}
