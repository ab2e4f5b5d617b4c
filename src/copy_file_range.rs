//! copy_file_range(2): Go's CopyFileRange. File -> file inside the kernel,
//! with reflinks or server-side copies where the filesystem offers them.

use crate::sys::{errno, fd_flags};
use crate::transfer::{check_args, Transfer, ZCOPY_METHOD_COPY_FILE_RANGE};
use once_cell::sync::Lazy;

/// Rounds of at most 1 GiB: below MAX_RW_COUNT, and small enough to avoid
/// EOVERFLOW where the kernel adds the length to an offset (rust 78979).
const MAX_ROUND: i64 = 1 << 30;

/// copy_file_range is only trusted from Linux 5.3 on: before it, some
/// filesystems (CIFS, Go issue 42400) produced empty files.
pub static KERNEL_SUPPORTS: Lazy<bool> = Lazy::new(|| kernel_at_least(5, 3));

/// True when the running kernel's release is at least major.minor.
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    // SAFETY: uname fills the struct.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return false;
    }
    // SAFETY: release is NUL-terminated by uname.
    let rel = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }.to_string_lossy();
    let mut parts = rel.split(|c: char| !c.is_ascii_digit());
    let maj: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let min: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (maj, min) >= (major, minor)
}

/// zcopy_copy_file_range and zcopy_copy_file_range_at. An offset that is
/// Some is used and advanced by the bytes moved, and that fd's file
/// position is left alone; None uses and advances the file position.
pub fn copy_file_range(
    dst: i32,
    dst_offset: Option<&mut i64>,
    src: i32,
    src_offset: Option<&mut i64>,
    remain: i64,
) -> Transfer {
    if let Some(t) = check_args(ZCOPY_METHOD_COPY_FILE_RANGE, dst, src, remain) {
        return t;
    }
    if dst_offset.as_deref().is_some_and(|o| *o < 0)
        || src_offset.as_deref().is_some_and(|o| *o < 0)
    {
        return Transfer::done(ZCOPY_METHOD_COPY_FILE_RANGE, 0, libc::EINVAL);
    }
    if remain == 0 {
        return Transfer::done(ZCOPY_METHOD_COPY_FILE_RANGE, 0, 0);
    }
    if !*KERNEL_SUPPORTS {
        return Transfer::unhandled(ZCOPY_METHOD_COPY_FILE_RANGE, libc::ENOSYS);
    }
    // An O_APPEND dst gets EBADF from the kernel (Go 60181, rust 82410):
    // decide without the syscall.
    match fd_flags(dst) {
        Err(e) => return Transfer::done(ZCOPY_METHOD_COPY_FILE_RANGE, 0, e),
        Ok(fl) if fl & libc::O_APPEND != 0 => {
            return Transfer::unhandled(ZCOPY_METHOD_COPY_FILE_RANGE, libc::EBADF)
        }
        Ok(_) => {}
    }
    round_loop(dst, dst_offset, src, src_offset, remain)
}

/// The loop itself, for callers that checked the arguments.
pub(crate) fn round_loop(
    dst: i32,
    dst_offset: Option<&mut i64>,
    src: i32,
    src_offset: Option<&mut i64>,
    mut remain: i64,
) -> Transfer {
    let mut dpos: i64 = dst_offset.as_deref().copied().unwrap_or(0);
    let mut spos: i64 = src_offset.as_deref().copied().unwrap_or(0);
    let dptr: *mut i64 = if dst_offset.is_some() {
        &mut dpos
    } else {
        std::ptr::null_mut()
    };
    let sptr: *mut i64 = if src_offset.is_some() {
        &mut spos
    } else {
        std::ptr::null_mut()
    };
    let mut written: i64 = 0;
    let mut t = Transfer::done(ZCOPY_METHOD_COPY_FILE_RANGE, 0, 0);
    while remain > 0 {
        let len = remain.min(MAX_ROUND) as usize;
        // SAFETY: the offset pointers are NULL or point to locals alive
        // for the call.
        let n = unsafe { libc::copy_file_range(src, sptr, dst, dptr, len, 0) };
        if n > 0 {
            written += n as i64;
            remain -= n as i64;
            continue;
        }
        if n == 0 {
            if written == 0 {
                // Some filesystems (procfs, sysfs) report size 0 and
                // "copy" nothing though they have content (go 44272,
                // rust 75446): let the caller read them instead.
                t = Transfer::unhandled(ZCOPY_METHOD_COPY_FILE_RANGE, 0);
            }
            break;
        }
        match errno() {
            libc::EINTR => continue,
            // ENOSYS: no syscall. EXDEV: across filesystems (refused since
            // 5.19 unless both are of one type that supports it). EINVAL:
            // not regular files, or overlapping ranges of one file. EIO:
            // CIFS (go 42334). EOPNOTSUPP: NFS (go 40731). EPERM: seccomp
            // in containers (go 40893, rust 51266). Before any progress
            // the caller can fall back.
            e @ (libc::ENOSYS
            | libc::EXDEV
            | libc::EINVAL
            | libc::EIO
            | libc::EOPNOTSUPP
            | libc::EPERM)
                if written == 0 =>
            {
                t = Transfer::unhandled(ZCOPY_METHOD_COPY_FILE_RANGE, e);
                break;
            }
            e => {
                t.error = e;
                break;
            }
        }
    }
    t.written = written;
    // Advance by what moved (the kernel's copies of the offsets agree for
    // regular files; this does not depend on it).
    if let Some(o) = dst_offset {
        *o += written;
    }
    if let Some(o) = src_offset {
        *o += written;
    }
    t
}
