/*
 * held_discard.c: zcopy_held_discard (issue 24). A caller that gives up on
 * a stream after an EINTR or EAGAIN return drops the bytes kept in flight
 * for it, and with them their pipe: no fd stays behind.
 * - zcopy_splice_opts with ZCOPY_OPT_NOWAIT into a full socket keeps bytes
 *   (zcopy_held > 0); zcopy_held_discard returns that many, zcopy_held is
 *   0 after, the fd count is back where it was before the call.
 * - zcopy_relay with ZCOPY_OPT_EINTR interrupted by a signal (no
 *   SA_RESTART) while it holds bytes for a stalled peer keeps the relay;
 *   zcopy_held_discard(a, b) (or (b, a)) drops it and its pipe.
 * - Negative fds are EBADF; a pair with nothing kept gives 0.
 */
#include "relay_util.h"

static void on_usr1(int sig) { (void)sig; }

static size_t fill(int fd)
{
    static unsigned char buf[65536];
    size_t total = 0;
    ssize_t n;
    zt_set_nonblock(fd, 1);
    while ((n = write(fd, buf, sizeof buf)) > 0)
        total += (size_t)n;
    return total;
}

static void nowait_case(void)
{
    int src[2], dst[2], before;
    zcopy_options o;
    zcopy_result r;
    int64_t held, dropped;
    static unsigned char data[1 << 20];

    zt_unix_pair(src);
    zt_unix_pair(dst);
    zt_set_buf(dst[0], SO_SNDBUF, 4096);
    fill(dst[0]); /* dst is full: a take cannot be delivered */
    before = zt_fd_count();
    zt_set_nonblock(src[0], 1);
    if (write(src[0], data, 200000) <= 0)
        DIE("write src");
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_NOWAIT;
    r = zcopy_splice_opts(dst[0], src[1], 1 << 20, &o);
    held = zcopy_held(dst[0], src[1]);
    CHECK(r.error == EAGAIN && held > 0, "NOWAIT into a full socket keeps bytes (" ZT_RES_FMT ", held %lld)",
          ZT_RES_ARGS(r), (long long)held);
    dropped = zcopy_held_discard(dst[0], src[1]);
    CHECK(dropped == held, "zcopy_held_discard drops them all (%lld of %lld)", (long long)dropped, (long long)held);
    CHECK(zcopy_held(dst[0], src[1]) == 0, "nothing is held after it");
    CHECK(zt_fd_count() == before, "no fd stays behind (%d, before the call %d)", zt_fd_count(), before);
    CHECK(zcopy_held_discard(dst[0], src[1]) == 0, "a second discard finds nothing");
    close(src[0]);
    close(src[1]);
    close(dst[0]);
    close(dst[1]);
}

struct relay_arg {
    int a, b;
    zcopy_relay_result r;
    int64_t held_after, dropped, fds_before, fds_after;
};

static void *relay_main(void *p)
{
    struct relay_arg *x = p;
    zcopy_options o;
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_EINTR;
    o.idle_timeout_ms = 10000;
    x->fds_before = zt_fd_count();
    x->r = zcopy_relay(x->a, x->b, &o);
    /* Still on the relay's thread: what it kept is this thread's. */
    x->dropped = zcopy_held_discard(x->b, x->a); /* either order */
    x->fds_after = zt_fd_count();
    return NULL;
}

static void relay_case(void)
{
    struct ends_s { int c, a, b, s; } e;
    struct relay_arg x;
    pthread_t th;
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = 0; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    rl_conn(RL_UNIX, &e.a, &e.c);
    rl_conn(RL_UNIX, &e.b, &e.s);
    zt_set_buf(e.b, SO_SNDBUF, 4096);
    memset(&x, 0, sizeof x);
    x.a = e.a;
    x.b = e.b;
    if (pthread_create(&th, NULL, relay_main, &x) != 0)
        DIE("pthread_create");
    fill(e.c); /* the upstream (s) reads nothing: the relay holds bytes for it */
    usleep(zt_valgrind() ? 800000 : 150000);
    pthread_kill(th, SIGUSR1);
    zt_join(th, 10, "relay");
    CHECK(x.r.error == EINTR, "the relay returns EINTR holding bytes (" RL_FMT ")", RL_ARGS(x.r));
    CHECK(x.dropped > 0, "zcopy_held_discard(b, a) drops the kept relay's %lld bytes", (long long)x.dropped);
    CHECK(x.fds_after == x.fds_before, "no fd stays behind (%lld, before the relay %lld)",
          (long long)x.fds_after, (long long)x.fds_before);
    close(e.a);
    close(e.b);
    close(e.c);
    close(e.s);
}

int main(void)
{
    zt_start("held_discard", 120);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    CHECK(zcopy_held_discard(-1, 0) == -1 && errno == EBADF, "a negative fd is -1 with EBADF");
    CHECK(zcopy_held_discard(0, 1) == 0, "a pair with nothing kept gives 0");
    nowait_case();
    relay_case();
    return zt_finish();
}
