/*
 * dispatch.c: zcopy_copy (io.Copy's best-path dispatch) and the positional
 * variants zcopy_sendfile_at / zcopy_copy_file_range_at (issue 4).
 * Each case prints the mechanism it took ("# method ...").
 */
#include "relay.h"
#include <termios.h>

static void method_line(const char *what, zcopy_result r)
{
    printf("# method: %-44s -> %s (%lld bytes)\n", what, zcopy_method_name(r.method),
           (long long)r.written);
}

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
            method_line(what, r);
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

/* procfs: the whole content arrives (the file reports size 0). */
static void test_procfs(void)
{
    static unsigned char want[65536], got[65536];
    size_t wn, gn;
    int src, dst;
    zcopy_result r;

    /* /proc/self/cmdline does not change: byte for byte. */
    src = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    wn = zt_read_full(src, want, sizeof want);
    lseek(src, 0, SEEK_SET);
    dst = zt_tmpfile();
    r = zcopy_copy(dst, src, ZCOPY_ALL);
    gn = zt_pread_all(dst, got, sizeof got);
    CHECK(zt_ok(r, (long long)wn) && gn == wn && memcmp(got, want, wn) == 0,
          "/proc/self/cmdline -> file: %zu bytes equal the original: " ZT_RES_FMT, wn, ZT_RES_ARGS(r));
    method_line("/proc/self/cmdline -> file", r);
    close(src);
    close(dst);

    /* /proc/self/status changes between reads (memory figures): same
     * length class and the same field names, in order. */
    src = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    wn = zt_read_full(src, want, sizeof want);
    lseek(src, 0, SEEK_SET);
    dst = zt_tmpfile();
    r = zcopy_copy(dst, src, ZCOPY_ALL);
    gn = zt_pread_all(dst, got, sizeof got);
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
    method_line("/proc/self/status -> file", r);
    close(src);
    close(dst);

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
        method_line("/proc/self/cmdline -> unix socket", r);
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
    method_line("file -> O_APPEND file", r);
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
        method_line("unix socket -> O_APPEND file", r);
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
    method_line("file -> same file (two fds)", r);
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
    method_line("file -> same file (one fd)", r);
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

/* tmpfs <-> disk: two filesystems. */
static void test_cross_fs(void)
{
    size_t n = (size_t)zt_vg(3 << 20, 8);
    unsigned char *data = zt_random_buf(n, 720);
    unsigned char *got = malloc(n + 16);
    const char *dirs[2][2] = { { "/dev/shm", "/tmp" }, { "/tmp", "/dev/shm" } };
    int i;
    if (!got)
        DIE("malloc");
    for (i = 0; i < 2; i++) {
        int src = zt_file_with_in(dirs[i][0], data, n);
        int dst = zt_tmpfile_in(dirs[i][1], 0);
        zcopy_result r = zcopy_copy(dst, src, ZCOPY_ALL);
        char what[64];
        CHECK(zt_ok(r, (long long)n) && zt_pread_all(dst, got, n + 16) == n && memcmp(got, data, n) == 0 &&
                  zt_pos(src) == (off_t)n && zt_pos(dst) == (off_t)n,
              "%s file -> %s file: %zu bytes intact, both offsets == bytes moved: " ZT_RES_FMT, dirs[i][0],
              dirs[i][1], n, ZT_RES_ARGS(r));
        snprintf(what, sizeof what, "%s file -> %s file", dirs[i][0], dirs[i][1]);
        method_line(what, r);
        close(src);
        close(dst);
    }
    free(got);
    free(data);
}

struct exact_reader {
    pthread_t th;
    int fd;
    unsigned char *buf;
    size_t want, got;
};

static void *exact_main(void *arg)
{
    struct exact_reader *e = arg;
    e->got = zt_read_full(e->fd, e->buf, e->want);
    return NULL;
}

/* /dev/null and a pty as dst. */
static void test_char_dst(void)
{
    size_t n = 200000;
    unsigned char *data = zt_random_buf(n, 730);
    int src = zt_file_with(data, n);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    zcopy_result r;
    r = zcopy_copy(null, src, ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)n) && zt_pos(src) == (off_t)n, "file -> /dev/null: " ZT_RES_FMT, ZT_RES_ARGS(r));
    method_line("file -> /dev/null", r);
    {
        int s[2];
        struct zt_writer w;
        zt_unix_pair(s);
        zt_writer_start(&w, s[0], data, n, 0, 1);
        r = zcopy_copy(null, s[1], ZCOPY_ALL);
        zt_join(w.th, 20, "writer");
        CHECK(zt_ok(r, (long long)n), "unix socket -> /dev/null: " ZT_RES_FMT, ZT_RES_ARGS(r));
        method_line("unix socket -> /dev/null", r);
        close(s[1]);
    }
    close(null);

    /* pty: master as dst, the slave (raw mode) read by a thread */
    {
        int m = posix_openpt(O_RDWR | O_NOCTTY);
        int sl;
        struct termios t;
        struct exact_reader er;
        size_t pn = 65536;
        if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0)
            DIE("posix_openpt");
        sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (sl < 0)
            DIE("open pty slave");
        tcgetattr(sl, &t);
        cfmakeraw(&t);
        tcsetattr(sl, TCSANOW, &t);
        er.fd = sl;
        er.buf = malloc(pn);
        er.want = pn;
        er.got = 0;
        if (!er.buf || pthread_create(&er.th, NULL, exact_main, &er))
            DIE("reader");
        lseek(src, 0, SEEK_SET);
        r = zcopy_copy(m, src, (int64_t)pn);
        zt_join(er.th, 20, "pty reader");
        CHECK(zt_ok(r, (long long)pn) && er.got == pn && memcmp(er.buf, data, pn) == 0,
              "file -> pty master: 64 KiB arrive raw at the slave: " ZT_RES_FMT, ZT_RES_ARGS(r));
        method_line("file -> pty", r);
        free(er.buf);
        close(sl);
        close(m);
    }
    close(src);
    free(data);
}

