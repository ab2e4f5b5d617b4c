/*
 * core.c: the three Go helpers behind the C ABI (issue 2).
 * Every fd pair the issue lists, remain below/at/above the data, EOF,
 * bad fds and arguments, O_APPEND, procfs, pipes on either end, several
 * MiB of random data checked byte for byte.
 */
#include "relay.h"

static void test_names(void)
{
    const char *v = zcopy_version();
    CHECK(v != NULL && strlen(v) >= 5 && strchr(v, '.') != NULL, "zcopy_version() = \"%s\"",
          v ? v : "(null)");
    CHECK(strcmp(zcopy_method_name(ZCOPY_METHOD_NONE), "none") == 0, "method_name(NONE) = none");
    CHECK(strcmp(zcopy_method_name(ZCOPY_METHOD_SPLICE), "splice") == 0, "method_name(SPLICE)");
    CHECK(strcmp(zcopy_method_name(ZCOPY_METHOD_SENDFILE), "sendfile") == 0, "method_name(SENDFILE)");
    CHECK(strcmp(zcopy_method_name(ZCOPY_METHOD_COPY_FILE_RANGE), "copy_file_range") == 0,
          "method_name(COPY_FILE_RANGE)");
    CHECK(strcmp(zcopy_method_name(ZCOPY_METHOD_READ_WRITE), "read_write") == 0,
          "method_name(READ_WRITE)");
    CHECK(strcmp(zcopy_method_name(ZCOPY_METHOD_CLONE), "clone") == 0 && ZCOPY_METHOD_CLONE == 5,
          "method_name(CLONE) (5)");
    CHECK(strcmp(zcopy_method_name(6), "unknown") == 0 && strcmp(zcopy_method_name(-1), "unknown") == 0 &&
              strcmp(zcopy_method_name(INT32_MAX), "unknown") == 0,
          "method_name(6, -1, INT32_MAX) = unknown");
    CHECK(ZCOPY_ALL == INT64_MAX, "ZCOPY_ALL == INT64_MAX");
}

/* Every socket/file pair the issue lists, with several MiB of random data. */
static void test_pairs(void)
{
    size_t big = (size_t)zt_vg(6 << 20, 16);
    zt_relay("splice", zcopy_splice, K_TCP, K_TCP, big, ZCOPY_ALL, 0, 1, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_UNIX, K_TCP, big, ZCOPY_ALL, 0, 2, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_TCP, K_UNIX, big, ZCOPY_ALL, 0, 3, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_TCP, K_FILE, big, ZCOPY_ALL, 0, 4, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_UNIX, K_FILE, big, ZCOPY_ALL, 0, 5, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_FILE, K_TCP, big, ZCOPY_ALL, 0, 6, ZCOPY_METHOD_SPLICE);
    zt_relay("sendfile", zcopy_sendfile, K_FILE, K_TCP, big, ZCOPY_ALL, 0, 7, ZCOPY_METHOD_SENDFILE);
    zt_relay("sendfile", zcopy_sendfile, K_FILE, K_UNIX, big, ZCOPY_ALL, 0, 8, ZCOPY_METHOD_SENDFILE);
    zt_relay("sendfile", zcopy_sendfile, K_FILE, K_FILE, big, ZCOPY_ALL, 0, 9, ZCOPY_METHOD_SENDFILE);
    zt_relay("copy_file_range", zcopy_copy_file_range, K_FILE, K_FILE, big, ZCOPY_ALL, 0, 10,
             ZCOPY_METHOD_COPY_FILE_RANGE);
}

