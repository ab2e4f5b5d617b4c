/*
 * splicer_contract.c: what one zcopy_splicer_step promises, step by step.
 *
 * 4. remain: at most remain taken from src per step (FIONREAD on src);
 *    remain 0 only delivers what is pending; a step from /dev/zero to
 *    /dev/null stops at the 16 MiB budget.
 * 5. Fallback: a directory or an eventfd as src: handled=false, nothing
 *    consumed. An O_APPEND file as dst: handled=false, nothing taken.
 * 6. NULL splicer, negative fds, negative remain.
 */
#include "splicer.h"

/* ---------- 4: remain ---------- */

static void test_remain(void)
{
    enum { N = 60000 };
    unsigned char *data = zt_random_buf(N, 400);
    unsigned char *got = malloc(N + 1);
    int s[2], d[2], d2[2];
    zcopy_splicer *sp = zcopy_splicer_new();
    zcopy_result r;
    size_t off = 0, got_n = 0, n2 = 0, prefill = 0;
    unsigned char *junkbuf;
    int64_t p;
    long long w2 = 0;
    double deadline;

    if (!sp || !got)
        DIE("setup");
    stream_pair(UNIX, s, 0, 0);
    stream_pair(UNIX, d, 0, 0);
    stream_pair(UNIX, d2, 0, 4096);
    if (zt_write_all(s[0], data, N) < 0)
        DIE("write src");
    CHECK(inq(s[1]) == N, "remain: src holds %d bytes (FIONREAD %d)", N, inq(s[1]));

    r = zcopy_splicer_step(sp, d[1], s[1], 1000);
    CHECK(zt_ok(r, 1000) && zcopy_splicer_pending(sp) == 0 && zcopy_splicer_wants(sp) == 0 && !zcopy_splicer_eof(sp),
          "remain 1000: " ZT_RES_FMT ", pending 0, wants 0, eof false", ZT_RES_ARGS(r));
    CHECK(inq(s[1]) == N - 1000, "remain 1000: exactly 1000 taken from src (%d left)", inq(s[1]));
    off = 1000;

    r = zcopy_splicer_step(sp, d[1], s[1], 0);
    CHECK(zt_ok(r, 0) && zcopy_splicer_wants(sp) == 0 && zcopy_splicer_pending(sp) == 0 && !zcopy_splicer_eof(sp),
          "remain 0, nothing pending: " ZT_RES_FMT ", wants 0, eof false", ZT_RES_ARGS(r));
    CHECK(inq(s[1]) == N - 1000, "remain 0: nothing taken from src (%d left)", inq(s[1]));

    r = zcopy_splicer_step(sp, d[1], s[1], 1);
    CHECK(zt_ok(r, 1) && inq(s[1]) == N - 1001, "remain 1: " ZT_RES_FMT ", one byte taken (%d left)", ZT_RES_ARGS(r),
          inq(s[1]));
    off = 1001;

    /* dst (4 KiB send buffer, nobody reading) is filled up first: the
     * splicer must hold what it takes. */
    for (;;) {
        unsigned char junk[512];
        ssize_t k;
        memset(junk, 'j', sizeof junk);
        k = write(d2[1], junk, sizeof junk);
        if (k <= 0)
            break;
        prefill += (size_t)k;
    }
    r = zcopy_splicer_step(sp, d2[1], s[1], 30000);
    p = zcopy_splicer_pending(sp);
    w2 = r.written;
    CHECK(r.error == EAGAIN && zcopy_splicer_wants(sp) == ZCOPY_WANT_WRITE && p > 0 && r.written + p == 30000,
          "remain 30000 into a full dst: " ZT_RES_FMT ", pending %lld, written + pending == 30000", ZT_RES_ARGS(r),
          (long long)p);
    CHECK(inq(s[1]) == N - 31001, "remain 30000: exactly 30000 taken from src (%d left)", inq(s[1]));
    if (r.error == EAGAIN && p > 0)
        g_eagain_pending++;
    r = zcopy_splicer_step(sp, d2[1], s[1], 0);
    CHECK(r.error == EAGAIN && r.written == 0 && zcopy_splicer_pending(sp) == p && inq(s[1]) == N - 31001,
          "remain 0, dst still full: " ZT_RES_FMT ", pending still %lld, src untouched", ZT_RES_ARGS(r), (long long)p);

    /* remain 0 delivers the pending bytes, and takes nothing. */
    junkbuf = malloc(prefill + 1);
    if (!junkbuf)
        DIE("malloc");
    CHECK(zt_read_full(d2[0], junkbuf, prefill) == prefill, "remain: read back the %zu filler bytes", prefill);
    free(junkbuf);
    deadline = zt_now() + (zt_valgrind() ? 40 : 5);
    while (zt_now() < deadline) {
        read_available(d2[0], got, N, &n2);
        r = zcopy_splicer_step(sp, d2[1], s[1], 0);
        w2 += r.written;
        QCHECK(inq(s[1]) == N - 31001, "remain 0 took from src (%d left)", inq(s[1]));
        if (r.error != EAGAIN)
            break;
        wait_for(d2[1], ZCOPY_WANT_WRITE, 100);
    }
    read_available(d2[0], got, N, &n2);
    CHECK(r.error == 0 && zcopy_splicer_pending(sp) == 0 && zcopy_splicer_wants(sp) == 0 && w2 == 30000 &&
              inq(s[1]) == N - 31001,
          "remain 0 steps delivered all held bytes (%lld) and took nothing from src (%d left)", w2, inq(s[1]));
    CHECK(n2 == 30000 && memcmp(got, data + off, 30000) == 0, "the 30000 bytes reached the second dst intact (%zu)",
          n2);
    off += 30000;

    /* The rest, then EOF. */
    r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
    CHECK(r.error == EAGAIN && r.written == N - 31001 && zcopy_splicer_wants(sp) == ZCOPY_WANT_READ && inq(s[1]) == 0,
          "remain ZCOPY_ALL: the other %d bytes, then WANT_READ: " ZT_RES_FMT, N - 31001, ZT_RES_ARGS(r));
    shutdown(s[0], SHUT_WR);
    r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
    CHECK(zt_ok(r, 0) && zcopy_splicer_eof(sp) && zcopy_splicer_wants(sp) == 0,
          "after src's half-close: EOF (" ZT_RES_FMT ")", ZT_RES_ARGS(r));
    shutdown(d[1], SHUT_WR);
    got_n = zt_read_full(d[0], got, N + 1);
    CHECK(got_n == 1001 + (size_t)(N - 31001) && memcmp(got, data, 1001) == 0 &&
              memcmp(got + 1001, data + 31001, N - 31001) == 0,
          "the first dst got bytes [0,1001) and [31001,%d) intact (%zu bytes)", N, got_n);
    g_checked += N;
    zcopy_splicer_free(sp);
    close_pairs(s, d);
    close(d2[0]);
    close(d2[1]);
    free(got);
    free(data);
}

