/*
 * goports.c: scenarios from Go's internal/poll and os tests (see
 * REFERENCE.md), rewritten for the C ABI: splice sizes and write patterns,
 * a closed source, a two-way proxy that must not hang, file sizes around
 * page boundaries with limits one less / half / one more, sendfile sizes
 * and offsets, and the file->file start/limit matrix.
 */
#include "relay.h"

static void test_splice_sizes(void)
{
    static const int pairs[][2] = { { K_TCP, K_TCP }, { K_UNIX, K_TCP }, { K_TCP, K_UNIX },
                                    { K_TCP, K_FILE }, { K_UNIX, K_FILE } };
    size_t i;
    for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        zt_relay("splice 128B", zcopy_splice, pairs[i][0], pairs[i][1], 128, ZCOPY_ALL, 0, 200 + i,
                 ZCOPY_METHOD_SPLICE);
        zt_relay("splice 1MiB in 4KiB writes", zcopy_splice, pairs[i][0], pairs[i][1],
                 (size_t)zt_vg(1 << 20, 4), ZCOPY_ALL, 4096, 210 + i, ZCOPY_METHOD_SPLICE);
        /* a limit below, at and above the data */
        zt_relay("splice limit below", zcopy_splice, pairs[i][0], pairs[i][1], 4096, 4095, 0, 220 + i,
                 ZCOPY_METHOD_SPLICE);
        zt_relay("splice limit at", zcopy_splice, pairs[i][0], pairs[i][1], 4096, 4096, 0, 230 + i,
                 ZCOPY_METHOD_SPLICE);
        zt_relay("splice limit above", zcopy_splice, pairs[i][0], pairs[i][1], 4096, 4097, 0, 240 + i,
                 ZCOPY_METHOD_SPLICE);
    }
}

/* The source's peer closed before the call: handled, 0 bytes, dst usable. */
static void test_closed_source(void)
{
    int s[2], d[2];
    char buf[8];
    zcopy_result r;
    zt_tcp_pair(s);
    zt_tcp_pair(d);
    close(s[0]);
    r = zcopy_splice(d[0], s[1], ZCOPY_ALL);
    CHECK(zt_ok(r, 0), "splice from a TCP source whose peer closed: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(write(d[0], "ok", 2) == 2 && zt_read_full(d[1], buf, 2) == 2 && memcmp(buf, "ok", 2) == 0,
          "dst still usable after splicing from a closed source");
    close(s[1]);
    close(d[0]);
    close(d[1]);
}

struct half {
    pthread_t th;
    int dst, src;
    zcopy_result r;
};

static void *half_main(void *arg)
{
    struct half *h = arg;
    h->r = zcopy_splice(h->dst, h->src, ZCOPY_ALL);
    shutdown(h->dst, SHUT_WR);
    return NULL;
}

/* client <-> proxy (two zcopy_splice threads) <-> server. The client writes
 * "foo" and closes; the server reads to EOF, answers "bar" and closes. Both
 * proxy directions must finish. */
static void test_two_way_proxy(int answer)
{
    int cp[2], ps[2];
    struct half up, down;
    char got[16];
    size_t n;
    zt_tcp_pair(cp); /* cp[0] client, cp[1] proxy's client side */
    zt_tcp_pair(ps); /* ps[0] proxy's server side, ps[1] server */
    up.dst = ps[0];
    up.src = cp[1];
    down.dst = cp[1];
    down.src = ps[0];
    if (pthread_create(&up.th, NULL, half_main, &up) || pthread_create(&down.th, NULL, half_main, &down))
        DIE("pthread_create");
    zt_write_all(cp[0], "foo", 3);
    close(cp[0]);
    n = zt_read_full(ps[1], got, sizeof got);
    CHECK(n == 3 && memcmp(got, "foo", 3) == 0, "proxy%s: server got \"foo\" then EOF (%zu bytes)",
          answer ? " with answer" : "", n);
    if (answer)
        zt_write_all(ps[1], "bar", 3);
    close(ps[1]);
    zt_join(up.th, 20, "proxy up");
    zt_join(down.th, 20, "proxy down");
    CHECK(zt_ok(up.r, 3), "proxy client->server direction ended: " ZT_RES_FMT, ZT_RES_ARGS(up.r));
    if (answer)
        CHECK(down.r.handled && (down.r.error == 0 || down.r.error == EPIPE || down.r.error == ECONNRESET),
              "proxy server->client direction ended (client gone): " ZT_RES_FMT, ZT_RES_ARGS(down.r));
    else
        CHECK(zt_ok(down.r, 0), "proxy server->client direction ended: " ZT_RES_FMT, ZT_RES_ARGS(down.r));
    close(cp[1]);
    close(ps[0]);
}

