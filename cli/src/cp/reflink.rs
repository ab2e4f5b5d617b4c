//! --reflink: the destination shares the source's extents (FICLONE).
//!
//! `clone` is the library's zcopy_clone. `copy_no_clone` is --reflink=never's copy: on a
//! file system that can clone (XFS, Btrfs), copy_file_range clones too, so
//! the copy goes through the library's sendfile, and read/write where that
//! cannot serve, per data extent as zcopy_copy does for a sparse source.

use std::io::Error;
use zcopy::transfer::Transfer;

/// Makes the whole of `dst` (an empty file open for writing) share the
/// data of `src`, with the library's zcopy_clone (FICLONE, all or
/// nothing). EOPNOTSUPP, EXDEV or EINVAL where the file system or the pair
/// cannot.
pub fn clone(dst: i32, src: i32) -> std::io::Result<()> {
    let t = zcopy::clone::clone_file(dst, src);
    if t.error != 0 {
        Err(Error::from_raw_os_error(t.error))
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