/* A pipe on either end: splice goes direct, without a pooled pipe. */
static void test_pipe_ends(void)
{
    zcopy_pool_stats a, b;
    size_t n = (size_t)zt_vg(3 << 20, 16);
    zcopy_pool_get_stats(&a);
    zt_relay("splice", zcopy_splice, K_TCP, K_PIPE, n, ZCOPY_ALL, 0, 20, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_PIPE, K_TCP, n, ZCOPY_ALL, 0, 21, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_PIPE, K_PIPE, n, ZCOPY_ALL, 0, 22, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_UNIX, K_PIPE, 255, ZCOPY_ALL, 0, 23, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_PIPE, K_FILE, n, ZCOPY_ALL, 0, 24, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_FILE, K_PIPE, n, ZCOPY_ALL, 0, 25, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_PIPE, K_UNIX, 255, 100, 0, 26, ZCOPY_METHOD_SPLICE);
    zt_relay("sendfile", zcopy_sendfile, K_FILE, K_PIPE, n, ZCOPY_ALL, 0, 27, ZCOPY_METHOD_SENDFILE);
    zcopy_pool_get_stats(&b);
    CHECK(b.created == a.created && b.reused == a.reused,
          "splice with a pipe on either end took no pooled pipe (created %llu->%llu, reused %llu->%llu)",
          (unsigned long long)a.created, (unsigned long long)b.created,
          (unsigned long long)a.reused, (unsigned long long)b.reused);
}

/* remain below, at and above the data, for every mechanism. */
static void test_limits(void)
{
    const size_t len = 100000;
    int64_t lims[] = { 1, 4096, (int64_t)len / 2, (int64_t)len - 1, (int64_t)len, (int64_t)len + 1,
                       (int64_t)len * 2, ZCOPY_ALL };
    size_t i;
    for (i = 0; i < sizeof lims / sizeof lims[0]; i++) {
        zt_relay("splice", zcopy_splice, K_TCP, K_TCP, len, lims[i], 0, 30 + i, ZCOPY_METHOD_SPLICE);
        zt_relay("splice", zcopy_splice, K_UNIX, K_FILE, len, lims[i], 0, 40 + i, ZCOPY_METHOD_SPLICE);
        zt_relay("splice", zcopy_splice, K_PIPE, K_TCP, len, lims[i], 0, 50 + i, ZCOPY_METHOD_SPLICE);
        zt_relay("sendfile", zcopy_sendfile, K_FILE, K_TCP, len, lims[i], 0, 60 + i,
                 ZCOPY_METHOD_SENDFILE);
        zt_relay("copy_file_range", zcopy_copy_file_range, K_FILE, K_FILE, len, lims[i], 0, 70 + i,
                 ZCOPY_METHOD_COPY_FILE_RANGE);
    }
}

/* remain 0 moves nothing and succeeds; the data stays in src. */
static void test_remain_zero(void)
{
    zt_relay("splice", zcopy_splice, K_TCP, K_TCP, 1000, 0, 0, 80, -1);
    zt_relay("splice", zcopy_splice, K_PIPE, K_PIPE, 1000, 0, 0, 81, -1);
    zt_relay("sendfile", zcopy_sendfile, K_FILE, K_TCP, 1000, 0, 0, 82, -1);
    zt_relay("copy_file_range", zcopy_copy_file_range, K_FILE, K_FILE, 1000, 0, 0, 83, -1);
}

/* A source already at EOF: handled, 0 bytes, no error; dst still usable
 * (zt_relay writes a trailer after the call). */
static void test_eof_source(void)
{
    int fd;
    zcopy_result r;
    zt_relay("splice", zcopy_splice, K_TCP, K_TCP, 0, ZCOPY_ALL, 0, 90, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_UNIX, K_FILE, 0, ZCOPY_ALL, 0, 91, ZCOPY_METHOD_SPLICE);
    zt_relay("splice", zcopy_splice, K_PIPE, K_TCP, 0, 1000, 0, 92, ZCOPY_METHOD_SPLICE);
    zt_relay("sendfile", zcopy_sendfile, K_FILE, K_TCP, 0, ZCOPY_ALL, 0, 93, ZCOPY_METHOD_SENDFILE);
    /* copy_file_range: a first round of 0 bytes means "fall back" (it cannot
     * tell an empty file from a procfs one): handled=false, nothing moved. */
    {
        int s = zt_tmpfile(), d = zt_tmpfile();
        r = zcopy_copy_file_range(d, s, ZCOPY_ALL);
        CHECK(!r.handled && r.written == 0 && r.error == 0,
              "copy_file_range from an empty file: handled=false, 0 bytes: " ZT_RES_FMT, ZT_RES_ARGS(r));
        close(s);
        close(d);
    }

    /* A file whose position is already at its end. */
    {
        unsigned char buf[5000];
        int dst = zt_tmpfile();
        zt_fill(buf, sizeof buf, 95);
        fd = zt_file_with(buf, sizeof buf);
        lseek(fd, 0, SEEK_END);
        r = zcopy_sendfile(dst, fd, ZCOPY_ALL);
        CHECK(zt_ok(r, 0), "sendfile from a file positioned at its end: " ZT_RES_FMT, ZT_RES_ARGS(r));
        r = zcopy_copy_file_range(dst, fd, ZCOPY_ALL);
        CHECK(!r.handled && r.error == 0 && r.written == 0,
              "copy_file_range from a file positioned at its end: " ZT_RES_FMT, ZT_RES_ARGS(r));
        r = zcopy_splice(dst, fd, 1000);
        CHECK(zt_ok(r, 0), "splice from a file positioned at its end: " ZT_RES_FMT, ZT_RES_ARGS(r));
        CHECK(zt_fsize(dst) == 0, "dst file still empty");
        close(fd);
        close(dst);
    }
}

