//! --reflink: the destination shares the source's extents (FICLONE).
//!
//! One function, so that the library's clone call can take its place when
//! it has one.

use std::io::Error;

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
