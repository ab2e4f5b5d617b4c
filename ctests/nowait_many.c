/*
 * nowait_many.c: ZCOPY_OPT_NOWAIT from one event-loop thread over many
 * connections at once, where many pairs hold bytes in flight together.
 *
 * - 64 socket -> socket streams (TCP loopback, small buffers) driven by one
 *   poll loop calling zcopy_splice_opts with NOWAIT; zcopy_held picks POLLOUT
 *   on dst (bytes held) or POLLIN on src (none). Every byte of every stream
 *   is checked. (Before, a thread kept 8 pairs and dropped the oldest's
 *   bytes on a 9th: these streams came out with holes.)
 * - The same with zcopy_copy_opts into ptys: the read/write buffer's tail.
 * - The bound: pairs keep being parked until the call on a new pair is
 *   refused with ENOBUFS at the documented 1024, and that call took nothing
 *   from src; every parked pair still holds its bytes; once a dst fd is
 *   closed and its number reused, zcopy_held says 0 and the refused pair
 *   gets in.
 * - zcopy_held with a negative fd: -1, EBADF; in a forked child: 0.
 */
#include "zc_test.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

#define CONNS 64
#define BOUND 1024 /* documented: pairs a thread keeps with bytes held */

struct conn {
    int prod, src, dst, cons; /* prod -> src (TCP), dst -> cons */
    size_t sent, got;
    int relay_done, cons_done;
    unsigned char *data;
};

static zcopy_options nowait_opts(void)
{
    zcopy_options o;
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_NOWAIT;
    return o;
}

/* A raw-mode pty: *slave (the dst, non-blocking), returns the master. */
static int raw_pty(int *slave)
{
    struct termios tio;
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        DIE("posix_openpt");
    *slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (*slave < 0 || tcgetattr(*slave, &tio) != 0)
        DIE("pty slave");
    cfmakeraw(&tio);
    if (tcsetattr(*slave, TCSANOW, &tio) != 0)
        DIE("tcsetattr");
    zt_set_nonblock(master, 1);
    return master;
}

static void open_conn(struct conn *c, int pty, size_t n, uint64_t seed)
{
    int a[2], b[2];
    memset(c, 0, sizeof *c);
    zt_tcp_pair(a);
    c->prod = a[0];
    c->src = a[1];
    if (pty) {
        c->cons = raw_pty(&c->dst);
    } else {
        zt_tcp_pair_rcvbuf(b, 4096);
        c->cons = b[0];
        c->dst = b[1];
        zt_set_buf(c->dst, SO_SNDBUF, 4096);
    }
    zt_set_nonblock(c->prod, 1);
    zt_set_nonblock(c->src, 1);
    zt_set_nonblock(c->dst, 1);
    zt_set_nonblock(c->cons, 1);
    c->data = zt_random_buf(n, seed);
}

/* One poll loop moves every stream. Returns the most pairs seen holding
 * bytes at once; *bad counts streams that arrived wrong. */
