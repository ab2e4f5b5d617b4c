//! What the calling thread keeps in flight for a pair after a NOWAIT or
//! EINTR return: the event loop's "which fd do I wait for".

use super::{boundary, Count};
use std::ffi::c_int;

/// The bytes the calling thread holds for the pair (`dst_fd`, `src_fd`):
/// taken from src by an earlier `zcopy_*_opts` call on this thread that
/// returned EAGAIN (ZCOPY_OPT_NOWAIT) or EINTR (ZCOPY_OPT_EINTR) before
/// they reached dst (a pooled pipe's contents, the read/write buffer's
/// tail, the byte past an urgent mark). The next transfer call on the same
/// pair from this thread delivers them first.
///
/// The event-loop recipe after EAGAIN from zcopy_splice_opts or
/// zcopy_copy_opts with a socket src: `zcopy_held(dst, src) > 0` means dst
/// stopped the call (wait for dst writable, POLLOUT / EPOLLOUT); 0 means
/// src had nothing (wait for src readable, POLLIN / EPOLLIN). That is
/// exact when neither fd is a pipe: the pooled splice and read/write take
/// from src before they meet a full dst, so a full dst always leaves bytes
/// held. With a pipe on either side (a direct splice, which holds nothing)
/// 0 may also mean dst is full: wait for src readable, then for dst
/// writable, before calling again.
///
/// - `dst_fd`, `src_fd`: the pair as passed to the transfer call, in that
///   order (each direction of a relay is its own pair).
///
/// Returns the bytes held, >= 0. 0 also when the fds now name other files
/// than when the bytes were kept (closed and reused: that connection is
/// gone, and its entry is discarded here), when either fd is closed, or in
/// a child after fork().
///
/// Errors: -1 with errno EBADF for a negative fd (errno ZCOPY_EPANIC after
/// an internal panic). errno is left alone on success.
///
/// Thread safety: safe from any thread; it answers for the calling
/// thread's own held bytes only (another thread's are invisible, and are
/// delivered only by calls from that thread).
///
/// Blocking: never (a hash look-up, and two fstat(2) when something is
/// held for the pair).
#[no_mangle]
pub extern "C" fn zcopy_held(dst_fd: c_int, src_fd: c_int) -> i64 {
    boundary(Count, || {
        if dst_fd < 0 || src_fd < 0 {
            return Err(libc::EBADF);
        }
        Ok(crate::call::inflight::held(dst_fd, src_fd))
    })
}

/// Drops the bytes the calling thread keeps in flight for the pair
/// (`dst_fd`, `src_fd`), instead of delivering them: what an earlier
/// transfer call with ZCOPY_OPT_EINTR or ZCOPY_OPT_NOWAIT left held for
/// that pair (see zcopy_held), and a relay zcopy_relay kept on this thread
/// after an EINTR return whose fds are these two (in either order). Their
/// pooled pipes are closed, so no fd or pipe stays behind.
///
/// For a caller that gives up on a stream after an EINTR or EAGAIN return
/// (Ctrl-C in a script, a connection being closed): without it the bytes,
/// a pipe and its two fds stay with the thread until its next call on the
/// same pair, or until a call finds the fds closed or reused.
///
/// Returns the bytes dropped, >= 0 (0 when nothing was kept, or when the
/// fds now name other files). Errors: -1 with errno EBADF for a negative
/// fd (errno ZCOPY_EPANIC after an internal panic).
///
/// Thread safety: safe from any thread; it drops the calling thread's own
/// kept bytes only. Blocking: never.
#[no_mangle]
pub extern "C" fn zcopy_held_discard(dst_fd: c_int, src_fd: c_int) -> i64 {
    boundary(Count, || {
        if dst_fd < 0 || src_fd < 0 {
            return Err(libc::EBADF);
        }
        Ok(crate::call::inflight::discard(dst_fd, src_fd)
            + crate::relay::discard_kept(dst_fd, src_fd))
    })
}
