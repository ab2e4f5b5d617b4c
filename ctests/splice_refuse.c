/*
 * splice_refuse.c: every fd pair that splice(2) refuses is refused by
 * zcopy_splice at once, never after a wait (issue 23's defect: an empty
 * pipe into an eventfd, epoll, timerfd, signalfd or pidfd waited for data
 * where splice(2) answers EINVAL at once).
 *
 * The fd kinds are those of LTP's splice07 (testcases/kernel/syscalls/
 * splice/splice07.c, which feeds splice(2) every pair of them and expects
 * EINVAL or EBADF), made here with our own code; kinds this kernel or
 * sandbox cannot make are listed and left out. As splice07 does, the pairs
 * where splice(2) itself would wait (an empty pipe into a file, a pipe, a
 * socket, a memfd) or succeed are not asked. For each other pair:
 * splice(2) is asked first in a child (bounded); where it refuses,
 * zcopy_splice(dst, src, 1) runs in a child too and must return within
 * 200 ms. With a pipe on either side it must refuse as splice(2) does
 * (EINVAL or EBADF, nothing moved); between two non-pipes it may serve the
 * pair through its pool (a file into a file: 1 byte moved, or 0 at end
 * of file), but never waits.
 */
#include "zc_test.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <linux/perf_event.h>

enum kind { K_FILE, K_PATH, K_DIR, K_DEV_ZERO, K_PROC_MAPS, K_PIPE_READ, K_PIPE_WRITE, K_UNIX, K_INET, K_EPOLL,
            K_EVENTFD, K_SIGNALFD, K_TIMERFD, K_PIDFD, K_FANOTIFY, K_INOTIFY, K_USERFAULTFD, K_PERF, K_IO_URING,
            K_MEMFD, K_MEMFD_SECRET, K_COUNT };

static const char *const names[K_COUNT] = { "file", "O_PATH", "directory", "/dev/zero", "/proc/self/maps",
                                            "pipe read end", "pipe write end", "unix socket", "inet socket", "epoll",
                                            "eventfd", "signalfd", "timerfd", "pidfd", "fanotify", "inotify",
                                            "userfaultfd", "perf event", "io_uring", "memfd", "memfd_secret" };
static int fds[K_COUNT];

static int make(enum kind k, int pipefds[2])
{
    switch (k) {
    case K_FILE: return zt_file_with("data", 4);
    case K_PATH: return open("/tmp", O_PATH | O_CLOEXEC);
    case K_DIR: return open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    case K_DEV_ZERO: return open("/dev/zero", O_RDONLY | O_CLOEXEC);
    case K_PROC_MAPS: return open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    case K_PIPE_READ: return pipefds[0];
    case K_PIPE_WRITE: return pipefds[1];
    case K_UNIX: return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    case K_INET: return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    case K_EPOLL: return epoll_create1(EPOLL_CLOEXEC);
    case K_EVENTFD: return eventfd(0, EFD_CLOEXEC);
    case K_SIGNALFD: {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR2);
        return signalfd(-1, &s, SFD_CLOEXEC);
    }
    case K_TIMERFD: return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    case K_PIDFD: return (int)syscall(SYS_pidfd_open, getpid(), 0);
    case K_FANOTIFY: return (int)syscall(SYS_fanotify_init, 0 /* FAN_CLASS_NOTIF */, O_RDONLY);
    case K_INOTIFY: return inotify_init1(IN_CLOEXEC);
    case K_USERFAULTFD: return (int)syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
    case K_PERF: {
        struct perf_event_attr a;
        memset(&a, 0, sizeof a);
        a.type = PERF_TYPE_SOFTWARE;
        a.size = sizeof a;
        a.config = PERF_COUNT_SW_CPU_CLOCK;
        a.disabled = 1;
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    }
    case K_IO_URING: {
        unsigned char params[120]; /* struct io_uring_params */
        memset(params, 0, sizeof params);
        return (int)syscall(425 /* io_uring_setup */, 1, params);
    }
    case K_MEMFD: return memfd_create("splice_refuse", MFD_CLOEXEC);
    case K_MEMFD_SECRET: return (int)syscall(447 /* memfd_secret */, 0);
    default: return -1;
    }
}

/* splice(2) on the pair in a child, bounded: its errno, 0 on success, -1
 * when it did not return within a second (it waits). */
static int raw_splice(int in, int out)
{
    pid_t pid = fork();
    int st;
    if (pid == 0) {
        ssize_t n;
        alarm(1);
        n = splice(in, NULL, out, NULL, 1, 0);
        _exit(n < 0 ? (errno & 0x7f) : 0);
    }
    st = zt_wait_child(pid, 3);
    return st;
}

/* zcopy_splice(out, in, 1) in a child: the result through a pipe, the time
 * it took; *ok 0 when it did not return within `limit` seconds. */
