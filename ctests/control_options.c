/*
 * control_options.c: EINVAL (or EBADF) for bad zcopy_options on every
 * *_opts call with nothing moved; NULL options behave as the plain call;
 * zcopy_options_init's defaults; a cancel fd readable at the start.
 */
#include "control.h"

static void bad_options(void)
{
    static const struct {
        const char *what;
        uint32_t size, flags;
        int64_t timeout;
        int32_t cancel, reserved;
        int want;
    } bad[] = {
        { "size 16", 16, 0, 0, -1, 0, EINVAL },       { "size 32", 32, 0, 0, -1, 0, EINVAL },
        { "unknown flag 32", 24, 32, 0, -1, 0, EINVAL }, { "flag bit 31", 24, 1u << 31, 0, -1, 0, EINVAL },
        { "reserved 1", 24, 0, 0, -1, 1, EINVAL },    { "timeout -1", 24, 0, -1, -1, 0, EINVAL },
        { "cancel_fd -2", 24, 0, 0, -2, 0, EINVAL },  { "cancel_fd closed", 24, 0, 0, 999, 0, EBADF },
    };
    opts_fn fns[] = { zcopy_copy_opts, zcopy_splice_opts, zcopy_sendfile_opts, zcopy_copy_file_range_opts };
    const char *names[] = { "zcopy_copy_opts", "zcopy_splice_opts", "zcopy_sendfile_opts",
                            "zcopy_copy_file_range_opts" };
    size_t i, f;
    unsigned char data[100], got[200];
    int s[2], d[2];
    zt_fill(data, sizeof data, 46);
    zt_unix_pair(s);
    zt_unix_pair(d);
    zt_set_nonblock(s[1], 1);
    zt_write_all(s[0], data, sizeof data);
    for (f = 0; f < 4; f++)
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            zcopy_options o;
            zcopy_result r;
            o.size = bad[i].size;
            o.flags = bad[i].flags;
            o.idle_timeout_ms = bad[i].timeout;
            o.cancel_fd = bad[i].cancel;
            o.reserved = bad[i].reserved;
            errno = 0;
            r = fns[f](d[0], s[1], 100, &o);
            CHECK(r.error == bad[i].want && r.written == 0 && errno == bad[i].want, "%s, %s: %s, nothing moved: " ZT_RES_FMT,
                  names[f], bad[i].what, strerror(bad[i].want), ZT_RES_ARGS(r));
        }
    CHECK(read(s[1], got, sizeof got) == (ssize_t)sizeof data, "bad options: src still holds its 100 bytes");
    /* NULL options: exactly zcopy_copy */
    zt_write_all(s[0], data, sizeof data);
    shutdown(s[0], SHUT_WR);
    {
        zcopy_result r = zcopy_copy_opts(d[0], s[1], ZCOPY_ALL, NULL);
        CHECK(zt_ok(r, 100) && r.method == ZCOPY_METHOD_SPLICE, "NULL options: as zcopy_copy: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
    }
    /* defaults: as plain */
    {
        zcopy_options o;
        zcopy_options_init(&o);
        CHECK(o.size == 40 && o.flags == 0 && o.idle_timeout_ms == 0 && o.cancel_fd == -1 && o.reserved == 0 &&
                  o.rate_a_to_b == 0 && o.rate_b_to_a == 0,
              "zcopy_options_init: size 40, flags 0, no timeout, cancel_fd -1, no rates");
    }
    {
        int efd = eventfd(1, EFD_CLOEXEC);
        zcopy_options o;
        zcopy_result r;
        int p[2];
        zt_unix_pair(p);
        zt_write_all(p[0], data, sizeof data);
        zcopy_options_init(&o);
        o.cancel_fd = efd;
        r = zcopy_copy_opts(d[0], p[1], ZCOPY_ALL, &o);
        CHECK(r.error == ECANCELED && r.written == 0, "a cancel fd readable at the start: ECANCELED, nothing moved: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        zt_set_nonblock(p[1], 1);
        CHECK(read(p[1], got, sizeof got) == (ssize_t)sizeof data, "and src still holds its bytes");
        close(p[0]);
        close(p[1]);
        close(efd);
    }
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
}

int main(void)
{
    control_start("control_options");
    bad_options();
    return control_finish();
}