/* The 16 MiB step budget: /dev/zero -> /dev/null never blocks and never
 * ends, so only the budget (or remain) stops a step. */
static void test_budget(void)
{
    int z = open("/dev/zero", O_RDONLY | O_CLOEXEC), nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    zcopy_splicer *sp = zcopy_splicer_new();
    zcopy_result r;
    if (z < 0 || nul < 0 || !sp)
        DIE("setup");
    r = zcopy_splicer_step(sp, nul, z, ZCOPY_ALL);
    CHECK(zt_ok(r, 16 * MIB) && zcopy_splicer_wants(sp) == 0 && zcopy_splicer_pending(sp) == 0 &&
              !zcopy_splicer_eof(sp),
          "budget: /dev/zero -> /dev/null with ZCOPY_ALL stops at 16 MiB: " ZT_RES_FMT
          ", wants 0, pending 0, eof false (step again)",
          ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, nul, z, 5 * MIB + 3);
    CHECK(zt_ok(r, 5 * MIB + 3) && zcopy_splicer_wants(sp) == 0 && !zcopy_splicer_eof(sp),
          "budget: remain 5 MiB + 3 moves exactly that: " ZT_RES_FMT, ZT_RES_ARGS(r));
    g_steps += 2;
    zcopy_splicer_free(sp);
    close(z);
    close(nul);
}

/* ---------- 5: fallback ---------- */

