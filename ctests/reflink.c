/*
 * reflink.c: zcopy_clone and the ZCOPY_OPT_REFLINK_* choice of
 * zcopy_copy_opts (issue 23), with coreutils' meaning:
 * - on an XFS image made here with reflink=1 and loop-mounted: a clone
 *   shares its extents (FIEMAP says FIEMAP_EXTENT_SHARED) and is
 *   copy-on-write; ALWAYS clones from both positions and moves them;
 *   NEVER really copies (no shared extent, no copy_file_range); auto
 *   copies with copy_file_range; across filesystems: EXDEV, dst untouched;
 *   unaligned ranges: EINVAL, dst untouched.
 * - on /tmp (ext4 or tmpfs, which cannot clone): ALWAYS and zcopy_clone
 *   answer EOPNOTSUPP with dst as it was (never a partial file); auto is
 *   a copy.
 * Needs root, mkfs.xfs (tests/c_harness.rs installs xfsprogs) and loop
 * devices; only where loop devices are missing is the XFS part skipped,
 * and it says so.
 */
#include "zc_test.h"
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define SIZE ((size_t)(1 << 20) + 123) /* not a whole number of blocks */

static char img[64], mnt[64];
static int mounted;
static unsigned char *data;

static void cleanup(void)
{
    char cmd[200];
    if (mounted) {
        snprintf(cmd, sizeof cmd, "umount %s 2>/dev/null || umount -l %s", mnt, mnt);
        if (system(cmd) != 0)
            printf("# umount %s failed\n", mnt);
    }
    rmdir(mnt);
    unlink(img);
}

/* 1 when extents of fd are shared with another file (FIEMAP), 0 when none
 * is, -1 when unknown. (After a clone the tail block past src's end may
 * show as an extent of dst's own.) */
static int shared_extents(int fd)
{
    union {
        struct fiemap fm;
        unsigned char raw[sizeof(struct fiemap) + 64 * sizeof(struct fiemap_extent)];
    } u;
    unsigned i, shared = 0;
    memset(&u, 0, sizeof u);
    u.fm.fm_length = ~0ULL;
    u.fm.fm_flags = FIEMAP_FLAG_SYNC;
    u.fm.fm_extent_count = 64;
    if (ioctl(fd, FS_IOC_FIEMAP, &u.fm) != 0 || u.fm.fm_mapped_extents == 0)
        return -1;
    for (i = 0; i < u.fm.fm_mapped_extents; i++)
        shared += (u.fm.fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED) != 0;
    return shared > 0;
}

static int same_as_data(int fd, size_t n)
{
    unsigned char *got = malloc(n + 1);
    int ok = zt_pread_all(fd, got, n + 1) == n && memcmp(got, data, n) == 0;
    free(got);
    return ok;
}

static int opts_copy(int dst, int src, uint32_t flags, zcopy_result *r)
{
    zcopy_options o;
    zcopy_options_init(&o);
    o.flags = flags;
    *r = zcopy_copy_opts(dst, src, ZCOPY_ALL, &o);
    return r->error;
}

/* Returns 0 when the XFS image is mounted, 1 when loop devices are
 * missing (skip), -1 on any other failure. */
static int mount_xfs(void)
{
    char cmd[300];
    snprintf(img, sizeof img, "/tmp/zcopy-reflink-%d.img", (int)getpid());
    snprintf(mnt, sizeof mnt, "/tmp/zcopy-reflink-%d.mnt", (int)getpid());
    atexit(cleanup);
    if (access("/dev/loop-control", F_OK) != 0 && access("/dev/loop0", F_OK) != 0)
        return 1;
    if (system("command -v mkfs.xfs >/dev/null 2>&1") != 0) {
        printf("# mkfs.xfs missing (apt-get install -y xfsprogs)\n");
        return -1;
    }
    snprintf(cmd, sizeof cmd, "truncate -s 512M %s && mkfs.xfs -q -f -m reflink=1 %s", img, img);
    if (system(cmd) != 0 || mkdir(mnt, 0700) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "mount -o loop %s %s", img, mnt);
    if (system(cmd) != 0) {
        /* A loop device that cannot be had is "missing" here too. */
        snprintf(cmd, sizeof cmd, "losetup -f >/dev/null 2>&1");
        return system(cmd) != 0 ? 1 : -1;
    }
    mounted = 1;
    return 0;
}

