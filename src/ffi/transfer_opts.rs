//! The transfer exports with options (`zcopy_options`): an idle timeout, a
//! cancel fd, interruption by signals and the no-wait mode, for every
//! transfer call, the positional ones (`_at_opts`) included.

use super::{boundary, offset_in, offset_out, Transfers};
use crate::call::control::{now_ns, Control};
use crate::call::options::{Options, Reflink, Settings};
use crate::sys::transfer::Transfer;
use std::ffi::c_int;

/// Validates `opts` (NULL: no options) and runs `f` under the Control they
/// ask for. Bad options: `error` EINVAL (or EBADF for a cancel fd that is
/// not open), nothing moved. A cancel fd already readable: ECANCELED at
/// once, nothing moved. Called inside an export's `boundary`.
///
/// # Safety
/// `opts` must be NULL or point to a readable zcopy_options.
pub(super) unsafe fn with_options(
    method: i32,
    opts: *const Options,
    f: impl FnOnce(&mut Control) -> Transfer,
) -> Transfer {
    // SAFETY: the caller's promise (version 1 or 2, told by `size`).
    let o = unsafe { super::read_options(opts) };
    let settings = match Settings::from_options(o.as_ref()) {
        Ok(s) => s,
        Err(e) => return Transfer::done(method, 0, e),
    };
    if settings.is_plain() && settings.reflink == Reflink::Auto {
        return f(&mut Control::plain());
    }
    let mut ctl = Control::new(settings);
    if let Err(e) = ctl.check_now(now_ns()) {
        return Transfer::done(method, 0, e);
    }
    f(&mut ctl)
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
///     (dst_fd, src_fd) (zcopy_held tells how many); they are discarded
///     if that call finds other files behind those fd numbers, or if the
///     thread exits or forks. A thread keeps at most 1024 pairs: a call on
///     a new pair past that is refused with ENOBUFS before it takes any
///     byte (entries of closed or reused fds are discarded first). Without
///     the flag a signal is retried, as for zcopy_copy.
///   - `flags` ZCOPY_OPT_NOWAIT: the call never waits for an fd (for an
///     event loop that waits itself). At the first EAGAIN -- src has no
///     data, or dst has no room -- it returns with `error` EAGAIN,
///     `handled` true, `method` the mechanism that ran and `written` the
///     bytes that reached dst so far (0 when nothing could move). Blocking
///     fds are made O_NONBLOCK for the call (see Blocking), so the kernel
///     does not wait either. Bytes already taken from src and not yet
///     delivered (in a pooled pipe: splice between two non-pipes; in the
///     read/write buffer) are kept exactly as for ZCOPY_OPT_EINTR: by the
///     calling thread, delivered first by its next transfer call with the
///     same (dst_fd, src_fd), discarded on the same conditions (other files
///     behind the fd numbers, thread exit, fork; never to make room: past
///     1024 pairs held on one thread a new pair gets ENOBUFS, nothing
///     taken). sendfile and copy_file_range hold nothing in flight.
///     Which fd to wait for: when src is a regular file (sendfile,
///     copy_file_range, zcopy_copy from a file) EAGAIN always means dst is
///     full: wait until dst is writable. With a socket src ask
///     `zcopy_held(dst_fd, src_fd)`: > 0, dst stopped the call (wait for
///     dst writable); 0, src had nothing (wait for src readable). That is
///     exact when neither fd is a pipe; with a pipe on either side (direct
///     splice, nothing held) 0 can mean either: wait for src readable,
///     then for dst writable. With NOWAIT, `cancel_fd` is looked at once when the call
///     begins (and every 5 ms while bytes keep moving), never waited on;
///     `idle_timeout_ms` is accepted and has no effect (a call that never
///     sleeps cannot be idle). ZCOPY_OPT_EINTR with NOWAIT changes nothing
///     (no wait to interrupt).
///
/// Returns as zcopy_copy. `written` is exact whatever ends the call. Bytes
/// taken from src and not delivered when a timeout or cancel ends the call
/// are discarded with their pipe (never pooled), as for any error.
///
/// Errors: as for zcopy_copy, and EINVAL (options: `size` other than 24 or
/// 40, an unknown flag bit, both REFLINK flags, `reserved` not 0, a
/// negative timeout or cancel_fd below -1, a version 2 rate other than 0
/// (rates are for zcopy_relay and the engine); nothing moved), EBADF (`cancel_fd` not open), ETIMEDOUT,
/// ECANCELED, EINTR, EAGAIN (ZCOPY_OPT_NOWAIT: a wait was needed),
/// ENOBUFS (EINTR or NOWAIT asked, and the calling thread already holds
/// bytes for 1024 other live pairs: too many pairs with bytes held on
/// this thread; deliver them (call again on those pairs) or use
/// zcopy_splicer. `written` 0, handled true, nothing taken from src).
///
/// Blocking: with ZCOPY_OPT_NOWAIT never, beyond the system calls
/// themselves (a regular file's reads). Otherwise every wait is the library's own poll(2) on the fds plus the
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
    boundary(Transfers(crate::ZCOPY_METHOD_NONE), || unsafe {
        with_options(crate::ZCOPY_METHOD_NONE, opts, |ctl| {
            crate::mech::dispatch::copy_with(ctl, dst_fd, src_fd, remain)
        })
    })
}

