/*
 * relay_errors: bad arguments are errors (EBADF, EINVAL) that touch
 * nothing; a reset on either side ends both directions and names that fd
 * in error_fd; a peer that went away gives EPIPE/ECONNRESET and never a
 * SIGPIPE death (the default action stays installed here); fds closed
 * under a call are EBADF; nothing leaks.
 */
#include "relay_util.h"

static void bad_args(void)
{
    int a, ca, b, sb, closed, before;
    zcopy_options o;
    zcopy_relay_result r;
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    zt_set_nonblock(a, 0);
    before = zt_fd_count();

    r = zcopy_relay(-1, b, NULL);
    CHECK(r.error == EBADF && r.error_fd == -1 && r.a_to_b == 0 && r.b_to_a == 0,
          "a_fd -1: EBADF: " RL_FMT, RL_ARGS(r));
    r = zcopy_relay(a, -7, NULL);
    CHECK(r.error == EBADF && r.error_fd == -1, "b_fd -7: EBADF: " RL_FMT, RL_ARGS(r));
    r = zcopy_relay(a, a, NULL);
    CHECK(r.error == EINVAL && r.error_fd == -1, "a_fd == b_fd: EINVAL: " RL_FMT, RL_ARGS(r));
    closed = dup(a);
    close(closed);
    r = zcopy_relay(a, closed, NULL);
    CHECK(r.error == EBADF && r.error_fd == closed, "closed b_fd %d: EBADF naming it: " RL_FMT,
          closed, RL_ARGS(r));
    r = zcopy_relay(closed, b, NULL);
    CHECK(r.error == EBADF && r.error_fd == closed, "closed a_fd %d: EBADF naming it: " RL_FMT,
          closed, RL_ARGS(r));

    zcopy_options_init(&o);
    o.size = 16;
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == EINVAL && r.error_fd == -1, "options size 16: EINVAL: " RL_FMT, RL_ARGS(r));
    zcopy_options_init(&o);
    o.flags = 0x80;
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == EINVAL, "unknown option flag: EINVAL: " RL_FMT, RL_ARGS(r));
    zcopy_options_init(&o);
    o.idle_timeout_ms = -5;
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == EINVAL, "negative idle timeout: EINVAL: " RL_FMT, RL_ARGS(r));
    zcopy_options_init(&o);
    o.reserved = 1;
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == EINVAL, "reserved != 0: EINVAL: " RL_FMT, RL_ARGS(r));
    zcopy_options_init(&o);
    o.cancel_fd = closed;
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == EBADF && r.error_fd == -1, "closed cancel_fd: EBADF: " RL_FMT, RL_ARGS(r));

    CHECK(zt_fd_count() == before && !rl_nonblocking(a),
          "bad arguments leak no fd (%d -> %d) and leave the flags alone", before, zt_fd_count());
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* The peer of one side resets (SO_LINGER 0, close) while both directions
 * are open and bytes flow the other way: the relay ends with ECONNRESET
 * naming that side. */
struct resetter {
    pthread_t th;
    int fd;
};

static void *reset_main(void *arg)
{
    struct resetter *s = arg;
    struct linger lg = { 1, 0 };
    usleep(100000);
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(s->fd);
    return NULL;
}

static void reset_names_the_fd(int which)
{
    int a, ca, b, sb, other;
    struct resetter rs = { 0 };
    zcopy_options o;
    zcopy_relay_result r;
    const char *name = which == 0 ? "a" : "b";
    unsigned char junk[4096];
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    /* Some bytes in flight toward the side that stays. */
    memset(junk, 'j', sizeof junk);
    other = which == 0 ? sb : ca;
    rs.fd = which == 0 ? ca : sb;
    if (zt_write_all(rs.fd, junk, sizeof junk) != 0)
        DIE("write");
    if (pthread_create(&rs.th, NULL, reset_main, &rs) != 0)
        DIE("pthread_create");
    zcopy_options_init(&o);
    o.idle_timeout_ms = 5000;
    r = zcopy_relay(a, b, &o);
    zt_join(rs.th, 10, "resetter");
    CHECK(r.error == ECONNRESET && r.error_fd == (which == 0 ? a : b),
          "reset on %s's peer: ECONNRESET naming %s (fd %d): " RL_FMT, name, name,
          which == 0 ? a : b, RL_ARGS(r));
    CHECK((which == 0 ? r.a_to_b : r.b_to_a) == (int64_t)sizeof junk,
          "reset on %s's peer: the bytes it sent first were delivered", name);
    close(a);
    close(b);
    close(other);
}

/* A writer with SIGPIPE blocked in its own thread (the test's, not the
 * library's: its writes fail with EPIPE once the relay stops reading). */
static void *quiet_writer(void *arg)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    return zt_writer_main(arg);
}

/* The server's peer is gone for good (closed) while the client keeps
 * sending: writing to b fails with EPIPE or ECONNRESET, SIGPIPE has its
 * default action (death) and the process lives. */
static void peer_gone_no_sigpipe(int kind)
{
    size_t len = 8 << 20;
    unsigned char *data = zt_random_buf(len, 61);
    struct zt_writer w = { 0 };
    int a, ca, b, sb;
    zcopy_relay_result r;
    sigset_t pending;
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(kind, &b, &sb);
    close(sb);
    w.fd = ca;
    w.buf = data;
    w.len = len;
    w.chunk = 65536;
    if (pthread_create(&w.th, NULL, quiet_writer, &w) != 0)
        DIE("pthread_create");
    r = zcopy_relay(a, b, NULL);
    CHECK((r.error == EPIPE || r.error == ECONNRESET) && r.error_fd == b,
          "%s peer gone: EPIPE/ECONNRESET naming b, and no SIGPIPE killed us: " RL_FMT,
          rl_kind_name[kind], RL_ARGS(r));
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGPIPE), "%s peer gone: no SIGPIPE left pending",
          rl_kind_name[kind]);
    shutdown(ca, SHUT_RDWR); /* unblocks the writer */
    zt_join(w.th, 30, "writer");
    free(data);
    close(a);
    close(b);
    close(ca);
}

/* An fd closed by another thread during the call: EBADF, no hang. */
struct closer {
    pthread_t th;
    int fd;
};

static void *close_main(void *arg)
{
    struct closer *c = arg;
    usleep(100000);
    close(c->fd);
    return NULL;
}

static void closed_during_call(void)
{
    int a, ca, b, sb;
    struct closer c = { 0 };
    zcopy_options o;
    zcopy_relay_result r;
    rl_conn(RL_UNIX, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    c.fd = b;
    if (pthread_create(&c.th, NULL, close_main, &c) != 0)
        DIE("pthread_create");
    zcopy_options_init(&o);
    o.idle_timeout_ms = 1500;
    r = zcopy_relay(a, b, &o);
    zt_join(c.th, 10, "closer");
    /* poll(2) does not notice a close in another thread; the idle timeout
     * (or a later syscall on the fd) ends the call. */
    CHECK(r.error == EBADF || r.error == ETIMEDOUT,
          "fd closed by another thread during the call: ends (EBADF or the idle timeout): " RL_FMT,
          RL_ARGS(r));
    close(a);
    close(ca);
    close(sb);
}

int main(void)
{
    zt_start("relay_errors", 120);
    signal(SIGPIPE, SIG_DFL);
    bad_args();
    reset_names_the_fd(0);
    reset_names_the_fd(1);
    peer_gone_no_sigpipe(RL_TCP);
    peer_gone_no_sigpipe(RL_UNIX);
    closed_during_call();
    return zt_finish();
}