static void on_xfs(void)
{
    int src = zt_file_with_in(mnt, data, SIZE), dst = zt_tmpfile_in(mnt, 0), tmpsrc, rc;
    zcopy_result r;
    unsigned char b;
    long long big = 3 << 20;
    /* zcopy_clone onto a longer dst: replaced, cut to src's size. */
    if (ftruncate(dst, big) != 0)
        DIE("ftruncate\n");
    lseek(src, 5, SEEK_SET);
    r = zcopy_clone(dst, src);
    CHECK(zt_ok(r, (long long)SIZE) && r.method == ZCOPY_METHOD_CLONE && zt_fsize(dst) == (off_t)SIZE &&
              same_as_data(dst, SIZE) && zt_pos(src) == 5 && zt_pos(dst) == 0,
          "xfs: zcopy_clone: dst is src (cut from 3 MiB), positions untouched: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(shared_extents(dst) == 1 && shared_extents(src) == 1, "xfs: zcopy_clone shares extents (FIEMAP: dst %d, src %d)",
          shared_extents(dst), shared_extents(src));
    b = (unsigned char)~data[10];
    CHECK(pwrite(dst, &b, 1, 10) == 1 && same_as_data(src, SIZE), "xfs: a write to the clone leaves src as it was");
    close(dst);
    /* ALWAYS from position 0 to 0: a clone; both positions move. */
    dst = zt_tmpfile_in(mnt, 0);
    lseek(src, 0, SEEK_SET);
    opts_copy(dst, src, ZCOPY_OPT_REFLINK_ALWAYS, &r);
    CHECK(zt_ok(r, (long long)SIZE) && r.method == ZCOPY_METHOD_CLONE && same_as_data(dst, SIZE) &&
              zt_pos(src) == (off_t)SIZE && zt_pos(dst) == (off_t)SIZE && shared_extents(dst) == 1,
          "xfs: zcopy_copy_opts REFLINK_ALWAYS: cloned, shared, positions moved: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(dst);
    /* ALWAYS from an unaligned position: EINVAL, nothing written. */
    dst = zt_tmpfile_in(mnt, 0);
    lseek(src, 100, SEEK_SET);
    rc = opts_copy(dst, src, ZCOPY_OPT_REFLINK_ALWAYS, &r);
    CHECK(rc == EINVAL && r.written == 0 && zt_fsize(dst) == 0 && zt_pos(src) == 100,
          "xfs: REFLINK_ALWAYS from an unaligned offset: EINVAL, dst empty, position kept: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(dst);
    /* NEVER: a real copy, no shared extent, no copy_file_range. */
    dst = zt_tmpfile_in(mnt, 0);
    lseek(src, 0, SEEK_SET);
    opts_copy(dst, src, ZCOPY_OPT_REFLINK_NEVER, &r);
    CHECK(zt_ok(r, (long long)SIZE) && r.method == ZCOPY_METHOD_SENDFILE && same_as_data(dst, SIZE) &&
              shared_extents(dst) == 0,
          "xfs: REFLINK_NEVER: copied by sendfile, no extent shared: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(dst);
    /* auto: copy_file_range, which XFS may serve with a clone. */
    dst = zt_tmpfile_in(mnt, 0);
    lseek(src, 0, SEEK_SET);
    opts_copy(dst, src, 0, &r);
    CHECK(zt_ok(r, (long long)SIZE) && r.method == ZCOPY_METHOD_COPY_FILE_RANGE && same_as_data(dst, SIZE),
          "xfs: auto: copy_file_range: " ZT_RES_FMT, ZT_RES_ARGS(r));
    zt_info("xfs: auto's copy_file_range shared the extents: %s", shared_extents(dst) == 1 ? "yes" : "no");
    close(dst);
    /* Across filesystems: EXDEV, dst untouched. */
    tmpsrc = zt_file_with(data, SIZE);
    dst = zt_file_with_in(mnt, "keep", 4);
    r = zcopy_clone(dst, tmpsrc);
    CHECK(r.error == EXDEV && !r.handled && r.written == 0 && zt_fsize(dst) == 4,
          "zcopy_clone /tmp -> xfs: EXDEV, handled false, dst untouched: " ZT_RES_FMT, ZT_RES_ARGS(r));
    lseek(tmpsrc, 0, SEEK_SET);
    lseek(dst, 0, SEEK_SET);
    rc = opts_copy(dst, tmpsrc, ZCOPY_OPT_REFLINK_ALWAYS, &r);
    CHECK(rc == EXDEV && r.written == 0 && zt_fsize(dst) == 4,
          "REFLINK_ALWAYS /tmp -> xfs: EXDEV, dst untouched: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(dst);
    close(tmpsrc);
    close(src);
}

static void on_tmp(void)
{
    struct statfs sf;
    int src = zt_file_with(data, SIZE), dst = zt_file_with("keep", 4), rc, p[2];
    zcopy_result r;
    int cannot = statfs("/tmp", &sf) == 0 && (sf.f_type == EXT4_SUPER_MAGIC || sf.f_type == TMPFS_MAGIC);
    if (!cannot) {
        zt_info("/tmp is neither ext4 nor tmpfs (f_type %#lx): the no-clone checks are left out", (long)sf.f_type);
    } else {
        r = zcopy_clone(dst, src);
        CHECK(r.error == EOPNOTSUPP && !r.handled && r.written == 0 && zt_fsize(dst) == 4,
              "/tmp (ext4/tmpfs): zcopy_clone: EOPNOTSUPP, handled false, dst as it was: " ZT_RES_FMT, ZT_RES_ARGS(r));
        close(dst);
        dst = zt_tmpfile();
        lseek(src, 0, SEEK_SET);
        rc = opts_copy(dst, src, ZCOPY_OPT_REFLINK_ALWAYS, &r);
        CHECK(rc == EOPNOTSUPP && r.written == 0 && zt_fsize(dst) == 0 && zt_pos(src) == 0,
              "/tmp: REFLINK_ALWAYS: EOPNOTSUPP, nothing written: " ZT_RES_FMT, ZT_RES_ARGS(r));
    }
    close(dst);
    dst = zt_tmpfile();
    lseek(src, 0, SEEK_SET);
    opts_copy(dst, src, 0, &r);
    CHECK(zt_ok(r, (long long)SIZE) && r.method != ZCOPY_METHOD_CLONE && same_as_data(dst, SIZE),
          "/tmp: auto: a copy: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(dst);
    /* Not regular files, bad fds. */
    zt_pipe(p);
    r = zcopy_clone(p[1], src);
    CHECK(r.error == EINVAL && !r.handled, "zcopy_clone into a pipe: EINVAL, handled false: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    r = zcopy_clone(-1, src);
    CHECK(r.error == EBADF && r.handled, "zcopy_clone(-1, ...): EBADF: " ZT_RES_FMT, ZT_RES_ARGS(r));
    dst = zt_reopen(src, O_RDONLY);
    r = zcopy_clone(dst, src);
    CHECK(r.error == EBADF || r.error == EINVAL || r.error == EOPNOTSUPP,
          "zcopy_clone into a read-only fd: refused: " ZT_RES_FMT, ZT_RES_ARGS(r));
    close(dst);
    close(p[0]);
    close(p[1]);
    close(src);
}

int main(void)
{
    int m;
    zt_start("reflink", 120);
    data = zt_random_buf(SIZE, 1616);
    on_tmp();
    m = mount_xfs();
    if (m == 1)
        zt_skip("XFS part: this machine has no loop devices (/dev/loop-control, /dev/loop0 or a free one)");
    else {
        CHECK(m == 0, "an XFS image with reflink=1 made and loop-mounted at %s", mnt);
        if (m == 0)
            on_xfs();
    }
    free(data);
    return zt_finish();
}
