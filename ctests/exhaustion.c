/*
 * exhaustion.c: running out of resources is not fatal.
 *  1. RLIMIT_NOFILE so low that no pipe can be made (in a forked child):
 *     zcopy_splice reports handled=false and consumes nothing; the splicer
 *     cannot be made (NULL, EMFILE); zcopy_copy still completes through
 *     read/write; sendfile and copy_file_range are unaffected.
 *  2. pipe-user-pages-soft reached (in a forked child running as an
 *     unprivileged user, which fills its own quota with 1 MiB pipes; the
 *     sysctl itself is never changed): new pipes are 2 pages and cannot
 *     grow; transfers still complete.
 *  3. F_SETPIPE_SZ failing (pool pipe size above pipe-max-size as an
 *     unprivileged user: EPERM): harmless, transfers complete.
 */
#include "relay.h"
#include <grp.h>
#include <sys/resource.h>

static int child_exit(void)
{
    fflush(stdout);
    _exit(zt_failed ? 1 : 0);
}

static void wait_child(pid_t pid, const char *what)
{
    int status = 0;
    pid_t w;
    double deadline = zt_now() + (zt_valgrind() ? 400 : 60);
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && zt_now() < deadline)
        usleep(10000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK(w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s (child exit status %d)", what,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void nofile_child(void)
{
    unsigned char data[5000], got[6000];
    int a[2], b[2], p[2], f, fdst, lowest;
    struct rlimit rl;
    zcopy_result r;
    zcopy_splicer *sp;
    zt_fill(data, sizeof data, 11);
    zcopy_pool_drain();
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_write_all(a[0], data, sizeof data);
    shutdown(a[0], SHUT_WR);
    f = zt_file_with(data, sizeof data);
    fdst = zt_tmpfile();
    lowest = dup(0);
    close(lowest);
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)lowest;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        DIE("setrlimit");
    CHECK(pipe(p) < 0 && errno == EMFILE, "child: RLIMIT_NOFILE %d: pipe() fails with EMFILE", lowest);

    r = zcopy_splice(b[0], a[1], ZCOPY_ALL);
    CHECK(!r.handled && r.written == 0 && (r.error == EMFILE || r.error == ENFILE),
          "child: zcopy_splice socket->socket with no pipe to be had: handled=false: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(recv(a[1], got, sizeof got, MSG_PEEK | MSG_DONTWAIT) == (ssize_t)sizeof data,
          "child: nothing consumed from src (5000 bytes still there)");
    errno = 0;
    sp = zcopy_splicer_new();
    CHECK(sp == NULL && (errno == EMFILE || errno == ENFILE), "child: zcopy_splicer_new -> NULL, errno %d (%s)", errno,
          strerror(errno));
    zcopy_splicer_free(sp);

    r = zcopy_copy(b[0], a[1], ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)sizeof data), "child: zcopy_copy still completes: " ZT_RES_FMT, ZT_RES_ARGS(r));
    printf("# child: zcopy_copy socket->socket without pipes took %s\n", zcopy_method_name(r.method));
    shutdown(b[0], SHUT_WR);
    CHECK(zt_read_full(b[1], got, sizeof got) == sizeof data && memcmp(got, data, sizeof data) == 0,
          "child: the 5000 bytes arrived intact");

    r = zcopy_sendfile(fdst, f, ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)sizeof data), "child: sendfile file->file unaffected: " ZT_RES_FMT, ZT_RES_ARGS(r));
    lseek(f, 0, SEEK_SET);
    r = zcopy_copy(fdst, f, ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)sizeof data), "child: zcopy_copy file->file unaffected: " ZT_RES_FMT, ZT_RES_ARGS(r));
    child_exit();
}

static long read_long(const char *path)
{
    FILE *fp = fopen(path, "r");
    long v = -1;
    if (fp) {
        if (fscanf(fp, "%ld", &v) != 1)
            v = -1;
        fclose(fp);
    }
    return v;
}

static int new_pipe_size(void)
{
    int p[2], sz;
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    sz = fcntl(p[0], F_GETPIPE_SZ);
    close(p[0]);
    close(p[1]);
    return sz;
}