/* Closed and negative fds, negative remain. */
static void test_bad_args(void)
{
    static const struct {
        const char *name;
        zt_fn fn;
    } fns[] = { { "splice", zcopy_splice },
                { "sendfile", zcopy_sendfile },
                { "copy_file_range", zcopy_copy_file_range } };
    unsigned char buf[100];
    size_t i;
    int closed;
    int p[2];
    zt_fill(buf, sizeof buf, 100);
    /* A high fd number that is closed (low numbers get reused at once). */
    closed = fcntl(1, F_DUPFD_CLOEXEC, 900);
    if (closed < 0)
        DIE("F_DUPFD");
    close(closed);
    for (i = 0; i < 3; i++) {
        int f = zt_file_with(buf, sizeof buf);
        int d = zt_tmpfile();
        zcopy_result r;
        int64_t negs[] = { -1, INT64_MIN };
        size_t k;

        r = fns[i].fn(d, closed, ZCOPY_ALL);
        CHECK(r.handled && r.error == EBADF && r.written == 0, "%s: closed src fd -> EBADF: " ZT_RES_FMT,
              fns[i].name, ZT_RES_ARGS(r));
        r = fns[i].fn(closed, f, ZCOPY_ALL);
        CHECK(r.handled && r.error == EBADF && r.written == 0, "%s: closed dst fd -> EBADF: " ZT_RES_FMT,
              fns[i].name, ZT_RES_ARGS(r));
        CHECK(zt_pos(f) == 0, "%s: closed dst consumed nothing from src", fns[i].name);
        r = fns[i].fn(d, -1, ZCOPY_ALL);
        CHECK(r.handled && r.error == EBADF && r.written == 0, "%s: src fd -1 -> EBADF: " ZT_RES_FMT,
              fns[i].name, ZT_RES_ARGS(r));
        r = fns[i].fn(-5, f, 10);
        CHECK(r.handled && r.error == EBADF && r.written == 0, "%s: dst fd -5 -> EBADF: " ZT_RES_FMT,
              fns[i].name, ZT_RES_ARGS(r));
        r = fns[i].fn(INT32_MIN, INT32_MIN, 0);
        CHECK(r.handled && r.error == EBADF, "%s: fds INT32_MIN, remain 0 -> EBADF: " ZT_RES_FMT,
              fns[i].name, ZT_RES_ARGS(r));
        for (k = 0; k < 2; k++) {
            r = fns[i].fn(d, f, negs[k]);
            CHECK(r.handled && r.error == EINVAL && r.written == 0,
                  "%s: remain %lld -> EINVAL: " ZT_RES_FMT, fns[i].name, (long long)negs[k],
                  ZT_RES_ARGS(r));
        }
        CHECK(zt_pos(f) == 0 && zt_fsize(d) == 0, "%s: bad calls moved nothing", fns[i].name);
        close(f);
        close(d);
    }
    /* A socket pair with data: negative remain consumes nothing. */
    {
        int a[2], b[2];
        char got[4];
        zcopy_result r;
        zt_unix_pair(a);
        zt_unix_pair(b);
        zt_write_all(a[0], "abc", 3);
        r = zcopy_splice(b[0], a[1], -1);
        CHECK(r.handled && r.error == EINVAL, "splice unix->unix remain -1 -> EINVAL: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        CHECK(recv(a[1], got, sizeof got, MSG_DONTWAIT) == 3 && memcmp(got, "abc", 3) == 0,
              "splice with remain -1 left the 3 bytes in src");
        close(a[0]); close(a[1]); close(b[0]); close(b[1]);
    }
    /* The read end of a pipe as dst, the write end as src. */
    {
        int d = zt_tmpfile();
        zcopy_result r;
        zt_pipe(p);
        r = zcopy_splice(p[0], d, 10);
        CHECK(r.error != 0 && r.written == 0, "splice into a pipe's read end fails: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        r = zcopy_splice(d, p[1], 10);
        CHECK(r.error != 0 && r.written == 0, "splice from a pipe's write end fails: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        close(p[0]); close(p[1]); close(d);
    }
}

/* O_APPEND dst: copy_file_range and splice decline without consuming;
 * sendfile declines with EINVAL (handled=false) too. */
static void test_append(void)
{
    unsigned char data[3000];
    int src, dst, dst_app;
    zcopy_result r;
    zt_fill(data, sizeof data, 110);
    src = zt_file_with(data, sizeof data);
    dst = zt_tmpfile();
    zt_write_all(dst, "prefix", 6);
    dst_app = zt_reopen(dst, O_WRONLY | O_APPEND);

    r = zcopy_copy_file_range(dst_app, src, ZCOPY_ALL);
    CHECK(!r.handled && r.written == 0, "copy_file_range to O_APPEND dst: handled=false: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    CHECK(zt_pos(src) == 0 && zt_fsize(dst) == 6, "copy_file_range O_APPEND: nothing consumed or written");

    r = zcopy_splice(dst_app, src, ZCOPY_ALL);
    CHECK(!r.handled && r.written == 0, "splice file to O_APPEND dst: handled=false: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    CHECK(zt_pos(src) == 0 && zt_fsize(dst) == 6, "splice O_APPEND: nothing consumed or written");

    {
        int s[2];
        char got[8];
        zt_unix_pair(s);
        zt_write_all(s[0], "sockdata", 8);
        r = zcopy_splice(dst_app, s[1], ZCOPY_ALL);
        CHECK(!r.handled && r.written == 0, "splice socket to O_APPEND dst: handled=false: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        CHECK(recv(s[1], got, sizeof got, MSG_DONTWAIT) == 8 && memcmp(got, "sockdata", 8) == 0,
              "splice socket to O_APPEND dst: the socket's bytes are all still there");
        close(s[0]);
        close(s[1]);
    }

    r = zcopy_sendfile(dst_app, src, ZCOPY_ALL);
    CHECK(!r.handled && r.written == 0, "sendfile to O_APPEND dst: handled=false: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    CHECK(zt_pos(src) == 0 && zt_fsize(dst) == 6, "sendfile O_APPEND: nothing consumed or written");
    close(src);
    close(dst);
    close(dst_app);
}

/* /proc/self/status reports size 0: copy_file_range must decline. */
static void test_procfs(void)
{
    int src = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    int dst = zt_tmpfile();
    zcopy_result r;
    if (src < 0)
        DIE("open /proc/self/status");
    r = zcopy_copy_file_range(dst, src, ZCOPY_ALL);
    CHECK(!r.handled && r.written == 0 && r.method == ZCOPY_METHOD_COPY_FILE_RANGE,
          "copy_file_range from /proc/self/status: handled=false, written 0: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    CHECK(zt_pos(src) == 0 && zt_fsize(dst) == 0, "procfs: nothing consumed or written");
    /* The fallback the caller would take works. */
    r = zcopy_sendfile(dst, src, ZCOPY_ALL);
    CHECK((r.handled && r.error == 0 && r.written > 0) || (!r.handled && r.written == 0),
          "sendfile from /proc/self/status: moves bytes or declines: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(src);
    close(dst);
}

int main(void)
{
    int fds_before;
    zt_start("core", 100);
    fds_before = zt_fd_count();
    test_names();
    test_pairs();
    test_pipe_ends();
    test_limits();
    test_remain_zero();
    test_eof_source();
    test_bad_args();
    test_append();
    test_procfs();
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after zcopy_pool_drain: %d open fds, %d before",
          zt_fd_count(), fds_before);
    return zt_finish();
}