/* file -> pipe must copy (read/write): a later change to the file must not
 * show up in what the reader gets (Rust's dont_splice_pipes_from_files). */
static void test_file_to_pipe_snapshot(void)
{
    unsigned char a[8192], b[8192], got[8192 + 1];
    int f, p[2];
    zcopy_result r;
    size_t n;
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    f = zt_file_with(a, sizeof a);
    zt_pipe(p);
    r = zcopy_copy(p[1], f, ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)sizeof a) && r.method == ZCOPY_METHOD_READ_WRITE,
          "zcopy_copy file -> pipe uses read/write: " ZT_RES_FMT, ZT_RES_ARGS(r));
    method_line("file -> pipe", r);
    if (pwrite(f, b, sizeof b, 0) != (ssize_t)sizeof b)
        DIE("pwrite");
    close(p[1]);
    n = zt_read_full(p[0], got, sizeof got);
    CHECK(n == sizeof a && memcmp(got, a, sizeof a) == 0,
          "the pipe reader gets the bytes as they were at copy time, not the later change");
    close(p[0]);

    /* The raw zcopy_splice does splice file -> pipe (documented): show what
     * the reader sees, for the README; not asserted either way. */
    pwrite(f, a, sizeof a, 0);
    lseek(f, 0, SEEK_SET);
    zt_pipe(p);
    r = zcopy_splice(p[1], f, ZCOPY_ALL);
    pwrite(f, b, sizeof b, 0);
    close(p[1]);
    n = zt_read_full(p[0], got, sizeof got);
    printf("# info: zcopy_splice file -> pipe, file changed before the read: reader saw %s\n",
           n && got[0] == 'b' ? "the NEW bytes (page references, as documented)" : "the old bytes");
    (void)r;
    close(p[0]);
    close(f);
}

/* ---------- positional variants ---------- */

struct ranger {
    pthread_t th;
    int fd, sock;
    int64_t off, start;
    zcopy_result r;
};

static void *ranger_main(void *arg)
{
    struct ranger *g = arg;
    g->r = zcopy_sendfile_at(g->sock, g->fd, &g->off, 1 << 20);
    return NULL;
}

static void test_sendfile_at_threads(void)
{
    enum { T = 8 };
    const size_t range = 1 << 20;
    unsigned char *data = zt_random_buf(T * range, 800);
    int fd = zt_file_with(data, T * range);
    struct ranger g[T];
    struct zt_reader rd[T];
    int i, ok = 1;
    lseek(fd, 12345, SEEK_SET);
    for (i = 0; i < T; i++) {
        int s[2];
        zt_tcp_pair(s);
        g[i].fd = fd;
        g[i].sock = s[0];
        g[i].start = g[i].off = (int64_t)(i * range);
        zt_reader_start(&rd[i], s[1], range, 1);
    }
    for (i = 0; i < T; i++)
        if (pthread_create(&g[i].th, NULL, ranger_main, &g[i]))
            DIE("pthread_create");
    for (i = 0; i < T; i++) {
        zt_join(g[i].th, 30, "sendfile_at thread");
        close(g[i].sock);
        zt_join(rd[i].th, 30, "reader");
        ok &= CHECK(zt_ok(g[i].r, (long long)range) && g[i].off == g[i].start + (int64_t)range &&
                        rd[i].got == range && rd[i].extra == 0 &&
                        memcmp(rd[i].buf, data + i * range, range) == 0,
                    "sendfile_at thread %d: range [%lld, +1 MiB) intact, offset advanced to %lld: " ZT_RES_FMT,
                    i, (long long)g[i].start, (long long)g[i].off, ZT_RES_ARGS(g[i].r));
        free(rd[i].buf);
    }
    CHECK(zt_pos(fd) == 12345, "8 threads x zcopy_sendfile_at: the shared fd's position is unchanged (%lld)",
          (long long)zt_pos(fd));
    close(fd);
    free(data);
}

