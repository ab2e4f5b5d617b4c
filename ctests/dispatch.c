/*
 * dispatch.c: zcopy_copy (io.Copy's best-path dispatch) over every kind
 * pair and its kernel cases: bad arguments, procfs, O_APPEND dst, a file
 * copied onto itself. Devices and other filesystems are in
 * dispatch_devices.c, the positional variants in dispatch_at.c.
 * Each case prints the mechanism it took ("# method ...").
 */
#include "relay.h"

/* zcopy_copy through zt_relay for every kind pair, with the method printed. */
static void test_kinds(void)
{
    static const int kinds[] = { K_TCP, K_UNIX, K_PIPE, K_FILE };
    size_t n = (size_t)zt_vg(2 << 20, 8);
    size_t i, j;
    for (i = 0; i < 4; i++)
        for (j = 0; j < 4; j++) {
            char what[64];
            zcopy_result r = zt_relay("zcopy_copy", zcopy_copy, kinds[i], kinds[j], n, ZCOPY_ALL, 0,
                                      600 + i * 4 + j, -1);
            snprintf(what, sizeof what, "%s -> %s", zt_kind_name[kinds[i]], zt_kind_name[kinds[j]]);
            zt_method_line(what, r);
            if (kinds[i] == K_FILE && kinds[j] == K_PIPE)
                CHECK(r.method == ZCOPY_METHOD_READ_WRITE, "file -> pipe uses read/write (got %s)",
                      zcopy_method_name(r.method));
            if (kinds[i] == K_FILE && kinds[j] == K_FILE)
                CHECK(r.method == ZCOPY_METHOD_COPY_FILE_RANGE, "file -> file uses copy_file_range (got %s)",
                      zcopy_method_name(r.method));
            if (kinds[i] == K_FILE && (kinds[j] == K_TCP || kinds[j] == K_UNIX))
                CHECK(r.method == ZCOPY_METHOD_SENDFILE, "file -> socket uses sendfile (got %s)",
                      zcopy_method_name(r.method));
            if (kinds[i] == K_TCP || kinds[i] == K_UNIX)
                CHECK(r.method == ZCOPY_METHOD_SPLICE, "socket -> socket/file/pipe uses splice (got %s)",
                      zcopy_method_name(r.method));
            if (kinds[i] == K_PIPE || (kinds[j] == K_PIPE && kinds[i] != K_FILE))
                CHECK(r.method == ZCOPY_METHOD_SPLICE, "a pipe end (non-file src) uses splice (got %s)",
                      zcopy_method_name(r.method));
        }
    /* a source with less data than remain; remain below the data */
    zt_relay("zcopy_copy short source", zcopy_copy, K_FILE, K_FILE, 1000, 5000, 0, 650, -1);
    zt_relay("zcopy_copy short source", zcopy_copy, K_TCP, K_TCP, 1000, 5000, 0, 651, -1);
    zt_relay("zcopy_copy short source", zcopy_copy, K_PIPE, K_FILE, 1000, 5000, 0, 652, -1);
    zt_relay("zcopy_copy short source", zcopy_copy, K_FILE, K_PIPE, 1000, 5000, 0, 653, -1);
    zt_relay("zcopy_copy limit below", zcopy_copy, K_FILE, K_FILE, 10000, 777, 0, 654, -1);
    zt_relay("zcopy_copy limit below", zcopy_copy, K_UNIX, K_TCP, 10000, 777, 0, 655, -1);
    zt_relay("zcopy_copy pipe 255 B", zcopy_copy, K_PIPE, K_PIPE, 255, ZCOPY_ALL, 0, 656, -1);
    zt_relay("zcopy_copy pipe 255 B", zcopy_copy, K_UNIX, K_PIPE, 255, ZCOPY_ALL, 0, 657, -1);
}

