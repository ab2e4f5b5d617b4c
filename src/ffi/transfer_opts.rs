//! The transfer exports with options (`zcopy_options`): an idle timeout, a
//! cancel fd and interruption by signals, for every blocking call.

use super::guarded;
use crate::control::{now_ns, Control};
use crate::options::{Options, Settings};
use crate::transfer::Transfer;
use std::ffi::c_int;

/// Validates `opts` (NULL: no options) and runs `f` under the Control they
/// ask for. Bad options: `error` EINVAL (or EBADF for a cancel fd that is
/// not open), nothing moved. A cancel fd already readable: ECANCELED at
/// once, nothing moved.
///
/// # Safety
/// `opts` must be NULL or point to a readable zcopy_options.
unsafe fn with_options(
    method: i32,
    opts: *const Options,
    f: impl FnOnce(&mut Control) -> Transfer,
) -> Transfer {
    guarded(method, || {
        // SAFETY: the caller's promise; read_unaligned needs no alignment.
        let o = (!opts.is_null()).then(|| unsafe { opts.read_unaligned() });
        let settings = match Settings::from_options(o.as_ref()) {
            Ok(s) => s,
            Err(e) => return Transfer::done(method, 0, e),
        };
        if settings.is_plain() {
            return f(&mut Control::plain());
        }
        let mut ctl = Control::new(settings);
        if let Err(e) = ctl.check_now(now_ns()) {
            return Transfer::done(method, 0, e);
        }
        f(&mut ctl)
    })
}

/// zcopy_copy with options: the same dispatch and fallbacks, with an idle
/// timeout, a cancel fd and (ZCOPY_OPT_EINTR) interruption by signals.
///
/// - `dst_fd`, `src_fd`, `remain`: as for zcopy_copy.
/// - `opts`: NULL behaves exactly as zcopy_copy. Otherwise initialise it
///   with zcopy_options_init, then set:
///   - `idle_timeout_ms` > 0: the call ends with ETIMEDOUT once no byte has
///     moved for that long (the clock restarts at every byte moved, either
///     way), within [T, T + 50 ms], waiting for src's data or for dst's
///     room alike, costing no CPU while it waits.
///   - `cancel_fd` >= 0: the call ends with ECANCELED within 20 ms of that
///     fd becoming readable (an eventfd, a pipe a signal handler writes to,
///     a timerfd, a signalfd). It is never read, so one fd can cancel any
///     number of calls; a cancel fd already readable ends the call at once
///     with nothing moved.
///   - `flags` ZCOPY_OPT_EINTR: a signal delivered to the calling thread
///     while the call waits ends it with EINTR (the handler must be
///     installed without SA_RESTART, or the kernel restarts poll(2)
///     itself). The call is resumable: calling again with the same fds and
///     `remain - written` continues the stream with no byte lost, repeated
///     or reordered. Bytes already taken from src and not yet delivered
///     (in a pipe, in the read/write buffer) are kept by the calling
///     thread and delivered first by its next transfer call with the same
///     (dst_fd, src_fd); they are discarded if that call finds other files
///     behind those fd numbers, if the thread exits or forks, or if more
///     than 8 interrupted pairs pile up on one thread. Without the flag a
///     signal is retried, as for zcopy_copy.
///
/// Returns as zcopy_copy. `written` is exact whatever ends the call. Bytes
/// taken from src and not delivered when a timeout or cancel ends the call
/// are discarded with their pipe (never pooled), as for any error.
///
/// Errors: as for zcopy_copy, and EINVAL (options: `size` other than 24, an
/// unknown flag bit, `reserved` not 0, a negative timeout or cancel_fd
/// below -1; nothing moved), EBADF (`cancel_fd` not open), ETIMEDOUT,
/// ECANCELED, EINTR.
///
/// Blocking: every wait is the library's own poll(2) on the fds plus the
/// cancel fd, bounded by the timeout. To keep the kernel from waiting
/// inside a system call, blocking fds are made O_NONBLOCK for the length
/// of the call and restored before it returns; the flag belongs to the
/// open file description, so another thread or process using the same
/// description sees it meanwhile. What remains: a copy between regular
/// files (copy_file_range, or read/write on a slow disk or NFS) is never
/// interrupted inside one system call (rounds of at most 16 MiB), and a
/// signal that arrives while bytes are flowing, between two waits, does
/// not end the call (only waits are interrupted).
///
/// Signals (SIGPIPE) and thread safety as for zcopy_splice.
///
/// # Safety
/// `opts` must be NULL or point to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_copy_opts(
    dst_fd: c_int,
    src_fd: c_int,
    remain: i64,
    opts: *const Options,
) -> Transfer {
    // SAFETY: the caller's promise about opts.
    unsafe {
        with_options(crate::ZCOPY_METHOD_NONE, opts, |ctl| {
            crate::dispatch::copy_with(ctl, dst_fd, src_fd, remain)
        })
    }
}

/// zcopy_splice with options: idle timeout, cancel fd and ZCOPY_OPT_EINTR
/// exactly as for zcopy_copy_opts (NULL `opts`: exactly zcopy_splice).
/// Arguments, result and handled=false cases as for zcopy_splice; errors
/// as for zcopy_splice plus those of zcopy_copy_opts.
///
/// # Safety
/// `opts` must be NULL or point to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splice_opts(
    dst_fd: c_int,
    src_fd: c_int,
    remain: i64,
    opts: *const Options,
) -> Transfer {
    // SAFETY: the caller's promise about opts.
    unsafe {
        with_options(crate::ZCOPY_METHOD_SPLICE, opts, |ctl| {
            crate::splice::splice_with(ctl, dst_fd, src_fd, remain)
        })
    }
}

/// zcopy_sendfile with options: idle timeout, cancel fd and
/// ZCOPY_OPT_EINTR exactly as for zcopy_copy_opts (NULL `opts`: exactly
/// zcopy_sendfile). Arguments, result and handled=false cases as for
/// zcopy_sendfile; errors as for zcopy_sendfile plus those of
/// zcopy_copy_opts.
///
/// # Safety
/// `opts` must be NULL or point to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_sendfile_opts(
    dst_fd: c_int,
    src_fd: c_int,
    remain: i64,
    opts: *const Options,
) -> Transfer {
    // SAFETY: the caller's promise about opts.
    unsafe {
        with_options(crate::ZCOPY_METHOD_SENDFILE, opts, |ctl| {
            crate::sendfile::sendfile_with(ctl, dst_fd, src_fd, None, remain)
        })
    }
}

/// zcopy_copy_file_range with options (NULL `opts`: exactly
/// zcopy_copy_file_range). The filesystem copy itself never waits for a
/// peer, so only the cancel fd and the idle clock matter: they are looked
/// at between rounds of at most 16 MiB (ECANCELED, ETIMEDOUT); a round in
/// progress is not interrupted. Arguments, result and handled=false cases
/// as for zcopy_copy_file_range; errors as for it plus those of
/// zcopy_copy_opts.
///
/// # Safety
/// `opts` must be NULL or point to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_copy_file_range_opts(
    dst_fd: c_int,
    src_fd: c_int,
    remain: i64,
    opts: *const Options,
) -> Transfer {
    // SAFETY: the caller's promise about opts.
    unsafe {
        with_options(crate::ZCOPY_METHOD_COPY_FILE_RANGE, opts, |ctl| {
            crate::copy_file_range::copy_file_range_with(ctl, dst_fd, None, src_fd, None, remain)
        })
    }
}
