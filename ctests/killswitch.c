/*
 * killswitch.c: ZCOPY_DISABLE and zcopy_disable / zcopy_disabled (issue
 * 23). For every mask of the three mechanisms (all 8 combinations), every
 * call that would use a turned-off mechanism takes the next path of its
 * row: the bytes arrive intact, `method` names the path that really ran
 * (never a turned-off one), offsets and positions move as the call's
 * contract says. The relay and the engine copy instead of splicing (the
 * pool lends them no pipe); the splicer refuses with ENOSYS; the environment variable is
 * read at load (a child run with it set).
 */
#include "engine.h"
#include <sys/wait.h>

#define SIZE (zt_vg(1 << 20, 8))

static unsigned char *data;

/* The method a row takes under `mask`: the first of `row` not turned off. */
static int expect(uint32_t mask, const int *row, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        int m = row[i];
        uint32_t bit = m == ZCOPY_METHOD_SPLICE ? ZCOPY_DISABLE_SPLICE
                       : m == ZCOPY_METHOD_SENDFILE ? ZCOPY_DISABLE_SENDFILE
                       : m == ZCOPY_METHOD_COPY_FILE_RANGE ? ZCOPY_DISABLE_COPY_FILE_RANGE
                                                           : 0;
        if (!(mask & bit))
            return m;
    }
    return ZCOPY_METHOD_READ_WRITE;
}

static int file_equals(int fd, size_t n)
{
    unsigned char *got = malloc(n + 1);
    size_t k = zt_pread_all(fd, got, n + 1);
    int ok = k == n && memcmp(got, data, n) == 0;
    free(got);
    return ok;
}

/* file -> file: zcopy_copy, zcopy_copy_file_range, its _at form. */
static void files(uint32_t mask)
{
    static const int row[] = { ZCOPY_METHOD_COPY_FILE_RANGE, ZCOPY_METHOD_SENDFILE, ZCOPY_METHOD_READ_WRITE };
    size_t n = (size_t)SIZE;
    int src = zt_file_with(data, n), dst = zt_tmpfile();
    int64_t doff = 100, soff = 0;
    zcopy_result r;
    lseek(src, 0, SEEK_SET);
    r = zcopy_copy(dst, src, ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)n) && r.method == expect(mask, row, 3) && file_equals(dst, n),
          "mask %u: zcopy_copy file -> file: intact, method %s: " ZT_RES_FMT, mask,
          zcopy_method_name(expect(mask, row, 3)), ZT_RES_ARGS(r));
    close(dst);
    dst = zt_tmpfile();
    lseek(src, 0, SEEK_SET);
    r = zcopy_copy_file_range(dst, src, ZCOPY_ALL);
    CHECK(zt_ok(r, (long long)n) && r.method == expect(mask, row, 3) && file_equals(dst, n) && zt_pos(src) == (off_t)n,
          "mask %u: zcopy_copy_file_range: intact, method %s, position advanced: " ZT_RES_FMT, mask,
          zcopy_method_name(expect(mask, row, 3)), ZT_RES_ARGS(r));
    close(dst);
    dst = zt_tmpfile();
    lseek(src, 7, SEEK_SET);
    r = zcopy_copy_file_range_at(dst, &doff, src, &soff, ZCOPY_ALL);
    {
        int want = (mask & ZCOPY_DISABLE_COPY_FILE_RANGE) ? ZCOPY_METHOD_READ_WRITE : ZCOPY_METHOD_COPY_FILE_RANGE;
        unsigned char *got = malloc(n);
        CHECK(zt_ok(r, (long long)n) && r.method == want && doff == 100 + (int64_t)n && soff == (int64_t)n &&
                  zt_pos(src) == 7 && zt_pos(dst) == 0 && pread(dst, got, n, 100) == (ssize_t)n &&
                  memcmp(got, data, n) == 0,
              "mask %u: zcopy_copy_file_range_at: intact at the offsets, offsets advanced, positions untouched, "
              "method %s: " ZT_RES_FMT " doff=%lld soff=%lld",
              mask, zcopy_method_name(want), ZT_RES_ARGS(r), (long long)doff, (long long)soff);
        free(got);
    }
    close(dst);
    close(src);
}

