//! Sparse file -> file copies: holes in the source stay holes in the
//! destination, as `cp --sparse=auto` keeps them.
//!
//! zcopy_copy comes here for the file -> file row of its table (both
//! regular files, dst not O_APPEND, not one file) only when the source has
//! fewer allocated blocks than its size needs (st_blocks * 512 < st_size),
//! so a dense file pays nothing. Neither copy_file_range (on most
//! filesystems it splices through the page cache) nor sendfile nor
//! read/write keeps holes: each reads a hole as zeros and writes the zeros
//! out, allocating them. Here lseek(SEEK_DATA / SEEK_HOLE) finds the data
//! extents; each is copied by the usual row of mechanisms at its offset,
//! the holes between them are skipped, and ftruncate gives the destination
//! its full length when the range ends in a hole.
//!
//! Invariants, as for the plain copy:
//! - The copy starts at src's file position and at dst's, and covers at
//!   most `remain` bytes and at most up to src's size when the call began.
//! - `written` counts the bytes of src the copy covered, holes included
//!   (they read as zeros in dst as in src); afterwards both file positions
//!   have advanced by exactly `written`, also after an error.
//! - dst is never shortened, and bytes dst already holds are never left
//!   where src has a hole: a hole is skipped only past dst's size at the
//!   start; facing existing bytes it is copied (as zeros) like data.
//! - The result's method is the one that moved the last bytes; a range
//!   that is all hole moves none and reports ZCOPY_METHOD_NONE.

use crate::sys::errno;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_NONE};

/// Whether a regular file of `size` bytes with `blocks` 512-byte blocks
/// allocated (st_size, st_blocks) has holes worth keeping. A file with
/// metadata blocks (ext4 extent trees, xattrs) may count more blocks than
/// its size: that is no hole, and a dense file is never taken for sparse.
pub fn has_holes(size: i64, blocks: i64) -> bool {
    blocks.saturating_mul(512) < size
}

/// lseek(2): the new offset, or the errno.
fn seek(fd: i32, offset: i64, whence: i32) -> Result<i64, i32> {
    // SAFETY: lseek takes no pointers; a bad fd is EBADF.
    let r = unsafe { libc::lseek(fd, offset, whence) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// The next data extent [data, hole) of src at or after `pos`, cut at
/// `end`; None when the rest of [pos, end) is a hole.
fn next_extent(src: i32, pos: i64, end: i64) -> Option<(i64, i64)> {
    let data = match seek(src, pos, libc::SEEK_DATA) {
        Ok(d) => d,
        // ENXIO: no data at or after pos (the rest of the file is a hole).
        Err(libc::ENXIO) => return None,
        // Any other refusal (EINVAL from a filesystem without the
        // whences): take the rest as data, the plain copy is always right.
        Err(_) => return Some((pos, end)),
    };
    if data >= end {
        return None;
    }
    // Every file ends in a hole for SEEK_HOLE (at its size at the latest).
    let hole = seek(src, data, libc::SEEK_HOLE).unwrap_or(end).min(end);
    Some((data, hole.max(data + 1).min(end)))
}

/// Copies from src's position to dst's, keeping holes (see the module
/// docs). `src_size` and `dst_size` are the sizes fstat gave at the start
/// of the call; `plain(n)` copies up to n bytes between the current file
/// positions with the file -> file row of mechanisms.
pub fn copy(
    dst: i32,
    src: i32,
    remain: i64,
    src_size: i64,
    dst_size: i64,
    mut plain: impl FnMut(i64) -> Transfer,
) -> Transfer {
    let start = match seek(src, 0, libc::SEEK_CUR) {
        Ok(p) => p,
        Err(e) => return Transfer::done(ZCOPY_METHOD_NONE, 0, e),
    };
    let dst_start = match seek(dst, 0, libc::SEEK_CUR) {
        Ok(p) => p,
        Err(e) => return Transfer::done(ZCOPY_METHOD_NONE, 0, e),
    };
    let end = start.saturating_add(remain).min(src_size);
    if end <= start {
        // At or past src's size: nothing sparse to do; the plain copy
        // says what is there (nothing, or what a growing file gained).
        return plain(remain);
    }
    // dst offset = src offset + delta.
    let delta = dst_start - start;
    // Below this src offset dst already has bytes: no hole is skipped.
    let dense_to = dst_size.saturating_sub(delta).clamp(start, end);
    let mut total = Transfer::done(ZCOPY_METHOD_NONE, 0, 0);
    let mut pos = start;
    // dst's length: its size at the start or the end of the last write.
    let mut dst_len = dst_size;
    // Invariant: src's bytes [start, pos) are in dst at [dst_start,
    // pos + delta): written, or a hole past dst_len that the ftruncate
    // below makes read as zeros. Each extent sets both positions first.
    while pos < end {
        let extent = if pos < dense_to {
            Some((pos, dense_to))
        } else {
            next_extent(src, pos, end)
        };
        let Some((data, hole)) = extent else {
            pos = end; // the rest is a hole
            break;
        };
        pos = data; // [pos, data) was a hole past dst_len: skipped
        if let Err(e) =
            seek(src, data, libc::SEEK_SET).and_then(|_| seek(dst, data + delta, libc::SEEK_SET))
        {
            total.error = e;
            break;
        }
        let want = hole - data;
        let t = plain(want);
        if t.written > 0 || total.method == ZCOPY_METHOD_NONE {
            total.method = t.method;
        }
        pos += t.written.max(0);
        if t.written > 0 {
            dst_len = dst_len.max(pos + delta);
        }
        if t.error != 0 {
            total.error = t.error;
            break;
        }
        if t.written < want {
            break; // src is shorter than it was at the start: stop there
        }
    }
    finish(dst, src, start, pos, delta, dst_len, total)
}

/// Ends every copy: dst covers [dst_start, pos + delta) (a trailing or
/// failed-after hole needs ftruncate), and both positions are at pos.
fn finish(
    dst: i32,
    src: i32,
    start: i64,
    pos: i64,
    delta: i64,
    dst_len: i64,
    mut total: Transfer,
) -> Transfer {
    total.written = pos - start;
    if total.written > 0 && pos + delta > dst_len {
        // SAFETY: ftruncate takes no pointers; dst is a regular file.
        if unsafe { libc::ftruncate(dst, pos + delta) } < 0 && total.error == 0 {
            total.error = errno();
            total.written = (dst_len - delta - start).max(0);
        }
    }
    let at = start + total.written;
    if let Err(e) =
        seek(src, at, libc::SEEK_SET).and_then(|_| seek(dst, at + delta, libc::SEEK_SET))
    {
        if total.error == 0 {
            total.error = e;
        }
    }
    total.handled = true;
    total
}
