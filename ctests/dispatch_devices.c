/*
 * dispatch_devices.c: zcopy_copy across filesystems (tmpfs <-> disk), to
 * /dev/null and a pty, and file -> pipe by read/write, so that a later
 * change to the file does not reach the reader.
 * Each case prints the mechanism it took ("# method ...").
 */
#include "relay.h"
#include <termios.h>

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
        zt_method_line(what, r);
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
    zt_method_line("file -> /dev/null", r);
    {
        int s[2];
        struct zt_writer w;
        zt_unix_pair(s);
        zt_writer_start(&w, s[0], data, n, 0, 1);
        r = zcopy_copy(null, s[1], ZCOPY_ALL);
        zt_join(w.th, 20, "writer");
        CHECK(zt_ok(r, (long long)n), "unix socket -> /dev/null: " ZT_RES_FMT, ZT_RES_ARGS(r));
        zt_method_line("unix socket -> /dev/null", r);
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
        zt_method_line("file -> pty", r);
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
    zt_method_line("file -> pipe", r);
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

int main(void)
{
    int fds_before;
    zt_start("dispatch_devices", 100);
    fds_before = zt_fd_count();
    test_cross_fs();
    test_char_dst();
    test_file_to_pipe_snapshot();
    return zt_finish_drained(fds_before);
}