static void test_args(void)
{
    int f = zt_tmpfile(), d = zt_tmpfile();
    int closed = fcntl(1, F_DUPFD_CLOEXEC, 900);
    zcopy_result r;
    close(closed);
    r = zcopy_copy(d, f, 0);
    CHECK(r.handled && r.error == 0 && r.written == 0, "zcopy_copy remain 0: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_copy(d, f, -1);
    CHECK(r.handled && r.error == EINVAL, "zcopy_copy remain -1 -> EINVAL: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_copy(d, -1, 10);
    CHECK(r.handled && r.error == EBADF, "zcopy_copy src -1 -> EBADF: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_copy(closed, f, 10);
    CHECK(r.handled && r.error == EBADF, "zcopy_copy closed dst -> EBADF: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_copy(d, closed, 10);
    CHECK(r.handled && r.error == EBADF, "zcopy_copy closed src -> EBADF: " ZT_RES_FMT, ZT_RES_ARGS(r));
    /* a read-only dst */
    {
        unsigned char b[100];
        int src, ro;
        zt_fill(b, sizeof b, 1);
        src = zt_file_with(b, sizeof b);
        ro = zt_reopen(d, O_RDONLY);
        r = zcopy_copy(ro, src, ZCOPY_ALL);
        CHECK(r.handled && r.error == EBADF && r.written == 0, "zcopy_copy to a read-only dst -> EBADF: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        close(ro);
        close(src);
    }
    close(f);
    close(d);
}

/* Reads the procfs file at path whole into want (*wn bytes), then
 * zcopy_copy's it from the start into a temporary file read back into got
 * (*gn bytes); both buffers hold cap bytes. */
static zcopy_result procfs_to_file(const char *path, unsigned char *want, size_t *wn, unsigned char *got, size_t *gn,
                                   size_t cap)
{
    int src = open(path, O_RDONLY | O_CLOEXEC), dst;
    zcopy_result r;
    *wn = zt_read_full(src, want, cap);
    lseek(src, 0, SEEK_SET);
    dst = zt_tmpfile();
    r = zcopy_copy(dst, src, ZCOPY_ALL);
    *gn = zt_pread_all(dst, got, cap);
    close(src);
    close(dst);
    return r;
}

/* procfs: the whole content arrives (the file reports size 0). */
static void test_procfs(void)
{
    static unsigned char want[65536], got[65536];
    size_t wn, gn;
    int src;
    zcopy_result r;

    /* /proc/self/cmdline does not change: byte for byte. */
    r = procfs_to_file("/proc/self/cmdline", want, &wn, got, &gn, sizeof got);
    CHECK(zt_ok(r, (long long)wn) && gn == wn && memcmp(got, want, wn) == 0,
          "/proc/self/cmdline -> file: %zu bytes equal the original: " ZT_RES_FMT, wn, ZT_RES_ARGS(r));
    zt_method_line("/proc/self/cmdline -> file", r);

    /* /proc/self/status changes between reads (memory figures): same
     * length class and the same field names, in order. */
    r = procfs_to_file("/proc/self/status", want, &wn, got, &gn, sizeof got);
    {
        int same = gn > 500 && r.written == (long long)gn && got[gn - 1] == '\n';
        size_t a = 0, b = 0;
        int lines = 0;
        while (same && a < wn && b < gn) {
            size_t ka = a, kb = b;
            while (ka < wn && want[ka] != ':') ka++;
            while (kb < gn && got[kb] != ':') kb++;
            if (ka - a != kb - b || memcmp(want + a, got + b, ka - a) != 0)
                same = 0;
            while (a < wn && want[a] != '\n') a++;
            while (b < gn && got[b] != '\n') b++;
            a++;
            b++;
            lines++;
        }
        same = same && a >= wn && b >= gn;
        CHECK(r.handled && r.error == 0 && same,
              "/proc/self/status -> file: full content (%zu bytes, %d fields, same field names): " ZT_RES_FMT,
              gn, lines, ZT_RES_ARGS(r));
    }
    zt_method_line("/proc/self/status -> file", r);

    /* procfs to a socket */
    {
        int s[2];
        src = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
        zt_unix_pair(s);
        r = zcopy_copy(s[0], src, ZCOPY_ALL);
        close(s[0]);
        gn = zt_read_full(s[1], got, sizeof got);
        CHECK(zt_ok(r, (long long)wn) || (zt_ok(r, (long long)gn) && gn > 0),
              "/proc/self/cmdline -> unix socket: " ZT_RES_FMT, ZT_RES_ARGS(r));
        zt_method_line("/proc/self/cmdline -> unix socket", r);
        close(s[1]);
        close(src);
    }
}

/* O_APPEND dst: appended after what is there, nothing overwritten. */
static void test_append(void)
{
    size_t n = 300000;
    unsigned char *data = zt_random_buf(n, 700);
    size_t cap = n + 8 + 5000 + 64;
    unsigned char *got = malloc(cap);
    int src, dst, app;
    zcopy_result r;
    if (!got)
        DIE("malloc");
    src = zt_file_with(data, n);
    dst = zt_tmpfile();
    zt_write_all(dst, "existing", 8);
    app = zt_reopen(dst, O_WRONLY | O_APPEND);
    lseek(app, 0, SEEK_SET); /* O_APPEND writes go to the end anyway */
    r = zcopy_copy(app, src, ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)n) && zt_pread_all(dst, got, cap) == n + 8 &&
              memcmp(got, "existing", 8) == 0 && memcmp(got + 8, data, n) == 0,
          "file -> O_APPEND file: appended, nothing overwritten: " ZT_RES_FMT, ZT_RES_ARGS(r));
    zt_method_line("file -> O_APPEND file", r);
    {
        int s[2];
        struct zt_writer w;
        zt_unix_pair(s);
        zt_writer_start(&w, s[0], data, 5000, 0, 1);
        r = zcopy_copy(app, s[1], ZCOPY_ALL);
        zt_join(w.th, 20, "writer");
        CHECK(zt_ok(r, 5000) && zt_pread_all(dst, got, cap) == n + 8 + 5000 &&
                  memcmp(got + 8 + n, data, 5000) == 0 && memcmp(got, "existing", 8) == 0,
              "socket -> O_APPEND file: appended: " ZT_RES_FMT, ZT_RES_ARGS(r));
        zt_method_line("unix socket -> O_APPEND file", r);
        close(s[1]);
    }
    close(src);
    close(dst);
    close(app);
    free(got);
    free(data);
}

/* A file copied onto itself: "hello world!" becomes "hello world!hello world!". */
static void test_self_copy(void)
{
    char got[64];
    int fd, fd2;
    zcopy_result r;
    size_t n;

    /* two fds of one file: dst at its end, src at 0 */
    fd = zt_tmpfile();
    zt_write_all(fd, "hello world!", 12);
    fd2 = zt_reopen(fd, O_RDONLY);
    r = zcopy_copy(fd, fd2, ZCOPY_ALL);
    n = zt_pread_all(fd, (unsigned char *)got, sizeof got);
    CHECK(zt_ok(r, 12) && n == 24 && memcmp(got, "hello world!hello world!", 24) == 0,
          "file onto itself (second fd at 0, dst at end): \"%.*s\": " ZT_RES_FMT, (int)n, got, ZT_RES_ARGS(r));
    zt_method_line("file -> same file (two fds)", r);
    close(fd2);
    close(fd);

    /* one fd at position 0: reads advance the shared position */
    fd = zt_tmpfile();
    zt_write_all(fd, "hello world!", 12);
    lseek(fd, 0, SEEK_SET);
    r = zcopy_copy(fd, fd, ZCOPY_ALL);
    n = zt_pread_all(fd, (unsigned char *)got, sizeof got);
    CHECK(r.handled && r.error == 0 && n == 24 && memcmp(got, "hello world!hello world!", 24) == 0,
          "file onto itself (one fd at 0): \"%.*s\": " ZT_RES_FMT, (int)n, got, ZT_RES_ARGS(r));
    zt_method_line("file -> same file (one fd)", r);
    close(fd);

    /* a larger file onto itself: no endless loop, doubled exactly */
    {
        size_t big = 3 << 20;
        unsigned char *data = zt_random_buf(big, 710);
        unsigned char *all = malloc(2 * big + 16);
        if (!all)
            DIE("malloc");
        fd = zt_file_with(data, big);
        lseek(fd, 0, SEEK_END);
        fd2 = zt_reopen(fd, O_RDONLY);
        r = zcopy_copy(fd, fd2, ZCOPY_ALL);
        n = zt_pread_all(fd, all, 2 * big + 16);
        CHECK(zt_ok(r, (long long)big) && n == 2 * big && memcmp(all, data, big) == 0 &&
                  memcmp(all + big, data, big) == 0,
              "3 MiB file onto itself: doubled exactly (%zu bytes): " ZT_RES_FMT, n, ZT_RES_ARGS(r));
        close(fd);
        close(fd2);
        free(all);
        free(data);
    }
}

int main(void)
{
    int fds_before;
    zt_start("dispatch", 100);
    fds_before = zt_fd_count();
    test_args();
    test_kinds();
    test_procfs();
    test_append();
    test_self_copy();
    return zt_finish_drained(fds_before);
}