static void test_positional_single(void)
{
    size_t n = 100000;
    unsigned char *data = zt_random_buf(n, 810);
    unsigned char *got = malloc(n + 600);
    int src = zt_file_with(data, n);
    int dst = zt_tmpfile();
    int s[2];
    int64_t so, dof;
    zcopy_result r;
    if (!got)
        DIE("malloc");

    /* sendfile_at: offset used and advanced, position untouched */
    zt_unix_pair(s);
    lseek(src, 7, SEEK_SET);
    so = 1000;
    r = zcopy_sendfile_at(s[0], src, &so, 5000);
    CHECK(zt_ok(r, 5000) && so == 6000 && zt_pos(src) == 7 && zt_read_full(s[1], got, 5000) == 5000 &&
              memcmp(got, data + 1000, 5000) == 0,
          "sendfile_at offset 1000, 5000 bytes: offset -> %lld, position stays 7: " ZT_RES_FMT, (long long)so,
          ZT_RES_ARGS(r));
    so = (int64_t)n - 10;
    r = zcopy_sendfile_at(s[0], src, &so, 5000);
    CHECK(zt_ok(r, 10) && so == (int64_t)n && zt_pos(src) == 7, "sendfile_at past the end moves the last 10: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    zt_read_full(s[1], got, 10);
    r = zcopy_sendfile_at(s[0], src, NULL, 3);
    CHECK(zt_ok(r, 3) && zt_pos(src) == 10 && zt_read_full(s[1], got, 3) == 3 && memcmp(got, data + 7, 3) == 0,
          "sendfile_at NULL offset uses and advances the position: " ZT_RES_FMT, ZT_RES_ARGS(r));
    /* A character device as src (/dev/zero): the header promises the offset
     * advances by written whatever the kernel does with it. */
    {
        int z = open("/dev/zero", O_RDONLY | O_CLOEXEC), nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
        so = 5000;
        r = zcopy_sendfile_at(nul, z, &so, 1000);
        CHECK(r.error == 0 && so == 5000 + r.written,
              "sendfile_at /dev/zero -> /dev/null, offset 5000: offset advanced by written (now %lld): " ZT_RES_FMT,
              (long long)so, ZT_RES_ARGS(r));
        close(z);
        close(nul);
    }
    so = -1;
    r = zcopy_sendfile_at(s[0], src, &so, 3);
    CHECK(r.handled && r.error == EINVAL && r.written == 0 && so == -1, "sendfile_at offset -1 -> EINVAL: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    close(s[0]);
    close(s[1]);

    /* copy_file_range_at: both offsets, positions untouched */
    lseek(dst, 3, SEEK_SET);
    so = 100;
    dof = 500;
    r = zcopy_copy_file_range_at(dst, &dof, src, &so, 20000);
    CHECK(zt_ok(r, 20000) && so == 20100 && dof == 20500 && zt_pos(src) == 10 && zt_pos(dst) == 3 &&
              zt_pread_all(dst, got, n + 600) == 20500 && memcmp(got + 500, data + 100, 20000) == 0,
          "copy_file_range_at src 100 dst 500: offsets -> %lld/%lld, positions untouched: " ZT_RES_FMT,
          (long long)so, (long long)dof, ZT_RES_ARGS(r));
    r = zcopy_copy_file_range_at(dst, NULL, src, &so, 100);
    CHECK(zt_ok(r, 100) && so == 20200 && zt_pos(dst) == 103 && zt_pos(src) == 10,
          "copy_file_range_at dst NULL: dst position advanced 3 -> %lld: " ZT_RES_FMT, (long long)zt_pos(dst),
          ZT_RES_ARGS(r));
    dof = 0;
    r = zcopy_copy_file_range_at(dst, &dof, src, NULL, 10);
    CHECK(zt_ok(r, 10) && dof == 10 && zt_pos(src) == 20 && zt_pos(dst) == 103,
          "copy_file_range_at src NULL: src position advanced 10 -> %lld: " ZT_RES_FMT, (long long)zt_pos(src),
          ZT_RES_ARGS(r));
    dof = -5;
    r = zcopy_copy_file_range_at(dst, &dof, src, &so, 10);
    CHECK(r.handled && r.error == EINVAL && r.written == 0, "copy_file_range_at dst offset -5 -> EINVAL: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    close(src);
    close(dst);
    free(got);
    free(data);
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
    test_cross_fs();
    test_char_dst();
    test_file_to_pipe_snapshot();
    test_sendfile_at_threads();
    test_positional_single();
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}