/* Reads everything `fd` gets in a thread while `call` sends, then checks. */
static void file_to_socket(uint32_t mask)
{
    static const int row[] = { ZCOPY_METHOD_SENDFILE, ZCOPY_METHOD_READ_WRITE };
    size_t n = (size_t)SIZE;
    int k;
    for (k = 0; k < 4; k++) {
        int src = zt_file_with(data, n), s[2];
        struct zt_reader rd;
        int64_t off = 0;
        zcopy_result r;
        const char *what = k == 0 ? "zcopy_copy" : k == 1 ? "zcopy_sendfile" : k == 2 ? "zcopy_sendfile_at" : "zcopy_splice";
        int want = expect(mask, row, 2);
        lseek(src, 0, SEEK_SET);
        zt_unix_pair(s);
        zt_reader_start(&rd, s[1], n, 0);
        if (k == 0)
            r = zcopy_copy(s[0], src, ZCOPY_ALL);
        else if (k == 1)
            r = zcopy_sendfile(s[0], src, ZCOPY_ALL);
        else if (k == 2)
            r = zcopy_sendfile_at(s[0], src, &off, ZCOPY_ALL);
        else {
            /* zcopy_splice file -> socket splices through the pool; off, it
             * takes zcopy_copy's row: sendfile, then read/write. */
            static const int srow[] = { ZCOPY_METHOD_SPLICE, ZCOPY_METHOD_SENDFILE, ZCOPY_METHOD_READ_WRITE };
            r = zcopy_splice(s[0], src, ZCOPY_ALL);
            want = expect(mask, srow, 3);
        }
        if (k == 1 || k == 2)
            want = (mask & ZCOPY_DISABLE_SENDFILE) ? ZCOPY_METHOD_READ_WRITE : ZCOPY_METHOD_SENDFILE;
        shutdown(s[0], SHUT_WR);
        zt_join(rd.th, 30, "reader");
        CHECK(zt_ok(r, (long long)n) && r.method == want && rd.got == n && memcmp(rd.buf, data, n) == 0 &&
                  (k != 2 || (off == (int64_t)n && zt_pos(src) == 0)),
              "mask %u: %s file -> socket: intact, method %s%s: " ZT_RES_FMT, mask, what, zcopy_method_name(want),
              k == 2 ? ", offset advanced, position untouched" : "", ZT_RES_ARGS(r));
        free(rd.buf);
        close(s[0]);
        close(s[1]);
        close(src);
    }
}

/* socket -> socket and pipe -> socket: zcopy_copy and zcopy_splice. */
static void streams(uint32_t mask)
{
    size_t n = (size_t)SIZE;
    int k;
    for (k = 0; k < 4; k++) {
        int a[2], b[2];
        struct zt_writer w;
        struct zt_reader rd;
        zcopy_result r;
        int pipe_src = k >= 2;
        int want = (mask & ZCOPY_DISABLE_SPLICE) ? ZCOPY_METHOD_READ_WRITE : ZCOPY_METHOD_SPLICE;
        if (pipe_src)
            zt_pipe(a); /* a[0] read end, a[1] write end */
        else
            zt_unix_pair(a);
        zt_unix_pair(b);
        zt_writer_start(&w, a[1], data, n, 0, 1);
        zt_reader_start(&rd, b[1], n, 0);
        r = (k % 2) ? zcopy_splice(b[0], a[0], ZCOPY_ALL) : zcopy_copy(b[0], a[0], ZCOPY_ALL);
        shutdown(b[0], SHUT_WR);
        zt_join(w.th, 30, "writer");
        zt_join(rd.th, 30, "reader");
        CHECK(zt_ok(r, (long long)n) && r.method == want && rd.got == n && memcmp(rd.buf, data, n) == 0,
              "mask %u: %s %s -> socket: intact, method %s: " ZT_RES_FMT, mask, (k % 2) ? "zcopy_splice" : "zcopy_copy",
              pipe_src ? "pipe" : "socket", zcopy_method_name(want), ZT_RES_ARGS(r));
        free(rd.buf);
        close(a[0]);
        close(b[0]);
        close(b[1]);
    }
}

static uint64_t pool_lends(void)
{
    struct zcopy_pool_stats st;
    zcopy_pool_get_stats(&st);
    return st.created + st.reused;
}

/* zcopy_relay, or an engine relay, of 1 MiB: with splice off it borrows
 * no pipe. */
