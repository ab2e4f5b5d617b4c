/*
 * abi.c: the result struct as other FFIs see it, and errno after a call.
 *
 * - zcopy_result is 24 bytes: written at 0, error at 8, method at 12,
 *   handled at 16, then uint8_t reserved[7], always zero. FFIs that map
 *   `bool` as 4 bytes (Java's JNA) read bytes 16..19, so stale stack bytes
 *   there would turn handled=false into true.
 * - errno on return equals `error` (0 on success) for every transfer
 *   function, so cgo's `r, err := C.zcopy_x()` and other errno-reading
 *   FFIs see the truth, never a stale EAGAIN from inside the call.
 */
#include "zc_test.h"
#include <stddef.h>

/* Fills this much of the stack below the caller with 0xA5, so padding the
 * callee does not write shows as non-zero. */
static void __attribute__((noinline)) dirty_stack(void)
{
    volatile unsigned char junk[16384];
    size_t i;
    for (i = 0; i < sizeof junk; i++)
        junk[i] = 0xA5;
}

typedef zcopy_result (*call_fn)(void *ctx);

struct fixture {
    int file;    /* a 4 KiB file */
    int file2;   /* an empty file */
    int us[2];   /* a unix pair with 100 bytes waiting in us[1] */
    int sink[2]; /* a unix pair, read by nobody (room enough) */
    zcopy_splicer *sp;
};

static struct fixture fx;
static unsigned char data[4096];

static zcopy_result c_splice(void *c) { (void)c; return zcopy_splice(fx.sink[0], fx.us[1], 10); }
static zcopy_result c_splice_bad(void *c) { (void)c; return zcopy_splice(-1, fx.us[1], 10); }
static zcopy_result c_splice_unhandled(void *c) { (void)c; return zcopy_splice(fx.sink[0], fx.file2, 10); }
static zcopy_result c_sendfile(void *c) { (void)c; lseek(fx.file, 0, SEEK_SET); return zcopy_sendfile(fx.sink[0], fx.file, 10); }
static zcopy_result c_sendfile_bad(void *c) { (void)c; return zcopy_sendfile(fx.sink[0], 999, 10); }
static zcopy_result c_sendfile_unhandled(void *c) { (void)c; return zcopy_sendfile(fx.sink[0], fx.us[1], 10); }
static zcopy_result c_sendfile_at(void *c) { int64_t off = 0; (void)c; return zcopy_sendfile_at(fx.sink[0], fx.file, &off, 10); }
static zcopy_result c_sendfile_at_bad(void *c) { int64_t off = -5; (void)c; return zcopy_sendfile_at(fx.sink[0], fx.file, &off, 10); }
static zcopy_result c_cfr(void *c) { (void)c; lseek(fx.file, 0, SEEK_SET); return zcopy_copy_file_range(fx.file2, fx.file, 10); }
static zcopy_result c_cfr_bad(void *c) { (void)c; return zcopy_copy_file_range(fx.file2, fx.file, -1); }
static zcopy_result c_cfr_unhandled(void *c) { (void)c; return zcopy_copy_file_range(fx.sink[0], fx.file, 10); }
static zcopy_result c_cfr_at(void *c) { int64_t a = 0, b = 0; (void)c; return zcopy_copy_file_range_at(fx.file2, &a, fx.file, &b, 10); }
static zcopy_result c_cfr_at_bad(void *c) { int64_t a = -1, b = 0; (void)c; return zcopy_copy_file_range_at(fx.file2, &a, fx.file, &b, 10); }
static zcopy_result c_copy(void *c) { (void)c; lseek(fx.file, 0, SEEK_SET); return zcopy_copy(fx.sink[0], fx.file, 10); }
static zcopy_result c_copy_bad(void *c) { (void)c; return zcopy_copy(fx.sink[0], -3, 10); }
static zcopy_result c_copy_zero(void *c) { (void)c; return zcopy_copy(fx.sink[0], fx.file, 0); }
static zcopy_result c_step(void *c) { (void)c; return zcopy_splicer_step(fx.sp, fx.sink[0], fx.us[1], 10); }
static zcopy_result c_step_again(void *c) { (void)c; return zcopy_splicer_step(fx.sp, fx.sink[0], fx.us[1], ZCOPY_ALL); }
static zcopy_result c_step_null(void *c) { (void)c; return zcopy_splicer_step(NULL, fx.sink[0], fx.us[1], 10); }

