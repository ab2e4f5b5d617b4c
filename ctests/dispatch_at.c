/*
 * dispatch_at.c: the positional variants zcopy_sendfile_at and
 * zcopy_copy_file_range_at: 8 threads on distinct ranges of one fd, and
 * offsets, NULL offsets and bad offsets, the fd positions untouched.
 */
#include "zc_test.h"

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
    zt_start("dispatch_at", 100);
    fds_before = zt_fd_count();
    test_sendfile_at_threads();
    test_positional_single();
    return zt_finish_drained(fds_before);
}