static void relay_checked(const char *what, int sk, int dk, size_t n, uint64_t seed)
{
    zcopy_result r = zt_relay(what, zcopy_splice, sk, dk, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SPLICE);
    (void)r;
}

static void pages_child(void)
{
    long soft = read_long("/proc/sys/fs/pipe-user-pages-soft");
    long maxsz = read_long("/proc/sys/fs/pipe-max-size");
    int held[2 * 1024];
    int nheld = 0, sz, i;
    size_t n = (size_t)zt_vg(3 << 20, 8);
    zcopy_pool_stats a, b;
    if (geteuid() == 0) {
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            DIE("dropping to uid 65534");
    }
    printf("# child: uid %d, pipe-user-pages-soft %ld, pipe-max-size %ld\n", (int)getuid(), soft, maxsz);
    if (soft <= 0) {
        zt_skip("pipe-user-pages-soft is 0 (no soft limit on this system): cannot shrink pipes");
        child_exit();
    }
    /* Fill this user's quota with 1 MiB pipes. */
    while (nheld + 2 <= (int)(sizeof held / sizeof held[0])) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            break;
        held[nheld++] = p[0];
        held[nheld++] = p[1];
        if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0)
            break;
    }
    sz = new_pipe_size();
    printf("# child: held %d pipes; a new pipe now has %d bytes\n", nheld / 2, sz);
    CHECK(sz > 0 && sz <= 8192, "child: past pipe-user-pages-soft new pipes are shrunk (%d bytes)", sz);

    zcopy_pool_drain();
    zcopy_pool_get_stats(&a);
    relay_checked("child, shrunk pipes: splice", K_UNIX, K_UNIX, n, 12);
    relay_checked("child, shrunk pipes: splice", K_TCP, K_FILE, n, 13);
    {
        zcopy_result r = zt_relay("child, shrunk pipes: zcopy_copy", zcopy_copy, K_TCP, K_TCP, n, ZCOPY_ALL, 0, 14, -1);
        (void)r;
    }
    zcopy_pool_get_stats(&b);
    CHECK(b.created - a.created + b.reused - a.reused >= 1, "child: those went through pool pipes (created+reused +%llu)",
          (unsigned long long)(b.created - a.created + b.reused - a.reused));
    for (i = 0; i < nheld; i++)
        close(held[i]);
    zcopy_pool_drain();

    /* F_SETPIPE_SZ above pipe-max-size fails with EPERM for this user. */
    {
        int p[2], e;
        pipe2(p, O_CLOEXEC);
        e = fcntl(p[1], F_SETPIPE_SZ, 4 << 20) < 0 ? errno : 0;
        close(p[0]);
        close(p[1]);
        printf("# child: F_SETPIPE_SZ 4 MiB as uid %d: %s\n", (int)getuid(), e ? strerror(e) : "allowed");
        if (e == 0) {
            zt_skip("F_SETPIPE_SZ 4 MiB is allowed for this user (privileged?): cannot force it to fail");
        } else {
            CHECK(zcopy_pool_configure(0, 4 << 20) == 0, "child: pool pipe size 4 MiB accepted");
            relay_checked("child, F_SETPIPE_SZ failing: splice", K_UNIX, K_TCP, n, 15);
            relay_checked("child, F_SETPIPE_SZ failing: splice", K_TCP, K_FILE, n, 16);
            zcopy_pool_configure(0, 1 << 20);
        }
    }
    zcopy_pool_drain();
    child_exit();
}

int main(void)
{
    pid_t pid;
    int fds_before;
    zt_start("exhaustion", 100);
    fds_before = zt_fd_count();
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0)
        nofile_child();
    wait_child(pid, "RLIMIT_NOFILE exhausted: splice declines, zcopy_copy completes");

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0)
        pages_child();
    wait_child(pid, "pipe-user-pages-soft reached and F_SETPIPE_SZ failing: transfers complete");

    /* The parent is unharmed. */
    zt_relay("parent afterwards: splice", zcopy_splice, K_UNIX, K_TCP, 1 << 20, ZCOPY_ALL, 0, 17, ZCOPY_METHOD_SPLICE);
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}