static int run_streams(int pty, size_t n, int *bad, int *errors)
{
    struct conn c[CONNS];
    struct pollfd p[CONNS * 3];
    zcopy_options o = nowait_opts();
    int most_held = 0, rounds = 0, idle = 0;
    unsigned char buf[8192];
    *bad = 0;
    *errors = 0;
    for (int i = 0; i < CONNS; i++)
        open_conn(&c[i], pty, n, 900 + (uint64_t)i);
    /* Invariant: c[i].got bytes reached cons equal to data[0..got); the
     * library holds what src gave up and dst did not take yet. */
    for (;;) {
        int live = 0, held_now = 0;
        for (int i = 0; i < CONNS; i++) {
            int64_t h = zcopy_held(c[i].dst, c[i].src);
            if (h < 0) {
                (*errors)++;
                h = 0;
            }
            held_now += h > 0;
            p[3 * i] = (struct pollfd){ c[i].sent < n ? c[i].prod : -1, POLLOUT, 0 };
            /* The recipe: bytes held -> wait for dst; none -> for src. */
            p[3 * i + 1] = (struct pollfd){ c[i].relay_done ? -1 : h > 0 ? c[i].dst : c[i].src,
                                            h > 0 ? POLLOUT : POLLIN, 0 };
            p[3 * i + 2] = (struct pollfd){ c[i].cons_done ? -1 : c[i].cons, POLLIN, 0 };
            live += !c[i].cons_done;
        }
        if (held_now > most_held)
            most_held = held_now;
        if (live == 0 || ++rounds > 2000000 || idle > 20)
            break;
        int r = poll(p, CONNS * 3, 500);
        idle = r == 0 ? idle + 1 : 0;
        /* Relays first, over every ready connection, consumers last and a
         * little at a time: many dsts stay full, many pairs hold bytes. */
        for (int i = 0; i < CONNS; i++) {
            if (p[3 * i].revents) {
                size_t k = n - c[i].sent < 32768 ? n - c[i].sent : 32768;
                ssize_t w = send(c[i].prod, c[i].data + c[i].sent, k, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (w > 0)
                    c[i].sent += (size_t)w;
                if (c[i].sent == n)
                    shutdown(c[i].prod, SHUT_WR);
            }
            if (p[3 * i + 1].revents) {
                zcopy_result t = pty ? zcopy_copy_opts(c[i].dst, c[i].src, ZCOPY_ALL, &o)
                                     : zcopy_splice_opts(c[i].dst, c[i].src, ZCOPY_ALL, &o);
                if (t.error == 0) {
                    c[i].relay_done = 1; /* src's EOF, all delivered */
                    if (!pty)
                        shutdown(c[i].dst, SHUT_WR);
                } else if (t.error != EAGAIN || !t.handled) {
                    (*errors)++;
                    c[i].relay_done = 1;
                }
            }
        }
        for (int i = 0; i < CONNS; i++) {
            if (!p[3 * i + 2].revents)
                continue;
            ssize_t k = read(c[i].cons, buf, sizeof buf);
            if (k > 0) {
                if (c[i].got + (size_t)k > n || memcmp(buf, c[i].data + c[i].got, (size_t)k) != 0)
                    c[i].cons_done = 1, (*bad)++;
                c[i].got += (size_t)k;
            }
            if (k == 0 || (pty && c[i].got == n && c[i].relay_done))
                c[i].cons_done = 1;
        }
    }
    for (int i = 0; i < CONNS; i++) {
        if (c[i].got != n || !c[i].cons_done) {
            if (*bad < 100)
                zt_info("stream %d: %zu of %zu bytes arrived (sent %zu)", i, c[i].got, n, c[i].sent);
            (*bad)++;
        }
        close(c[i].prod);
        close(c[i].src);
        close(c[i].dst);
        close(c[i].cons);
        free(c[i].data);
    }
    return most_held;
}

static void many_socket_pairs_lose_nothing(void)
{
    size_t n = (size_t)zt_vg(256 << 10, 8);
    int bad, errors;
    int most = run_streams(0, n, &bad, &errors);
    CHECK(bad == 0 && errors == 0,
          "splice_opts NOWAIT, %d TCP streams on one thread: every byte of each arrives in order "
          "(%d wrong, %d errors)",
          CONNS, bad, errors);
    CHECK(most > 8, "... with up to %d pairs holding bytes at once (more than the old 8)", most);
}

static void many_pty_pairs_lose_nothing(void)
{
    size_t n = (size_t)zt_vg(128 << 10, 8);
    int bad, errors;
    int most = run_streams(1, n, &bad, &errors);
    CHECK(bad == 0 && errors == 0,
          "copy_opts NOWAIT, %d socket -> pty streams (read/write) on one thread: every byte "
          "arrives (%d wrong, %d errors)",
          CONNS, bad, errors);
    CHECK(most > 8, "... with up to %d pairs holding bytes at once", most);
}

static int unread(int fd)
{
    int n = -1;
    ioctl(fd, FIONREAD, &n);
    return n;
}

/* Fills a pty until, after a pause, it still takes nothing. */
static void fill_pty(int slave)
{
    static char junk[4096];
    for (int quiet = 0, rounds = 0; quiet < 3 && rounds < 200; rounds++) {
        ssize_t w = write(slave, junk, sizeof junk);
        quiet = w <= 0 ? quiet + 1 : 0;
        if (w <= 0)
            usleep(10000);
    }
}

#define GRID 64

static void the_bound_refuses_before_taking(void)
{
    int slave, master = raw_pty(&slave), s[2], dsts[GRID + 1], srcs[GRID];
    int parked = 0, refused = 0, lost = 0, tries = 0, rd = -1, rj = -1;
    int64_t held_sum = 0;
    zcopy_options o = nowait_opts();
    zcopy_result last = { 0 };
    fill_pty(slave);
    zt_unix_pair(s);
    zt_set_nonblock(s[1], 1);
    for (int i = 0; i <= GRID; i++)
        dsts[i] = dup(slave);
    for (int i = 0; i < GRID; i++)
        srcs[i] = dup(s[1]);
    /* Invariant: `parked` pairs hold 3 bytes each; src is empty between
     * calls. Each call reads the 3 bytes just sent, the full pty takes
     * none: they are parked. */
    for (int d = 0; d < GRID && !refused; d++) {
        for (int j = 0; j < GRID && !refused; j++) {
            tries++;
            if (send(s[0], "abc", 3, 0) != 3)
                DIE("send");
            last = zcopy_copy_opts(dsts[d], srcs[j], ZCOPY_ALL, &o);
            if (last.error == ENOBUFS) {
                refused = 1;
                rd = d;
                rj = j;
                break;
            }
            int64_t h = zcopy_held(dsts[d], srcs[j]);
            if (last.error == EAGAIN && h == 3)
                parked++;
            else if (h != 0 || unread(s[1]) != 0)
                lost++;
            char junk[8];
            while (recv(s[1], junk, sizeof junk, MSG_DONTWAIT) > 0)
                lost++; /* the call left bytes in src: not what we drive */
        }
    }
    CHECK(refused && parked == BOUND && last.written == 0 && last.handled,
          "the %dth pair with bytes held on one thread is refused: ENOBUFS, handled, nothing written "
          "(%d parked, %d tries, " ZT_RES_FMT ")",
          BOUND + 1, parked, tries, ZT_RES_ARGS(last));
    CHECK(unread(s[1]) == 3, "the refused call took nothing from src (%d bytes still there)", unread(s[1]));
    for (int d = 0; d < GRID; d++)
        for (int j = 0; j < GRID; j++)
            held_sum += zcopy_held(dsts[d], srcs[j]);
    CHECK(held_sum == 3 * BOUND && lost == 0,
          "every parked pair still holds its 3 bytes (%lld in all, %d odd calls)", (long long)held_sum,
          lost);
    /* dsts[0]'s number now names another file (a pipe): its pairs' bytes
     * can never be delivered, so they no longer count. */
    int pp[2];
    zt_pipe(pp);
    int h0 = (int)zcopy_held(dsts[0], srcs[0]);
    if (dup2(pp[1], dsts[0]) != dsts[0])
        DIE("dup2");
    CHECK(h0 == 3 && zcopy_held(dsts[0], srcs[0]) == 0,
          "zcopy_held after the dst fd was closed and its number reused: 0 (was %d)", h0);
    /* The pair refused before gets in now: the dead entries made room. */
    if (!refused)
        DIE("no refusal to retry");
    zcopy_result r = zcopy_copy_opts(dsts[rd], srcs[rj], ZCOPY_ALL, &o);
    CHECK(r.error == EAGAIN && zcopy_held(dsts[rd], srcs[rj]) == 3 && unread(s[1]) == 0,
          "with pairs of reused fds dropped, the refused pair is parked: " ZT_RES_FMT, ZT_RES_ARGS(r));
    /* Drain the pty and deliver one held pair: its bytes come out. */
    char buf[65536];
    for (int quiet = 0; quiet < 3;) {
        if (read(master, buf, sizeof buf) > 0) {
            quiet = 0;
        } else {
            quiet++;
            usleep(10000);
        }
    }
    r = zcopy_copy_opts(dsts[1], srcs[0], 3, &o);
    CHECK(r.error == 0 && r.written == 3 && zcopy_held(dsts[1], srcs[0]) == 0,
          "a held pair delivers its bytes once dst has room: " ZT_RES_FMT, ZT_RES_ARGS(r));
    usleep(20000);
    ssize_t k = read(master, buf, sizeof buf);
    CHECK(k == 3 && memcmp(buf, "abc", 3) == 0, "... and they are the bytes src gave (%zd read)", k);
    for (int i = 0; i <= GRID; i++)
        close(dsts[i]);
    for (int i = 0; i < GRID; i++)
        close(srcs[i]);
    close(pp[0]);
    close(pp[1]);
    close(s[0]);
    close(s[1]);
    close(slave);
    close(master);
}

/* A forked child does not see (nor deliver) what the parent's thread
 * holds: the parent still owns that stream. */
static void a_forked_child_holds_nothing(void)
{
    int slave, master = raw_pty(&slave), s[2], status = -1;
    zcopy_options o = nowait_opts();
    fill_pty(slave);
    zt_unix_pair(s);
    if (send(s[0], "xyz", 3, 0) != 3)
        DIE("send");
    zcopy_result r = zcopy_copy_opts(slave, s[1], ZCOPY_ALL, &o);
    int64_t before = zcopy_held(slave, s[1]);
    pid_t pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0)
        _exit(zcopy_held(slave, s[1]) == 0 ? 0 : 1);
    waitpid(pid, &status, 0);
    CHECK(r.error == EAGAIN && before == 3 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
              zcopy_held(slave, s[1]) == 3,
          "fork: the child holds nothing of the parent's pair, the parent still 3 bytes "
          "(status %d, " ZT_RES_FMT ")",
          status, ZT_RES_ARGS(r));
    close(s[0]);
    close(s[1]);
    close(slave);
    close(master);
}

static void held_bad_arguments(void)
{
    int p[2];
    zt_pipe(p);
    errno = 0;
    int64_t a = zcopy_held(-1, p[0]);
    int ea = errno;
    errno = 0;
    int64_t b = zcopy_held(p[1], -7);
    int eb = errno;
    CHECK(a == -1 && ea == EBADF && b == -1 && eb == EBADF,
          "zcopy_held with a negative fd: -1, EBADF (%lld/%d, %lld/%d)", (long long)a, ea, (long long)b,
          eb);
    errno = 0;
    CHECK(zcopy_held(p[1], p[0]) == 0 && errno == 0, "zcopy_held with nothing held: 0, errno untouched");
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    zt_start("nowait_many", 120);
    signal(SIGPIPE, SIG_IGN);
    /* 64 KiB pooled pipes: 64 of them held at once stay far below
     * pipe-user-pages-soft (shared by every process of this user). */
    if (zcopy_pool_configure(0, 65536) != 0)
        DIE("zcopy_pool_configure");
    held_bad_arguments();
    many_socket_pairs_lose_nothing();
    many_pty_pairs_lose_nothing();
    the_bound_refuses_before_taking();
    a_forked_child_holds_nothing();
    return zt_finish();
}
