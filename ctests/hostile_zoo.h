/*
 * hostile_zoo.h: the fds and arguments hostile.c draws from: 22 kinds of
 * fd (the zoo) with what each may be used for, the per-call watchdog that
 * names a call that hangs, the errno values the library documents, and the
 * random remain and offsets.
 */
#ifndef HOSTILE_ZOO_H
#define HOSTILE_ZOO_H
#include "zc_test.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* F_NOT_SRC / F_NOT_DST: never used on that side, because there the call
 * would rightly wait forever (an empty non-blocking eventfd as src, a full
 * eventfd or a pipe nobody drains as dst). */
enum { F_INF_SRC = 1, F_EVENTFD_DST = 2, F_DATA_SRC = 4, F_RW_DST = 8, F_DGRAM = 16, F_NEG = 32, F_NOT_SRC = 64,
       F_NOT_DST = 128 };

struct zfd {
    const char *name;
    int fd;
    int flags;
};

static struct zfd zoo[32];
static int nzoo;
static unsigned char filedata[65536];
static int dgram_peer = -1, efd_dst = -1, ro_file = -1, rw_file = -1, app_file = -1;

static volatile sig_atomic_t in_call;
static char current[256];

static inline void on_alarm(int sig)
{
    static const char msg[] = "FAIL - hostile: a call did not return within the watchdog: ";
    (void)sig;
    if (write(1, msg, sizeof msg - 1) < 0 || write(1, current, strlen(current)) < 0 || write(1, "\n", 1) < 0)
        _exit(4);
    _exit(4);
}

static inline void add(const char *name, int fd, int flags)
{
    zoo[nzoo].name = name;
    zoo[nzoo].fd = fd;
    zoo[nzoo].flags = flags;
    nzoo++;
}

static inline void set_timeo(int fd, int ms)
{
    struct timeval tv;
    tv.tv_sec = 0;
    tv.tv_usec = ms * 1000;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static inline void build_zoo(void)
{
    int fd, p[2];
    struct sockaddr_in a;
    add("-1", -1, F_NEG);
    add("INT_MIN", INT32_MIN, F_NEG);
    fd = fcntl(1, F_DUPFD_CLOEXEC, 4000);
    close(fd);
    add("closed fd", fd, 0);
    add("huge fd 1<<30", 1 << 30, 0);
    add("directory", open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
    add("/dev/zero", open("/dev/zero", O_RDWR | O_CLOEXEC), F_INF_SRC);
    add("/dev/null", open("/dev/null", O_RDWR | O_CLOEXEC), 0);
    fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
    {
        uint64_t v = 1ULL << 62;
        if (write(fd, &v, 8) != 8)
            DIE("eventfd write");
    }
    add("eventfd (semaphore, endless)", fd, F_INF_SRC | F_NOT_DST);
    efd_dst = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    add("eventfd (empty, as dst)", efd_dst, F_EVENTFD_DST | F_NOT_SRC);
    add("epoll", epoll_create1(EPOLL_CLOEXEC), 0);

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    set_timeo(fd, 2);
    add("UDP unbound", fd, 0);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    set_timeo(fd, 2);
    {
        int l = zt_tcp_listener(&a); /* a port nobody will answer on UDP */
        close(l);
        connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    add("UDP connected, non-blocking", fd, 0);
    add("TCP listening", zt_tcp_listener(&a), 0);
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, p) < 0)
        DIE("socketpair dgram");
    set_timeo(p[0], 2);
    dgram_peer = p[1];
    add("unix datagram socket", p[0], F_DGRAM);

    zt_pipe(p);
    close(p[1]);
    add("pipe read end (no writers)", p[0], 0);
    zt_pipe(p);
    close(p[0]);
    add("pipe write end (no readers)", p[1], 0);
    zt_pipe(p);
    add("pipe read end used as dst", p[0], F_NOT_SRC);
    add("pipe write end used as src", p[1], F_NOT_DST);

    zt_unix_pair(p);
    close(p[1]);
    add("unix socket, peer gone", p[0], 0);

    zt_fill(filedata, sizeof filedata, 99);
    fd = zt_file_with(filedata, sizeof filedata);
    ro_file = zt_reopen(fd, O_RDONLY);
    close(fd);
    add("read-only file (64 KiB)", ro_file, F_DATA_SRC);
    rw_file = zt_tmpfile();
    add("read-write file (emptied each call)", rw_file, F_RW_DST);
    app_file = zt_tmpfile_in("/tmp", O_APPEND);
    add("O_APPEND file", app_file, 0);
}

static inline void reset_zoo(void)
{
    unsigned char buf[65536];
    uint64_t v;
    lseek(ro_file, 0, SEEK_SET);
    if (ftruncate(rw_file, 0) != 0 || ftruncate(app_file, 0) != 0)
        DIE("ftruncate");
    lseek(rw_file, 0, SEEK_SET);
    while (recv(dgram_peer, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
    if (read(efd_dst, &v, 8) < 0) { /* empty: fine */ }
}

static inline int allowed(int e)
{
    switch (e) {
    case 0: case EBADF: case EINVAL: case EPIPE: case ECONNRESET: case EAGAIN: case EISDIR:
    case ENOTCONN: case EDESTADDRREQ: case ECONNREFUSED: case EOPNOTSUPP: case ESPIPE: case EXDEV:
    case ENOSYS: case EPERM: case EIO: case ENOTSOCK: case EFBIG: case EACCES: case EMSGSIZE:
        return 1;
    default:
        return 0;
    }
}

enum { E_SPLICE, E_SENDFILE, E_CFR, E_COPY, E_SENDFILE_AT, E_CFR_AT, E_SPLICER, E_COUNT };
static const char *const entry_names[E_COUNT] = { "zcopy_splice", "zcopy_sendfile", "zcopy_copy_file_range",
                                                  "zcopy_copy", "zcopy_sendfile_at", "zcopy_copy_file_range_at",
                                                  "zcopy_splicer_step" };

static inline int64_t pick_remain(uint64_t *rs)
{
    switch (zt_rand_next(rs) % 8) {
    case 0: return -1;
    case 1: return INT64_MIN + (int64_t)(zt_rand_next(rs) % 1000);
    case 2: return 0;
    case 3: return 1 + (int64_t)(zt_rand_next(rs) % 100);
    case 4: return 1 + (int64_t)(zt_rand_next(rs) % (1 << 20));
    case 5: return ZCOPY_ALL;
    case 6: return (int64_t)1 << 40;
    default: return -(int64_t)(zt_rand_next(rs) % 100000) - 2;
    }
}

static inline int64_t *pick_off(uint64_t *rs, int64_t *store)
{
    switch (zt_rand_next(rs) % 4) {
    case 0: return NULL;
    case 1: *store = -1 - (int64_t)(zt_rand_next(rs) % 1000); return store;
    default: *store = (int64_t)(zt_rand_next(rs) % 70000); return store;
    }
}

#endif /* HOSTILE_ZOO_H */
