/*
 * pipesize.c: the pool keeps empty pipes, also one the kernel refused to
 * grow (above pipe-max-size, or past pipe-user-pages-soft, where new pipes
 * get 2 pages and cannot grow): it is pooled and lent again at its real
 * size instead of being closed and made again on every take (a new one
 * would be refused as well). ctests/pipesoft.c covers the soft limit.
 */
#include "zc_test.h"

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* One pooled splice of n bytes socket -> socket; returns the pool's stats
 * afterwards. */
static zcopy_pool_stats one_splice(const char *label, size_t n)
{
    unsigned char *data = zt_random_buf(n, n), *got = malloc(n);
    int a[2], b[2];
    struct zt_writer w;
    struct zt_reader rd;
    zcopy_result r;
    zcopy_pool_stats s;
    if (!got)
        DIE("malloc");
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_writer_start_shut(&w, a[0], data, n, 0);
    zt_reader_start(&rd, b[1], n + 16, 0);
    r = zcopy_splice(b[0], a[1], ZCOPY_ALL);
    zt_join(w.th, 20, "writer");
    close(b[0]);
    zt_join(rd.th, 20, "reader");
    CHECK(zt_ok(r, (long long)n) && rd.got == n && memcmp(rd.buf, data, n) == 0,
          "%s: %zu bytes through the pool: " ZT_RES_FMT, label, n, ZT_RES_ARGS(r));
    zcopy_pool_get_stats(&s);
    close(a[0]);
    close(a[1]);
    close(b[1]);
    free(rd.buf);
    free(data);
    free(got);
    return s;
}

int main(void)
{
    long max = read_long("/proc/sys/fs/pipe-max-size");
    zcopy_pool_stats before, after;
    uint64_t big;
    zt_start("pipesize", 60);
    if (max <= 0)
        DIE("cannot read /proc/sys/fs/pipe-max-size");
    /* A size the kernel refuses to an unprivileged grow (EPERM above
     * pipe-max-size; even root in a container without CAP_SYS_RESOURCE):
     * the pipe stays 64 KiB. */
    big = (uint64_t)max * 2;
    CHECK(zcopy_pool_configure(0, big) == 0, "pipe_size %llu accepted", (unsigned long long)big);
    zcopy_pool_get_stats(&before);
    after = one_splice("pipe_size above pipe-max-size", 3 << 20);
    CHECK(after.idle == before.idle + 1 && after.discarded == before.discarded,
          "the pipe the kernel would not grow is pooled, not closed (idle %llu -> %llu, discarded %llu -> %llu)",
          (unsigned long long)before.idle, (unsigned long long)after.idle, (unsigned long long)before.discarded,
          (unsigned long long)after.discarded);
    CHECK(after.in_use == 0, "nothing lent (%llu)", (unsigned long long)after.in_use);
    after = one_splice("pipe_size above pipe-max-size, again", 3 << 20);
    CHECK(after.created == before.created + 1 && after.reused >= before.reused + 1,
          "and lent again at its real size, not made again (created +%llu, reused +%llu)",
          (unsigned long long)(after.created - before.created), (unsigned long long)(after.reused - before.reused));

    /* The kernel's own limit: pipes grow, and are pooled. */
    CHECK(zcopy_pool_configure(0, (uint64_t)max) == 0, "pipe_size %ld accepted", max);
    zcopy_pool_get_stats(&before);
    after = one_splice("pipe_size == pipe-max-size", 3 << 20);
    CHECK(after.idle == before.idle + 1 && after.discarded == before.discarded,
          "a pipe of the configured size goes back to the pool (idle %llu -> %llu, discarded %llu -> %llu)",
          (unsigned long long)before.idle, (unsigned long long)after.idle, (unsigned long long)before.discarded,
          (unsigned long long)after.discarded);
    after = one_splice("again", 100000);
    CHECK(after.reused >= 1 && after.created == before.created + 1, "and is reused (created %llu, reused %llu)",
          (unsigned long long)after.created, (unsigned long long)after.reused);
    zcopy_pool_drain();
    return zt_finish();
}