static void relay(uint32_t mask, int engine)
{
    size_t n = (size_t)SIZE;
    int x[2], y[2];
    struct zt_writer w;
    struct zt_reader rd;
    zcopy_relay_result rr;
    uint64_t before = pool_lends(), lent;
    const char *what = engine ? "the engine" : "zcopy_relay";
    zt_unix_pair(x);
    zt_unix_pair(y);
    shutdown(y[0], SHUT_WR);
    zt_writer_start_shut(&w, x[0], data, n, 64 * 1024);
    zt_reader_start(&rd, y[0], n, 0);
    if (engine) {
        zcopy_engine *e = zcopy_engine_new(1);
        struct done_rec d;
        rec_init(&d);
        if (zcopy_engine_add(e, x[1], y[1], NULL, rec_done, &d) != 0 || !rec_wait(&d, 30))
            DIE("engine relay did not end\n");
        rr = d.r;
        zcopy_engine_free(e);
    } else {
        rr = zcopy_relay(x[1], y[1], NULL);
    }
    zt_join(w.th, 30, "writer");
    zt_join(rd.th, 30, "reader");
    lent = pool_lends() - before;
    CHECK(rr.error == 0 && rr.a_to_b == (int64_t)n && rd.got == n && memcmp(rd.buf, data, n) == 0,
          "mask %u: %s: intact (a_to_b %lld, error %d)", mask, what, (long long)rr.a_to_b, rr.error);
    if (mask & ZCOPY_DISABLE_SPLICE)
        CHECK(lent == 0, "mask %u: %s copied: no pipe lent by the pool (%llu)", mask, what, (unsigned long long)lent);
    else
        CHECK(lent > 0, "mask %u: %s spliced: pipes lent by the pool (%llu)", mask, what, (unsigned long long)lent);
    free(rd.buf);
    close(x[0]);
    close(x[1]);
    close(y[0]);
    close(y[1]);
}

static void splicer(uint32_t mask)
{
    zcopy_splicer *sp = zcopy_splicer_new();
    int a[2], b[2];
    zcopy_result r;
    unsigned char got[16];
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_write_all(a[0], "0123456789", 10);
    r = zcopy_splicer_step(sp, b[0], a[1], ZCOPY_ALL);
    if (mask & ZCOPY_DISABLE_SPLICE) {
        zt_set_nonblock(a[1], 1);
        CHECK(!r.handled && r.error == ENOSYS && r.written == 0 && read(a[1], got, sizeof got) == 10,
              "mask %u: zcopy_splicer_step: handled false, ENOSYS, nothing taken: " ZT_RES_FMT, mask, ZT_RES_ARGS(r));
    } else {
        CHECK(r.written == 10 && r.error == EAGAIN && zt_read_full(b[1], got, 10) == 10 && !memcmp(got, "0123456789", 10),
              "mask %u: zcopy_splicer_step splices: " ZT_RES_FMT, mask, ZT_RES_ARGS(r));
    }
    zcopy_splicer_free(sp);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* Run as a child with ZCOPY_DISABLE set: the mask at load, and a call. */
static int child_main(void)
{
    int a[2], b[2];
    unsigned char got[5];
    zcopy_result r;
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_write_all(a[0], "hello", 5);
    shutdown(a[0], SHUT_WR);
    r = zcopy_copy(b[0], a[1], ZCOPY_ALL);
    if (zcopy_disabled() != (ZCOPY_DISABLE_SPLICE | ZCOPY_DISABLE_COPY_FILE_RANGE))
        return 10;
    if (!zt_ok(r, 5) || r.method != ZCOPY_METHOD_READ_WRITE || zt_read_full(b[1], got, 5) != 5 || memcmp(got, "hello", 5))
        return 11;
    return 0;
}

static void environment(const char *self)
{
    pid_t pid = fork();
    int st = 0;
    if (pid == 0) {
        setenv("ZCOPY_DISABLE", " Splice,copy_file_range,unknown", 1);
        execl(self, self, "child", (char *)NULL);
        _exit(127);
    }
    CHECK(zt_wait_child(pid, 20) == 0, "ZCOPY_DISABLE=' Splice,copy_file_range,unknown' at load: the child sees mask 5 "
                                        "and zcopy_copy socket -> socket reads and writes");
    (void)st;
}

int main(int argc, char **argv)
{
    uint32_t mask;
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child_main();
    zt_start("killswitch", 120);
    data = zt_random_buf((size_t)SIZE, 2323);
    CHECK(zcopy_disabled() == 0, "nothing disabled without ZCOPY_DISABLE");
    CHECK(zcopy_disable(0xff) == 7 && zcopy_disabled() == 7, "zcopy_disable(0xff): unknown bits dropped, returns 7");
    for (mask = 0; mask < 8; mask++) {
        CHECK(zcopy_disable(mask) == mask && zcopy_disabled() == mask, "zcopy_disable(%u) returns and sets %u", mask,
              mask);
        files(mask);
        file_to_socket(mask);
        streams(mask);
        relay(mask, 0);
        relay(mask, 1);
        splicer(mask);
    }
    zcopy_disable(0);
    environment(argv[0]);
    free(data);
    return zt_finish();
}
