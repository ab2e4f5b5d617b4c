/*
 * options_v2.c: zcopy_options version 2 (issue 23). The struct is 40 bytes
 * with the two rates at 24 and 32; a version 1 caller's 24-byte struct
 * (size 24) is still accepted and never read past its end (it sits against
 * an unmapped page here, so a read past it kills the program); negative
 * rates are EINVAL everywhere, non-zero rates are EINVAL in every call that
 * is not a relay and accepted by zcopy_relay and zcopy_engine_add; the two
 * REFLINK flags together are EINVAL.
 */
#include "zc_test.h"
#include <stddef.h>
#include <sys/mman.h>

/* Version 1 as a caller built against the old header declares it. */
struct options_v1 {
    uint32_t size, flags;
    int64_t idle_timeout_ms;
    int32_t cancel_fd, reserved;
};

typedef zcopy_result (*opts_fn)(int, int, int64_t, const zcopy_options *);

static void layout(void)
{
    zcopy_options o;
    CHECK(sizeof(zcopy_options) == 40 && offsetof(zcopy_options, size) == 0 && offsetof(zcopy_options, flags) == 4 &&
              offsetof(zcopy_options, idle_timeout_ms) == 8 && offsetof(zcopy_options, cancel_fd) == 16 &&
              offsetof(zcopy_options, reserved) == 20 && offsetof(zcopy_options, rate_a_to_b) == 24 &&
              offsetof(zcopy_options, rate_b_to_a) == 32,
          "zcopy_options: 40 bytes, rates at 24 and 32");
    memset(&o, 0x5a, sizeof o);
    zcopy_options_init(&o);
    CHECK(o.size == 40 && o.rate_a_to_b == 0 && o.rate_b_to_a == 0 && o.cancel_fd == -1,
          "zcopy_options_init: size 40, rates 0");
    CHECK(ZCOPY_OPT_REFLINK_NEVER == 8 && ZCOPY_OPT_REFLINK_ALWAYS == 16, "REFLINK flags are 8 and 16");
}

/* A version 1 struct at the very end of a readable page: the next page is
 * PROT_NONE, so reading one byte past its 24 is a SIGSEGV. */
static void version1_at_page_end(void)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct options_v1 *v1;
    unsigned char data[300], got[300];
    int s[2], d[2];
    zcopy_result r;
    zcopy_relay_result rr;
    if (map == MAP_FAILED || mprotect(map + page, page, PROT_NONE) != 0)
        DIE("mmap/mprotect: %s\n", strerror(errno));
    v1 = (struct options_v1 *)(map + page - sizeof *v1);
    v1->size = 24;
    v1->flags = 0;
    v1->idle_timeout_ms = 5000;
    v1->cancel_fd = -1;
    v1->reserved = 0;
    zt_fill(data, sizeof data, 23);
    zt_unix_pair(s);
    zt_unix_pair(d);
    zt_write_all(s[0], data, sizeof data);
    shutdown(s[0], SHUT_WR);
    r = zcopy_copy_opts(d[0], s[1], ZCOPY_ALL, (const zcopy_options *)v1);
    CHECK(zt_ok(r, sizeof data), "zcopy_copy_opts with a 24-byte version 1 struct: accepted, read only 24 bytes: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    CHECK(zt_read_full(d[1], got, sizeof data) == sizeof data && memcmp(got, data, sizeof data) == 0,
          "and the bytes arrived intact");
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    /* The relay and the engine read it the same way. */
    zt_unix_pair(s);
    zt_unix_pair(d);
    shutdown(s[0], SHUT_WR);
    shutdown(d[0], SHUT_WR);
    rr = zcopy_relay(s[1], d[1], (const zcopy_options *)v1);
    CHECK(rr.error == 0 && rr.a_to_b == 0 && rr.b_to_a == 0, "zcopy_relay with a version 1 struct: accepted (error %d)",
          rr.error);
    v1->size = 32; /* an unknown size: read as far as 24 bytes, then refused */
    r = zcopy_copy_opts(d[0], s[1], 1, (const zcopy_options *)v1);
    CHECK(r.error == EINVAL && r.written == 0, "size 32 at a page end: EINVAL, no read past 24: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    munmap(map, 2 * page);
}

static void rates(void)
{
    static const struct {
        const char *what;
        uint32_t size, flags;
        int64_t a, b;
        int want_transfer, want_relay;
    } cases[] = {
        { "rate_a_to_b -1", 40, 0, -1, 0, EINVAL, EINVAL },
        { "rate_b_to_a -1", 40, 0, 0, -1, EINVAL, EINVAL },
        { "rate_a_to_b 1000", 40, 0, 1000, 0, EINVAL, 0 },
        { "rate_b_to_a 1", 40, 0, 0, 1, EINVAL, 0 },
        { "both REFLINK flags", 40, ZCOPY_OPT_REFLINK_NEVER | ZCOPY_OPT_REFLINK_ALWAYS, 0, 0, EINVAL, EINVAL },
        { "size 24 ignores the rate fields", 24, 0, -1, 7, 0, 0 },
        { "size 40, rates 0", 40, 0, 0, 0, 0, 0 },
    };
    opts_fn fns[] = { zcopy_copy_opts, zcopy_splice_opts, zcopy_sendfile_opts, zcopy_copy_file_range_opts };
    const char *names[] = { "zcopy_copy_opts", "zcopy_splice_opts", "zcopy_sendfile_opts",
                            "zcopy_copy_file_range_opts" };
    size_t i, f;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zcopy_options o;
        zcopy_relay_result rr;
        zcopy_engine *e;
        int s[2], d[2], rc;
        zcopy_options_init(&o);
        o.size = cases[i].size;
        o.flags = cases[i].flags;
        o.rate_a_to_b = cases[i].a;
        o.rate_b_to_a = cases[i].b;
        for (f = 0; f < 4; f++) {
            int src = zt_file_with("abc", 3), dst = zt_tmpfile();
            zcopy_result r = fns[f](dst, src, 3, &o);
            if (cases[i].want_transfer)
                CHECK(r.error == cases[i].want_transfer && r.written == 0 && zt_pos(src) == 0,
                      "%s, %s: EINVAL, nothing moved: " ZT_RES_FMT, names[f], cases[i].what, ZT_RES_ARGS(r));
            else
                CHECK(r.error == 0 && r.written == 3, "%s, %s: accepted: " ZT_RES_FMT, names[f], cases[i].what,
                      ZT_RES_ARGS(r));
            close(src);
            close(dst);
        }
        zt_unix_pair(s);
        zt_unix_pair(d);
        shutdown(s[0], SHUT_WR);
        shutdown(d[0], SHUT_WR);
        rr = zcopy_relay(s[1], d[1], &o);
        CHECK(rr.error == cases[i].want_relay, "zcopy_relay, %s: error %d (want %d)", cases[i].what, rr.error,
              cases[i].want_relay);
        e = zcopy_engine_new(1);
        rc = zcopy_engine_add(e, s[1], d[1], &o, NULL, NULL);
        CHECK(rc == cases[i].want_relay, "zcopy_engine_add, %s: %d (want %d)", cases[i].what, rc,
              cases[i].want_relay);
        zcopy_engine_free(e);
        close(s[0]);
        close(s[1]);
        close(d[0]);
        close(d[1]);
    }
}

int main(void)
{
    zt_start("options_v2", 60);
    layout();
    version1_at_page_end();
    rates();
    return zt_finish();
}
