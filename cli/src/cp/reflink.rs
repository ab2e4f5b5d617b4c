//! --reflink: the destination shares the source's extents (FICLONE).
//!
//! `clone` is one function, so that the library's clone call can take its
//! place when it has one. `copy_no_clone` is --reflink=never's copy: on a
//! file system that can clone (XFS, Btrfs), copy_file_range clones too, so
//! the copy goes through the library's sendfile, and read/write where that
//! cannot serve, per data extent as zcopy_copy does for a sparse source.

use std::io::Error;
use zcopy::transfer::Transfer;

/// FICLONE, _IOW(0x94, 9, int), from linux/fs.h.
const FICLONE: libc::c_ulong = 0x4004_9409;

/// Makes the whole of `dst` (an empty file open for writing) share the
/// data of `src`. EOPNOTSUPP, EXDEV or EINVAL where the file system or the
/// pair cannot.
pub fn clone(dst: i32, src: i32) -> std::io::Result<()> {
    // SAFETY: FICLONE takes the source fd as its argument, no pointer.
    let r = unsafe { libc::ioctl(dst, FICLONE as _, src) };
    if r < 0 {
        Err(Error::last_os_error())
    } else {
        Ok(())
    }
}

/// zcopy_copy's file -> file row without copy_file_range: the bytes are
/// written, never shared (see the module docs). Same shape as
/// zcopy::dispatch::copy (dst, src, limit).
pub fn copy_no_clone(dst: i32, src: i32, remain: i64) -> Transfer {
    let plain = |n: i64| {
        let t = zcopy::sendfile::sendfile(dst, src, None, n);
        if t.handled {
            t
        } else {
            zcopy::read_write::copy(dst, src, n)
        }
    };
    let size = |fd: i32| {
        // SAFETY: fstat writes one stat into the zeroed struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_size, st.st_blocks))
    };
    match (size(src), size(dst)) {
        (Some((ss, sb)), Some((ds, _))) if zcopy::sparse::has_holes(ss, sb) => {
            zcopy::sparse::copy(dst, src, remain, ss, ds, plain)
        }
        _ => plain(remain),
    }
}