struct entry {
    const char *name;
    call_fn fn;
    int want_error; /* -1: any */
};

int main(void)
{
    static const struct entry calls[] = {
        { "zcopy_splice ok", c_splice, 0 },
        { "zcopy_splice EBADF", c_splice_bad, EBADF },
        { "zcopy_splice handled=false", c_splice_unhandled, -1 },
        { "zcopy_sendfile ok", c_sendfile, 0 },
        { "zcopy_sendfile EBADF", c_sendfile_bad, EBADF },
        { "zcopy_sendfile handled=false", c_sendfile_unhandled, EINVAL },
        { "zcopy_sendfile_at ok", c_sendfile_at, 0 },
        { "zcopy_sendfile_at EINVAL", c_sendfile_at_bad, EINVAL },
        { "zcopy_copy_file_range ok", c_cfr, 0 },
        { "zcopy_copy_file_range EINVAL", c_cfr_bad, EINVAL },
        { "zcopy_copy_file_range handled=false", c_cfr_unhandled, -1 },
        { "zcopy_copy_file_range_at ok", c_cfr_at, 0 },
        { "zcopy_copy_file_range_at EINVAL", c_cfr_at_bad, EINVAL },
        { "zcopy_copy ok", c_copy, 0 },
        { "zcopy_copy EBADF", c_copy_bad, EBADF },
        { "zcopy_copy remain 0", c_copy_zero, 0 },
        { "zcopy_splicer_step ok", c_step, 0 },
        { "zcopy_splicer_step EAGAIN", c_step_again, EAGAIN },
        { "zcopy_splicer_step NULL", c_step_null, EINVAL },
    };
    size_t i;
    zt_start("abi", 60);

    CHECK(sizeof(zcopy_result) == 24, "sizeof(zcopy_result) == 24 (%zu)", sizeof(zcopy_result));
    CHECK(offsetof(zcopy_result, written) == 0 && offsetof(zcopy_result, error) == 8 &&
              offsetof(zcopy_result, method) == 12 && offsetof(zcopy_result, handled) == 16 &&
              offsetof(zcopy_result, reserved) == 17 && sizeof(((zcopy_result *)0)->reserved) == 7,
          "offsets written 0, error 8, method 12, handled 16, reserved[7] 17");
    CHECK(ZCOPY_EPANIC == 7000, "ZCOPY_EPANIC is 7000, outside every errno");
    CHECK(sizeof(ZCOPY_ALL) == 8 && ZCOPY_ALL == INT64_MAX, "ZCOPY_ALL is the int64 INT64_MAX");

    zt_fill(data, sizeof data, 5);
    fx.file = zt_file_with(data, sizeof data);
    fx.file2 = zt_tmpfile();
    zt_unix_pair(fx.us);
    zt_unix_pair(fx.sink);
    zt_set_nonblock(fx.us[1], 1);
    zt_set_nonblock(fx.sink[0], 1);
    zt_write_all(fx.us[0], data, 100);
    fx.sp = zcopy_splicer_new();
    if (!fx.sp)
        DIE("zcopy_splicer_new");

    for (i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        const struct entry *e = &calls[i];
        zcopy_result r;
        unsigned char raw[24];
        int k, zero = 1, saved;
        dirty_stack();
        memset(&r, 0xA5, sizeof r);
        errno = EAGAIN; /* stale: must not survive the call */
        r = e->fn(NULL);
        saved = errno;
        memcpy(raw, &r, sizeof raw);
        for (k = 17; k < 24; k++)
            zero &= raw[k] == 0;
        CHECK(e->want_error < 0 || r.error == e->want_error, "%s: error %d (want %d)", e->name, r.error,
              e->want_error);
        CHECK(raw[16] == 0 || raw[16] == 1, "%s: handled is 0 or 1 (%u)", e->name, raw[16]);
        CHECK(zero, "%s: bytes 17..23 (reserved) are zero: %02x %02x %02x %02x %02x %02x %02x", e->name, raw[17],
              raw[18], raw[19], raw[20], raw[21], raw[22], raw[23]);
        CHECK(saved == r.error, "%s: errno on return (%d) == error (%d)", e->name, saved, r.error);
    }
    zcopy_splicer_free(fx.sp);
    close(fx.file);
    close(fx.file2);
    close(fx.us[0]);
    close(fx.us[1]);
    close(fx.sink[0]);
    close(fx.sink[1]);
    return zt_finish();
}