static void test_fallback(void)
{
    int d[2], s[2];
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int efd = eventfd(5, EFD_CLOEXEC | EFD_NONBLOCK);
    int app = zt_tmpfile_in("/tmp", O_APPEND);
    zcopy_splicer *sp = zcopy_splicer_new();
    zcopy_result r;
    uint64_t v = 0;
    unsigned char data[5000];
    int64_t p;
    off_t sz;

    if (dir < 0 || efd < 0 || !sp)
        DIE("setup");
    stream_pair(UNIX, d, 0, 0);

    r = zcopy_splicer_step(sp, d[1], dir, ZCOPY_ALL);
    CHECK(!r.handled && r.error == EINVAL && r.written == 0 && zcopy_splicer_pending(sp) == 0,
          "a directory as src: handled=false, EINVAL, nothing consumed: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(lseek(dir, 0, SEEK_CUR) == 0 && inq(d[0]) == 0, "directory position untouched, dst got nothing");

    r = zcopy_splicer_step(sp, d[1], efd, ZCOPY_ALL);
    CHECK(!r.handled && r.error == EINVAL && r.written == 0 && zcopy_splicer_pending(sp) == 0,
          "an eventfd as src: handled=false, EINVAL: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(read(efd, &v, sizeof v) == (ssize_t)sizeof v && v == 5, "the eventfd's counter is still 5 (got %llu)",
          U(v));

    /* The same splicer still works on a pair it can serve. */
    pump_checked(sp, UNIX, 100000, 500, "after two handled=false steps");

    /* An O_APPEND file as dst (splice into it gives EINVAL only after the
     * bytes were taken into the pipe): the splicer checks dst first and
     * answers handled=false with nothing taken, so the caller can fall back. */
    zt_fill(data, sizeof data, 501);
    stream_pair(UNIX, s, 0, 0);
    if (zt_write_all(s[0], data, sizeof data) < 0)
        DIE("write");
    r = zcopy_splicer_step(sp, app, s[1], ZCOPY_ALL);
    p = zcopy_splicer_pending(sp);
    sz = zt_fsize(app);
    zt_info("O_APPEND dst: " ZT_RES_FMT ", pending %lld, %d bytes left in src, file size %lld", ZT_RES_ARGS(r),
            (long long)p, inq(s[1]), (long long)sz);
    CHECK(r.error == EINVAL && !r.handled && r.written == 0 && p == 0 && inq(s[1]) == (int)sizeof data && sz == 0,
          "an O_APPEND file as dst: handled=false, EINVAL, nothing taken (all %zu bytes still in src)", sizeof data);
    zcopy_splicer_free(sp);
    close_pairs(s, d);
    close(dir);
    close(efd);
    close(app);
}

/* ---------- 6: NULL and bad arguments ---------- */

static void test_args(void)
{
    zcopy_result r;
    zcopy_splicer *sp;
    int s[2], d[2];
    zcopy_splicer_free(NULL);
    CHECK(1, "zcopy_splicer_free(NULL) returns");
    r = zcopy_splicer_step(NULL, 1, 0, 100);
    CHECK(r.error == EINVAL && r.written == 0, "step(NULL, ...): " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(zcopy_splicer_pending(NULL) == 0 && zcopy_splicer_wants(NULL) == 0 && !zcopy_splicer_eof(NULL),
          "pending/wants/eof(NULL): 0, 0, false");

    sp = zcopy_splicer_new();
    if (!sp)
        DIE("zcopy_splicer_new");
    stream_pair(UNIX, s, 0, 0);
    stream_pair(UNIX, d, 0, 0);
    zt_write_all(s[0], "0123456789", 10);
    r = zcopy_splicer_step(sp, -1, s[1], ZCOPY_ALL);
    CHECK(r.handled && r.error == EBADF && r.written == 0, "dst -1: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], -1, ZCOPY_ALL);
    CHECK(r.handled && r.error == EBADF && r.written == 0, "src -1: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], INT32_MIN, ZCOPY_ALL);
    CHECK(r.handled && r.error == EBADF && r.written == 0, "src INT_MIN: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], s[1], -1);
    CHECK(r.handled && r.error == EINVAL && r.written == 0, "remain -1: " ZT_RES_FMT, ZT_RES_ARGS(r));
    r = zcopy_splicer_step(sp, d[1], s[1], INT64_MIN);
    CHECK(r.handled && r.error == EINVAL && r.written == 0, "remain INT64_MIN: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(inq(s[1]) == 10 && zcopy_splicer_pending(sp) == 0 && zcopy_splicer_wants(sp) == 0,
          "bad arguments consumed nothing (src still holds %d bytes), wants 0", inq(s[1]));
    r = zcopy_splicer_step(sp, d[1], s[1], ZCOPY_ALL);
    {
        char b[10];
        CHECK(r.error == EAGAIN && r.written == 10 && zt_read_full(d[0], b, 10) == 10 &&
                  memcmp(b, "0123456789", 10) == 0,
              "the splicer works after the bad calls: " ZT_RES_FMT, ZT_RES_ARGS(r));
    }
    zcopy_splicer_free(sp);
    close_pairs(s, d);
}


int main(void)
{
    struct splicer_run run = splicer_begin("splicer_contract", 60);
    test_remain();
    test_budget();
    test_fallback();
    test_args();
    return splicer_end(run);
}