/* Go's file sizes {1, 42, 1025, pagesize+1, 32769}, limit one less, half,
 * one more; the dst file offset equals the bytes moved (checked by
 * zt_relay for file destinations, src offset for file sources). */
static void test_file_sizes(void)
{
    size_t sizes[5];
    size_t i, k;
    sizes[0] = 1;
    sizes[1] = 42;
    sizes[2] = 1025;
    sizes[3] = (size_t)sysconf(_SC_PAGESIZE) + 1;
    sizes[4] = 32769;
    for (i = 0; i < 5; i++) {
        int64_t lims[3];
        lims[0] = (int64_t)sizes[i] - 1;
        lims[1] = (int64_t)sizes[i] / 2;
        lims[2] = (int64_t)sizes[i] + 1;
        for (k = 0; k < 3; k++) {
            uint64_t seed = 300 + i * 3 + k;
            zt_relay("splice", zcopy_splice, K_TCP, K_FILE, sizes[i], lims[k], 0, seed,
                     ZCOPY_METHOD_SPLICE);
            zt_relay("splice", zcopy_splice, K_UNIX, K_FILE, sizes[i], lims[k], 0, seed,
                     ZCOPY_METHOD_SPLICE);
            zt_relay("splice", zcopy_splice, K_FILE, K_TCP, sizes[i], lims[k], 0, seed,
                     ZCOPY_METHOD_SPLICE);
            zt_relay("sendfile", zcopy_sendfile, K_FILE, K_TCP, sizes[i], lims[k], 0, seed,
                     ZCOPY_METHOD_SENDFILE);
            zt_relay("sendfile", zcopy_sendfile, K_FILE, K_FILE, sizes[i], lims[k], 0, seed,
                     ZCOPY_METHOD_SENDFILE);
            if (lims[k] > 0)
                zt_relay("copy_file_range", zcopy_copy_file_range, K_FILE, K_FILE, sizes[i], lims[k],
                         0, seed, ZCOPY_METHOD_COPY_FILE_RANGE);
        }
    }
}

/* sendfile: 567198 bytes, exact limit, larger limit, three 3-byte sends,
 * seek to 65 KiB then send 10 KiB. */
static void test_sendfile_go(void)
{
    const size_t n = 567198;
    unsigned char *data = zt_random_buf(n, 400);
    int f, s[2];
    zcopy_result r;
    unsigned char *got = malloc(n);
    size_t k;
    if (!got)
        DIE("malloc");

    zt_relay("sendfile", zcopy_sendfile, K_FILE, K_TCP, n, ZCOPY_ALL, 0, 400, ZCOPY_METHOD_SENDFILE);
    zt_relay("sendfile exact limit", zcopy_sendfile, K_FILE, K_TCP, n, (int64_t)n, 0, 400,
             ZCOPY_METHOD_SENDFILE);
    zt_relay("sendfile larger limit", zcopy_sendfile, K_FILE, K_TCP, n, (int64_t)n * 3, 0, 400,
             ZCOPY_METHOD_SENDFILE);

    /* three 3-byte sends in a row from the same fd */
    f = zt_file_with(data, n);
    zt_unix_pair(s);
    for (k = 0; k < 3; k++) {
        r = zcopy_sendfile(s[0], f, 3);
        CHECK(zt_ok(r, 3), "sendfile 3 bytes #%zu: " ZT_RES_FMT, k + 1, ZT_RES_ARGS(r));
    }
    CHECK(zt_read_full(s[1], got, 9) == 9 && memcmp(got, data, 9) == 0 && zt_pos(f) == 9,
          "three 3-byte sendfiles delivered bytes 0..9 in order, src position 9");

    /* seek to 65 KiB, send 10 KiB */
    lseek(f, 65 * 1024, SEEK_SET);
    r = zcopy_sendfile(s[0], f, 10 * 1024);
    CHECK(zt_ok(r, 10 * 1024), "sendfile 10 KiB after seeking to 65 KiB: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(zt_read_full(s[1], got, 10 * 1024) == 10 * 1024 &&
              memcmp(got, data + 65 * 1024, 10 * 1024) == 0 && zt_pos(f) == 75 * 1024,
          "the 10 KiB are bytes 65 KiB..75 KiB; src position 75 KiB");
    close(s[0]);
    close(s[1]);
    close(f);
    free(got);
    free(data);
}