static zcopy_result zc_splice(int in, int out, double limit, double *took, int *ok)
{
    int p[2];
    zcopy_result r;
    double t0;
    pid_t pid;
    memset(&r, 0, sizeof r);
    if (pipe2(p, O_CLOEXEC) != 0)
        DIE("pipe2: %s\n", strerror(errno));
    t0 = zt_now();
    pid = fork();
    if (pid == 0) {
        zcopy_result c = zcopy_splice(out, in, 1);
        if (write(p[1], &c, sizeof c) != (ssize_t)sizeof c)
            _exit(2);
        _exit(0);
    }
    close(p[1]);
    *ok = zt_wait_child(pid, limit) == 0 && read(p[0], &r, sizeof r) == (ssize_t)sizeof r;
    *took = zt_now() - t0;
    close(p[0]);
    return r;
}

/* The pairs splice07 leaves out: splice(2) waits for an empty pipe there,
 * or succeeds. */
static int skipped(enum kind in, enum kind out)
{
    if (in == K_PIPE_READ &&
        (out == K_FILE || out == K_PIPE_WRITE || out == K_UNIX || out == K_INET || out == K_MEMFD))
        return 1;
    if (out == K_PIPE_WRITE &&
        (in == K_DEV_ZERO || in == K_FILE || in == K_PROC_MAPS || in == K_MEMFD || in == K_INET))
        return 1;
    return 0;
}

int main(void)
{
    int p[2], in, out, made = 0, asked = 0;
    double limit = zt_valgrind() ? 2.0 : 0.2;
    zt_start("splice_refuse", 300);
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(p, O_CLOEXEC) != 0)
        DIE("pipe2\n");
    for (in = 0; in < K_COUNT; in++) {
        fds[in] = make((enum kind)in, p);
        if (fds[in] < 0)
            zt_info("fd kind %s cannot be made here (%s): left out", names[in], strerror(errno));
        else
            made++;
    }
    /* valgrind does not know pidfd_open (ENOSYS under it): pidfd is
     * required outside valgrind only. */
    CHECK(fds[K_EVENTFD] >= 0 && fds[K_EPOLL] >= 0 && fds[K_TIMERFD] >= 0 && fds[K_SIGNALFD] >= 0 &&
              (fds[K_PIDFD] >= 0 || zt_valgrind()),
          "the issue's kinds can be made: eventfd, epoll, timerfd, signalfd, pidfd (%d kinds in all)", made);
    for (in = 0; in < K_COUNT; in++)
        for (out = 0; out < K_COUNT; out++) {
            int e, ok, pipe_side;
            double took;
            zcopy_result r;
            pipe_side = in == K_PIPE_READ || in == K_PIPE_WRITE || out == K_PIPE_READ || out == K_PIPE_WRITE;
            if (fds[in] < 0 || fds[out] < 0 || skipped((enum kind)in, (enum kind)out))
                continue;
            /* Under valgrind (a fork costs seconds there) only the pairs
             * with a pipe, where the defect was. */
            if (zt_valgrind() && !pipe_side)
                continue;
            e = raw_splice(fds[in], fds[out]);
            if (e != EINVAL && e != EBADF) {
                zt_info("%s -> %s: splice(2) does not refuse it (%d): not asked", names[in], names[out], e);
                continue;
            }
            asked++;
            r = zc_splice(fds[in], fds[out], limit, &took, &ok);
            if (!ok) {
                CHECK(0, "%s -> %s: splice(2) answers %s, zcopy_splice did not return within %.0f ms", names[in],
                      names[out], strerror(e), limit * 1000);
            } else if (pipe_side) {
                CHECK((r.error == EINVAL || r.error == EBADF) && r.written == 0,
                      "%s -> %s: refused at once as splice(2) refuses it (%s) in %.1f ms: " ZT_RES_FMT, names[in],
                      names[out], strerror(e), took * 1000, ZT_RES_ARGS(r));
            } else {
                /* An error, or served through the pool: the byte, or EOF
                 * (the file's shared position is at its end by then). */
                CHECK(r.written == 0 || (r.written == 1 && r.error == 0),
                      "%s -> %s: answered at once (%.1f ms; splice(2): %s): " ZT_RES_FMT "%s", names[in], names[out],
                      took * 1000, strerror(e), ZT_RES_ARGS(r), r.error ? "" : " (served through the pool)");
            }
        }
    CHECK(asked > (zt_valgrind() ? 40 : 100), "%d refused pairs asked", asked);
    for (in = 0; in < K_COUNT; in++)
        if (fds[in] >= 0 && in != K_PIPE_READ && in != K_PIPE_WRITE)
            close(fds[in]);
    close(p[0]);
    close(p[1]);
    return zt_finish();
}
