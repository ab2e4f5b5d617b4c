//! The non-blocking splicer exports, for event loops.

use super::{boundary, Handle, Transfers, Value, Void};
use crate::stream::splicer::Splicer;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_SPLICE as M};
use std::ffi::c_int;

/// Makes a non-blocking splicer for one direction of a stream (make two for
/// a two-way relay). It borrows a pipe from the global pool and keeps it
/// until zcopy_splicer_free, so that bytes taken from src wait in it, never
/// lost, while dst is full.
///
/// Returns the splicer, owned by the caller (release it with
/// zcopy_splicer_free), or NULL with errno set (EMFILE, ENFILE: no pipe can
/// be made; ZCOPY_EPANIC after an internal panic).
///
/// Thread safety: a splicer may move between threads but must not be used
/// by two threads at once; different splicers are independent.
#[no_mangle]
pub extern "C" fn zcopy_splicer_new() -> *mut Splicer {
    boundary(Handle::new(), Splicer::new)
}

/// Frees a splicer. An empty pipe goes back to the pool; a pipe that still
/// holds bytes (after a hard error, or freed mid-transfer) is closed with
/// them. The fds passed to zcopy_splicer_step are not touched.
///
/// - `s`: a splicer from zcopy_splicer_new, or NULL (does nothing). It must
///   not be used afterwards.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new, not in use
/// by another thread.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_free(s: *mut Splicer) {
    boundary(Void, || {
        if s.is_null() {
            return;
        }
        // SAFETY: the caller hands back ownership of a Box made by _new.
        drop(unsafe { Box::from_raw(s) });
    })
}

/// Moves what it can from `src_fd` to `dst_fd` without waiting, and
/// returns. Meant for non-blocking fds driven by an event loop (on a
/// blocking fd the kernel may block the call).
///
/// Bytes the splicer already holds go out first; then it takes from
/// `src_fd` (at most `remain` bytes in this step, and at most 16 MiB, so
/// one busy stream cannot starve an event loop) and delivers, until
/// something would block.
///
/// - `s`: the splicer (NULL gives error EINVAL).
/// - `dst_fd`, `src_fd`: the fds of this direction (any fds splice(2)
///   accepts: sockets, pipes, files as src).
/// - `remain`: the most bytes to take from src in this step (ZCOPY_ALL: no
///   limit); 0 only delivers what is pending.
///
/// Returns a zcopy_result (method ZCOPY_METHOD_SPLICE) whose `written`
/// counts the bytes that reached dst in this step. Then:
/// - `error` EAGAIN: it must wait. zcopy_splicer_wants says for what:
///   ZCOPY_WANT_READ (wait until src is readable) or ZCOPY_WANT_WRITE
///   (wait until dst is writable; zcopy_splicer_pending bytes are held).
///   Nothing is lost: step again when the fd is ready.
/// - `error` 0 and zcopy_splicer_eof true: src is at end of stream and
///   everything taken was delivered (a step with `remain` > 0 that returns
///   error 0, written 0 and wants 0 means the same). Half-close dst now.
/// - `error` 0 otherwise: `remain` (or the 16 MiB budget) was taken and
///   delivered; step again for more.
/// - `handled` false, `error` EINVAL: the kernel cannot splice from src, or
///   dst does not take splice (opened O_APPEND, or a file without splice
///   support: checked before anything is taken); `error` ENOSYS or EPERM:
///   splice(2) is missing or forbidden by a seccomp filter; `error` ENOSYS
///   too when the kill switch turned splice off (zcopy_disable,
///   ZCOPY_DISABLE=splice) and the splicer holds nothing (bytes it holds
///   are still delivered first). Nothing consumed: fall back to
///   read/write.
/// - `error` EBADF with nothing taken: dst is closed or not open for
///   writing (checked the same way), or src is not open for reading.
/// - any other `error` (EPIPE, ECONNRESET, EBADF, ...): a hard error;
///   zcopy_splicer_pending tells how many bytes were taken from src but not
///   delivered. zcopy_splicer_free then closes the pipe with them.
/// - `error` ESTALE: the splicer was made before fork() and holds bytes in
///   a pipe the parent shares; the child must not touch them (an inherited
///   splicer with nothing pending gets a fresh pipe and works).
///
/// Signals: as zcopy_splice (SIGPIPE blocked for the call; EPIPE returned).
/// Thread safety: one thread at a time per splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_step(
    s: *mut Splicer,
    dst_fd: c_int,
    src_fd: c_int,
    remain: i64,
) -> Transfer {
    boundary(Transfers(M), || {
        // SAFETY: the caller promises s is NULL or a live splicer.
        match unsafe { s.as_mut() } {
            Some(sp) => sp.step(dst_fd, src_fd, remain),
            None => Transfer::done(M, 0, libc::EINVAL),
        }
    })
}

/// Bytes the splicer took from src and has not yet delivered to dst; 0 for
/// NULL. Thread safety: as for the splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_pending(s: *const Splicer) -> i64 {
    // SAFETY: the caller promises s is NULL or a live splicer.
    boundary(Value(0), || {
        unsafe { s.as_ref() }.map_or(0, Splicer::pending)
    })
}

/// What the last step waits for: ZCOPY_WANT_READ (src readable),
/// ZCOPY_WANT_WRITE (dst writable), or 0 (nothing: it did not return
/// EAGAIN); 0 for NULL. Thread safety: as for the splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_wants(s: *const Splicer) -> i32 {
    // SAFETY: the caller promises s is NULL or a live splicer.
    boundary(Value(0), || unsafe { s.as_ref() }.map_or(0, Splicer::wants))
}

/// True when the last step found src at end of stream and nothing is
/// pending: this direction is done; false for NULL. Thread safety: as for
/// the splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_eof(s: *const Splicer) -> bool {
    // SAFETY: the caller promises s is NULL or a live splicer.
    boundary(Value(false), || {
        unsafe { s.as_ref() }.is_some_and(Splicer::eof)
    })
}