/* File -> file with src start {0,100,size} x dst start {0,200} x limit
 * {rest, rest-100, 2*size, 0}: count, both offsets, content. */
static void file_matrix(const char *name, int which)
{
    const size_t size = 100000;
    unsigned char *data = zt_random_buf(size, 500);
    unsigned char *got = malloc(size + 400);
    size_t starts[3] = { 0, 100, size };
    size_t dstarts[2] = { 0, 200 };
    size_t i, j, k;
    if (!got)
        DIE("malloc");
    for (i = 0; i < 3; i++)
        for (j = 0; j < 2; j++)
            for (k = 0; k < 4; k++) {
                size_t rest = size - starts[i];
                int64_t lim = k == 0 ? (int64_t)rest : k == 1 ? (int64_t)rest - 100
                              : k == 2 ? (int64_t)size * 2 : 0;
                size_t want;
                int src = zt_file_with(data, size);
                int dst = zt_tmpfile();
                zcopy_result r;
                unsigned char pre[200];
                if (lim < 0)
                    lim = 0;
                want = (size_t)lim < rest ? (size_t)lim : rest;
                memset(pre, 'P', sizeof pre);
                zt_write_all(dst, pre, dstarts[j]);
                lseek(src, (off_t)starts[i], SEEK_SET);
                if (which == 0)
                    r = zcopy_copy_file_range(dst, src, lim);
                else if (which == 1)
                    r = zcopy_sendfile(dst, src, lim);
                else
                    r = zcopy_copy(dst, src, lim);
                /* copy_file_range answers handled=false for a source at EOF
                 * (first round 0 bytes): Go falls back then, and so do we. */
                if (which == 0 && !r.handled && r.written == 0 && r.error == 0 && want == 0 && lim > 0)
                    r.handled = true;
                CHECK(zt_ok(r, (long long)want) &&
                          zt_pos(src) == (off_t)(starts[i] + want) &&
                          zt_pos(dst) == (off_t)(dstarts[j] + want) &&
                          zt_fsize(dst) == (off_t)(dstarts[j] + want) &&
                          zt_pread_all(dst, got, size + 400) == dstarts[j] + want &&
                          memcmp(got, pre, dstarts[j]) == 0 &&
                          memcmp(got + dstarts[j], data + starts[i], want) == 0,
                      "%s src start %zu dst start %zu limit %lld: " ZT_RES_FMT
                      ", src pos %lld, dst pos %lld, content", name, starts[i], dstarts[j],
                      (long long)lim, ZT_RES_ARGS(r), (long long)zt_pos(src), (long long)zt_pos(dst));
                close(src);
                close(dst);
            }
    free(got);
    free(data);
}

/* Go's biggest splice case: 1 GiB in 5 MiB writes (needs 2 GiB of memory and
 * a few seconds, so it runs with ZCOPY_SOAK=1). */
static void test_splice_1gib(void)
{
    if (!zt_env_flag("ZCOPY_SOAK")) {
        zt_skip("splice 1 GiB in 5 MiB writes: runs with ZCOPY_SOAK=1 (2 GiB of memory)");
        return;
    }
    zt_relay("splice 1GiB in 5MiB writes", zcopy_splice, K_TCP, K_TCP, (size_t)1 << 30, ZCOPY_ALL, 5 << 20, 250,
             ZCOPY_METHOD_SPLICE);
    zt_relay("splice 1GiB in 5MiB writes", zcopy_splice, K_UNIX, K_TCP, (size_t)1 << 30, ZCOPY_ALL, 5 << 20, 251,
             ZCOPY_METHOD_SPLICE);
}

int main(void)
{
    int fds_before;
    zt_start("goports", zt_env_flag("ZCOPY_SOAK") ? 600 : 100);
    fds_before = zt_fd_count();
    test_splice_sizes();
    test_splice_1gib();
    test_closed_source();
    test_two_way_proxy(0);
    test_two_way_proxy(1);
    test_file_sizes();
    test_sendfile_go();
    file_matrix("copy_file_range", 0);
    file_matrix("sendfile", 1);
    file_matrix("zcopy_copy", 2);
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}