/// zcopy_splice with options: idle timeout, cancel fd, ZCOPY_OPT_EINTR and
/// ZCOPY_OPT_NOWAIT exactly as for zcopy_copy_opts (NULL `opts`: exactly
/// zcopy_splice). Under NOWAIT, splice between two non-pipes keeps the
/// bytes its pooled pipe holds when dst fills up for the next call on the
/// pair (as after EINTR); a direct splice (a pipe on one side) holds none.
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
    boundary(Transfers(crate::ZCOPY_METHOD_SPLICE), || unsafe {
        with_options(crate::ZCOPY_METHOD_SPLICE, opts, |ctl| {
            crate::mech::splice::splice_with(ctl, dst_fd, src_fd, remain)
        })
    })
}

/// zcopy_sendfile with options: idle timeout, cancel fd, ZCOPY_OPT_EINTR
/// and ZCOPY_OPT_NOWAIT exactly as for zcopy_copy_opts (NULL `opts`:
/// exactly zcopy_sendfile; NOWAIT: EAGAIN as soon as dst is full, nothing
/// kept in flight). Arguments, result and handled=false cases as for
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
    boundary(Transfers(crate::ZCOPY_METHOD_SENDFILE), || unsafe {
        with_options(crate::ZCOPY_METHOD_SENDFILE, opts, |ctl| {
            crate::mech::sendfile::sendfile_with(ctl, dst_fd, src_fd, None, remain)
        })
    })
}

/// zcopy_copy_file_range with options (NULL `opts`: exactly
/// zcopy_copy_file_range). The filesystem copy itself never waits for a
/// peer, so only the cancel fd and the idle clock matter: they are looked
/// at between rounds of at most 16 MiB (ECANCELED, ETIMEDOUT); a round in
/// progress is not interrupted. ZCOPY_OPT_NOWAIT is accepted and changes
/// nothing (no wait to skip). Arguments, result and handled=false cases
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
    boundary(Transfers(crate::ZCOPY_METHOD_COPY_FILE_RANGE), || unsafe {
        with_options(crate::ZCOPY_METHOD_COPY_FILE_RANGE, opts, |ctl| {
            crate::mech::copy_file_range::copy_file_range_with(
                ctl, dst_fd, None, src_fd, None, remain,
            )
        })
    })
}

/// zcopy_sendfile_at with options: sends from `*src_offset` (pread
/// semantics) under an idle timeout, a cancel fd, ZCOPY_OPT_EINTR and
/// ZCOPY_OPT_NOWAIT, each exactly as for zcopy_copy_opts.
///
/// - `dst_fd`: any fd the kernel can write to (socket, pipe, file not
///   opened O_APPEND); non-blocking for an event loop (a blocking one is
///   made O_NONBLOCK for the call when options are given).
/// - `src_fd`: a file the kernel can page in (regular file, block device).
///   Its file position is neither used nor changed, so many threads and
///   connections can send ranges of one shared fd at once.
/// - `src_offset`: the offset in src to start at, >= 0. On return it has
///   advanced by exactly `written`, whatever ended the call, so the next
///   call continues where this one stopped. NULL sends from src's file
///   position and advances it, as zcopy_sendfile_opts (the rule of every
///   positional call, with options or without).
/// - `remain`: the most bytes to move; ZCOPY_ALL means until end of file;
///   0 moves nothing and succeeds.
/// - `opts`: NULL behaves exactly as zcopy_sendfile_at; otherwise as for
///   zcopy_copy_opts. With ZCOPY_OPT_NOWAIT the call returns at the first
///   EAGAIN with the bytes sent so far (0 and EAGAIN on a full socket):
///   wait until dst is writable (EPOLLOUT), then call again with the
///   advanced offset. sendfile keeps nothing in flight: every byte taken
///   from the file reached dst.
///
/// Returns a zcopy_result whose `method` is ZCOPY_METHOD_SENDFILE; end of
/// file ends the call without error; `handled` false as for
/// zcopy_sendfile (EINVAL, ENOSYS, EOPNOTSUPP, EPERM before any progress:
/// nothing consumed, `*src_offset` unchanged).
///
/// Errors (handled true): EINVAL (a negative `src_offset`, negative
/// `remain`, bad options: nothing moved), EBADF (a negative or closed fd,
/// a `cancel_fd` not open), EAGAIN (ZCOPY_OPT_NOWAIT and dst full, or a
/// socket's SO_SNDTIMEO ran out), ETIMEDOUT, ECANCELED (also at once, with
/// nothing moved, when the cancel fd is already readable), EINTR, EPIPE /
/// ECONNRESET (dst's peer gone; no SIGPIPE reaches the process), and any
/// other errno the kernel reports.
///
/// Blocking: with ZCOPY_OPT_NOWAIT never waits for dst (only the file's
/// own reads, as pread would); otherwise waits with poll(2) as
/// zcopy_copy_opts does. Signals: SIGPIPE as for zcopy_splice.
///
/// Thread safety: safe from any thread; each call must pass its own
/// offset variable.
///
/// # Safety
/// `src_offset` must be NULL or point to a readable and writable int64_t;
/// `opts` must be NULL or point to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_sendfile_at_opts(
    dst_fd: c_int,
    src_fd: c_int,
    src_offset: *mut i64,
    remain: i64,
    opts: *const Options,
) -> Transfer {
    boundary(Transfers(crate::ZCOPY_METHOD_SENDFILE), || {
        // SAFETY: the caller's promise about src_offset.
        let mut off = unsafe { offset_in(src_offset) };
        if off.is_some_and(|o| o < 0) {
            return Transfer::done(crate::ZCOPY_METHOD_SENDFILE, 0, libc::EINVAL);
        }
        // SAFETY: the caller's promise about opts.
        let t = unsafe {
            with_options(crate::ZCOPY_METHOD_SENDFILE, opts, |ctl| {
                crate::mech::sendfile::sendfile_with(ctl, dst_fd, src_fd, off.as_mut(), remain)
            })
        };
        // SAFETY: as above.
        unsafe { offset_out(src_offset, off) };
        t
    })
}

