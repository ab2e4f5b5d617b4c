//! Copy-on-write clones (reflinks): FICLONE and FICLONERANGE, as `cp
//! --reflink` and libuv's COPYFILE_FICLONE use them. The filesystem shares
//! src's extents with dst instead of copying bytes (XFS with reflink=1,
//! btrfs, bcachefs, OCFS2, NFS 4.2 servers that clone); elsewhere the ioctl
//! is refused as a whole, so a clone is never partial: dst is left as it
//! was when it fails.

use crate::sys::transfer::{Transfer, ZCOPY_METHOD_CLONE};
use crate::sys::{errno, fstat};

/// The errors that mean "no clone here" rather than a broken fd: the
/// filesystem cannot clone (EOPNOTSUPP; ENOTTY or ENOSYS from one that has
/// no such ioctl at all), the fds are on two filesystems (EXDEV), or the
/// range or file kind does not suit (EINVAL). A caller may copy instead.
fn no_clone_here(e: i32) -> bool {
    matches!(
        e,
        libc::EOPNOTSUPP | libc::ENOTTY | libc::ENOSYS | libc::EXDEV | libc::EINVAL
    )
}

/// The same reason, reported the documented way: a filesystem without the
/// ioctl answers like one that cannot clone.
fn documented(e: i32) -> i32 {
    match e {
        libc::ENOTTY | libc::ENOSYS => libc::EOPNOTSUPP,
        e => e,
    }
}

/// Both fds must be regular files: EINVAL otherwise (a directory too), or
/// the fstat errno (EBADF). Returns src's size.
fn regular_pair(dst: i32, src: i32) -> Result<i64, i32> {
    let (d, s) = match (fstat(dst), fstat(src)) {
        (Ok(d), Ok(s)) => (d, s),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let regular = |st: &libc::stat| st.st_mode & libc::S_IFMT == libc::S_IFREG;
    if !regular(&d) || !regular(&s) {
        return Err(libc::EINVAL);
    }
    Ok(s.st_size)
}

/// zcopy_clone: makes dst a clone of the whole of src (FICLONE), then cuts
/// dst to src's size (FICLONE leaves a longer dst's tail). Neither file
/// position is used or moved. See the header for the contract.
pub fn clone_file(dst: i32, src: i32) -> Transfer {
    if dst < 0 || src < 0 {
        return Transfer::done(ZCOPY_METHOD_CLONE, 0, libc::EBADF);
    }
    let size = match regular_pair(dst, src) {
        Ok(n) => n,
        Err(e) => return refused(e),
    };
    if let Err(e) = ficlone(dst, src) {
        // A dst longer than src refuses a clone whose end is not on a
        // block boundary (the last block would cover dst's bytes past
        // src's end): EINVAL with dst untouched. cp empties dst first
        // (O_TRUNC); do the same and clone again. Any other refusal
        // (EOPNOTSUPP, EXDEV, ...) came before that and left dst as it was.
        let longer = fstat(dst).is_ok_and(|st| st.st_size > size);
        // SAFETY: ftruncate takes no pointer.
        if !(e == libc::EINVAL && longer && unsafe { libc::ftruncate(dst, 0) } == 0) {
            return refused(e);
        }
        if let Err(e) = ficlone(dst, src) {
            return refused(e);
        }
    }
    // SAFETY: ftruncate takes no pointer.
    if unsafe { libc::ftruncate(dst, size) } != 0 {
        return Transfer::done(ZCOPY_METHOD_CLONE, 0, errno());
    }
    Transfer::done(ZCOPY_METHOD_CLONE, size, 0)
}

/// One FICLONE, or its errno.
fn ficlone(dst: i32, src: i32) -> Result<(), i32> {
    // SAFETY: FICLONE takes the source fd as its argument, no pointer.
    match unsafe { libc::ioctl(dst, libc::FICLONE, src) } {
        0 => Ok(()),
        _ => Err(errno()),
    }
}

/// An error before anything was cloned: handled false when the pair cannot
/// be cloned here (fall back to a copy), true for a caller's mistake
/// (EBADF, EPERM, ...).
fn refused(e: i32) -> Transfer {
    if no_clone_here(e) {
        Transfer::unhandled(ZCOPY_METHOD_CLONE, documented(e))
    } else {
        Transfer::done(ZCOPY_METHOD_CLONE, 0, e)
    }
}

/// ZCOPY_OPT_REFLINK_ALWAYS for zcopy_copy_opts between regular files:
/// clones up to `remain` bytes from src's position to dst's position in one
/// FICLONERANGE, then moves both positions past them, as a copy would.
/// The range must suit the filesystem (offsets on its block size; the
/// length too unless the range reaches src's end): EINVAL otherwise. Every
/// error leaves both files and positions as they were. `handled` is true
/// (the caller asked for a clone and nothing else).
pub(crate) fn clone_range(dst: i32, src: i32, remain: i64) -> Transfer {
    let size = match regular_pair(dst, src) {
        Ok(n) => n,
        Err(e) => return Transfer::done(ZCOPY_METHOD_CLONE, 0, e),
    };
    // SAFETY: lseek with SEEK_CUR only reads the positions.
    let (spos, dpos) = unsafe {
        (
            libc::lseek(src, 0, libc::SEEK_CUR),
            libc::lseek(dst, 0, libc::SEEK_CUR),
        )
    };
    if spos < 0 || dpos < 0 {
        return Transfer::done(ZCOPY_METHOD_CLONE, 0, errno());
    }
    let len = remain.min(size - spos);
    if len <= 0 {
        // At src's end: nothing to clone, as a copy would find EOF.
        return Transfer::done(ZCOPY_METHOD_CLONE, 0, 0);
    }
    let range = libc::file_clone_range {
        src_fd: src as i64,
        src_offset: spos as u64,
        // 0 means "to src's end", which the kernel accepts unaligned.
        src_length: if spos + len == size { 0 } else { len as u64 },
        dest_offset: dpos as u64,
    };
    // SAFETY: FICLONERANGE reads the struct, alive for the call.
    if unsafe { libc::ioctl(dst, libc::FICLONERANGE, &range) } != 0 {
        return Transfer::done(ZCOPY_METHOD_CLONE, 0, documented(errno()));
    }
    // SAFETY: lseek takes no pointer; both were valid offsets above.
    unsafe {
        libc::lseek(src, spos + len, libc::SEEK_SET);
        libc::lseek(dst, dpos + len, libc::SEEK_SET);
    }
    Transfer::done(ZCOPY_METHOD_CLONE, len, 0)
}
