//! copy_file_range(2): Go's CopyFileRange. File -> file inside the kernel,
//! with reflinks or server-side copies where the filesystem offers them.

use crate::call::control::Control;
use crate::call::outcome::Outcome;
use crate::mech::positional;
use crate::sys::kernel::COPY_FILE_RANGE_OK;
use crate::sys::sigpipe::without_sigpipe;
use crate::sys::transfer::{
    check_args, Transfer, ZCOPY_METHOD_COPY_FILE_RANGE, ZCOPY_METHOD_READ_WRITE,
};
use crate::sys::{errno, fd_flags};

/// Rounds of at most 1 GiB: below MAX_RW_COUNT, and small enough to avoid
/// EOVERFLOW where the kernel adds the length to an offset (rust 78979).
const MAX_ROUND: i64 = 1 << 30;

/// True when copy_file_range is trusted on this kernel (5.3 and later).
pub(crate) fn kernel_supports() -> bool {
    COPY_FILE_RANGE_OK.get()
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
    copy_file_range_with(
        &mut Control::plain(),
        dst,
        dst_offset,
        src,
        src_offset,
        remain,
    )
}

/// zcopy_copy_file_range(_at) under a call's Control: the cancel fd and
/// the idle clock are looked at between rounds (the filesystem itself is
/// never interrupted).
pub(crate) fn copy_file_range_with(
    ctl: &mut Control,
    dst: i32,
    dst_offset: Option<&mut i64>,
    src: i32,
    src_offset: Option<&mut i64>,
    remain: i64,
) -> Transfer {
    let m = ZCOPY_METHOD_COPY_FILE_RANGE;
    if let Some(t) = check_args(m, dst, src, remain) {
        return t;
    }
    if dst_offset.as_deref().is_some_and(|o| *o < 0)
        || src_offset.as_deref().is_some_and(|o| *o < 0)
    {
        return Transfer::done(m, 0, libc::EINVAL);
    }
    if remain == 0 {
        return Transfer::done(m, 0, 0);
    }
    if crate::sys::disable::copy_file_range_off() {
        // The kill switch: the next paths of the file -> file row.
        return match (dst_offset, src_offset) {
            (None, None) => crate::mech::dispatch::copy_with(ctl, dst, src, remain),
            (d, s) => without_sigpipe(|| {
                positional::copy_at(ctl, dst, d, src, s, remain)
                    .into_transfer(ZCOPY_METHOD_READ_WRITE)
            }),
        };
    }
    if !kernel_supports() {
        return Transfer::unhandled(m, libc::ENOSYS);
    }
    // An O_APPEND dst gets EBADF from the kernel (Go 60181, rust 82410):
    // decide without the syscall.
    match fd_flags(dst) {
        Err(e) => return Transfer::done(m, 0, e),
        Ok(fl) if fl & libc::O_APPEND != 0 => return Transfer::unhandled(m, libc::EBADF),
        Ok(_) => {}
    }
    round_loop(ctl, dst, dst_offset, src, src_offset, remain).into_transfer(m)
}

/// The loop itself, for callers that checked the arguments.
pub(crate) fn round_loop(
    ctl: &mut Control,
    dst: i32,
    dst_offset: Option<&mut i64>,
    src: i32,
    src_offset: Option<&mut i64>,
    mut remain: i64,
) -> Outcome {
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
    // Invariant: `written` bytes were copied and both positions (the
    // kernel's or ours) advanced by exactly that much.
    let outcome = loop {
        if let Some(stop) = Outcome::before_round(ctl, remain, written) {
            break stop;
        }
        // With options, rounds of 16 MiB, so that the cancel fd and the
        // clock are looked at often; the filesystem is never interrupted.
        let round = if ctl.is_plain() { MAX_ROUND } else { 16 << 20 };
        let len = remain.min(round) as usize;
        // SAFETY: the offset pointers are NULL or point to locals alive
        // for the call.
        let n = unsafe { crate::sys::copy_file_range(src, sptr, dst, dptr, len, 0) };
        if n > 0 {
            written += n as i64;
            remain -= n as i64;
            ctl.progress();
            continue;
        }
        if n == 0 {
            // Some filesystems (procfs, sysfs) report size 0 and "copy"
            // nothing though they have content (go 44272, rust 75446): let
            // the next mechanism read them instead. After progress, EOF.
            break if written == 0 {
                Outcome::Fallback(0, 0)
            } else {
                Outcome::Ended(written)
            };
        }
        break match errno() {
            libc::EINTR => continue,
            // ENOSYS: no syscall. EXDEV: across filesystems (refused since
            // 5.19 unless both are of one type that supports it). EINVAL:
            // not regular files, or overlapping ranges of one file.
            // EOPNOTSUPP: NFS (go 40731). Whenever they come, the next
            // mechanism can continue where this one stopped.
            e @ (libc::ENOSYS | libc::EXDEV | libc::EINVAL | libc::EOPNOTSUPP) => {
                Outcome::Fallback(written, e)
            }
            // EIO: CIFS (go 42334). EPERM: seccomp in containers (go 40893,
            // rust 51266). Only before any progress do they say "this
            // mechanism cannot serve the pair"; later they are real errors.
            e @ (libc::EIO | libc::EPERM) if written == 0 => Outcome::Fallback(0, e),
            e => Outcome::Error(written, e),
        };
    };
    // Advance by what moved (the kernel's copies of the offsets agree for
    // regular files; this does not depend on it).
    if let Some(o) = dst_offset {
        *o += written;
    }
    if let Some(o) = src_offset {
        *o += written;
    }
    outcome
}