/// zcopy_copy_file_range_at with options: copies from `*src_offset` in
/// src to `*dst_offset` in dst (pread/pwrite semantics on both sides)
/// under an idle timeout, a cancel fd, ZCOPY_OPT_EINTR and
/// ZCOPY_OPT_NOWAIT.
///
/// - `dst_fd`: a regular file opened for writing, not O_APPEND.
/// - `dst_offset`: >= 0: where in dst to write; advanced by exactly
///   `written` on return, dst's file position left alone. NULL writes at
///   dst's file position and advances it (as zcopy_copy_file_range_at).
/// - `src_fd`: a regular file opened for reading.
/// - `src_offset`: >= 0: where in src to read; advanced by exactly
///   `written`, src's file position left alone. NULL reads at src's file
///   position and advances it.
/// - `remain`: the most bytes to copy; ZCOPY_ALL means until end of file;
///   0 copies nothing and succeeds.
/// - `opts`: NULL behaves exactly as zcopy_copy_file_range_at; otherwise
///   as for zcopy_copy_file_range_opts: the filesystem copy never waits
///   for a peer, so the cancel fd and the idle clock are looked at between
///   rounds of at most 16 MiB (a round in progress is not interrupted),
///   ZCOPY_OPT_EINTR has nothing to interrupt, and ZCOPY_OPT_NOWAIT
///   changes nothing (no EAGAIN comes from regular files; nothing is kept
///   in flight).
///
/// Returns a zcopy_result whose `method` is ZCOPY_METHOD_COPY_FILE_RANGE;
/// `handled` false as for zcopy_copy_file_range (nothing copied, both
/// offsets unchanged: fall back).
///
/// Errors (handled true): EINVAL (a negative offset, negative
/// `remain`, bad options: nothing copied), EBADF (a negative or closed fd,
/// one opened the wrong way, a `cancel_fd` not open), ECANCELED,
/// ETIMEDOUT, ENOSPC, EFBIG, and any errno the kernel reports after some
/// progress.
///
/// Blocking: only on the filesystem. Thread safety: safe from any thread;
/// each call must pass its own offset variables.
///
/// # Safety
/// Each offset must be NULL or point to a readable and writable int64_t;
/// `opts` must be NULL or point to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_copy_file_range_at_opts(
    dst_fd: c_int,
    dst_offset: *mut i64,
    src_fd: c_int,
    src_offset: *mut i64,
    remain: i64,
    opts: *const Options,
) -> Transfer {
    boundary(Transfers(crate::ZCOPY_METHOD_COPY_FILE_RANGE), || {
        // SAFETY: the caller's promise about both offsets.
        let (mut d, mut s) = unsafe { (offset_in(dst_offset), offset_in(src_offset)) };
        if d.is_some_and(|o| o < 0) || s.is_some_and(|o| o < 0) {
            return Transfer::done(crate::ZCOPY_METHOD_COPY_FILE_RANGE, 0, libc::EINVAL);
        }
        // SAFETY: the caller's promise about opts.
        let t = unsafe {
            with_options(crate::ZCOPY_METHOD_COPY_FILE_RANGE, opts, |ctl| {
                crate::mech::copy_file_range::copy_file_range_with(
                    ctl,
                    dst_fd,
                    d.as_mut(),
                    src_fd,
                    s.as_mut(),
                    remain,
                )
            })
        };
        // SAFETY: as above.
        unsafe {
            offset_out(dst_offset, d);
            offset_out(src_offset, s);
        }
        t
    })
}
