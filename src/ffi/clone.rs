//! The C boundary for copy-on-write clones (clone.rs).

use super::{boundary, Transfers};
use std::ffi::c_int;

/// Makes the regular file `dst_fd` a copy-on-write clone of the whole of
/// the regular file `src_fd` (the FICLONE ioctl, as `cp --reflink=always`):
/// the filesystem shares src's extents with dst instead of copying bytes,
/// so it takes the same short time for any size, and later writes to
/// either file leave the other as it was.
///
/// - `dst_fd`: a regular file open for writing (not O_APPEND), on the same
///   filesystem as src. Its content becomes src's: what it held is
///   replaced and it is cut to src's size.
/// - `src_fd`: a regular file open for reading.
///
/// Neither file position is used or moved (the clone is of whole files).
///
/// Returns a zcopy_result with `method` ZCOPY_METHOD_CLONE and `written`
/// src's size on success. The clone is all or nothing: on every error dst
/// is left as it was, never partly cloned. One exception, as `cp` opens
/// dst with O_TRUNC: when dst is longer than src and the filesystem
/// refuses the clone for that (an end not on a block boundary would cover
/// dst's bytes past it: EINVAL), dst is emptied and cloned again; should
/// that second clone fail, dst is left empty, never partly cloned.
///
/// Errors with `handled` false (this pair cannot be cloned here; nothing
/// changed: copy instead, e.g. with zcopy_copy):
/// - EOPNOTSUPP: the filesystem cannot clone (ext4, tmpfs, XFS made
///   without reflink=1, ...; also one with no such ioctl at all).
/// - EXDEV: src and dst are on different filesystems (or mounts).
/// - EINVAL: either fd is not a regular file (a pipe, a socket, a
///   directory), or both name the same file, or the filesystem refused
///   the pair for its own reasons (e.g. a swap file).
///
/// Errors with `handled` true (nothing changed): EBADF (negative or closed
/// fd, dst not open for writing, dst O_APPEND, src not open for reading),
/// EPERM (dst immutable or append-only), ETXTBSY (dst is a running swap
/// file), EISDIR, ENOSPC and EIO from the filesystem; after the clone,
/// the errno of the ftruncate that cuts a longer dst to src's size
/// (`written` 0).
///
/// Thread safety: safe from any thread. Blocking: only on the filesystem
/// (a clone of a large, fragmented file takes time proportional to its
/// extents, not its bytes). Kill switch: not concerned (no byte moves).
#[no_mangle]
pub extern "C" fn zcopy_clone(dst_fd: c_int, src_fd: c_int) -> crate::sys::transfer::Transfer {
    boundary(Transfers(crate::ZCOPY_METHOD_CLONE), || {
        crate::mech::clone::clone_file(dst_fd, src_fd)
    })
}
