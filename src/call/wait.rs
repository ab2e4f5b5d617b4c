//! Waiting for readiness without spinning: one poll(2) per wait, bounded by
//! the socket's own SO_RCVTIMEO / SO_SNDTIMEO.

use crate::call::control::{now_ns, Control};

/// Which way a transfer waits on an fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Wait until the fd is readable (a source with no data yet).
    Read,
    /// Wait until the fd is writable (a destination that is full).
    Write,
}

/// The socket's SO_RCVTIMEO / SO_SNDTIMEO in milliseconds, or -1 (wait
/// forever) when it is not a socket or has no timeout set.
pub(crate) fn socket_timeout_ms(fd: i32, how: Wait) -> i32 {
    socket_timeout(fd, how).unwrap_or(-1)
}

/// One getsockopt(2) that answers two questions: Ok(the timeout in ms, or
/// -1 for none) when `fd` is a socket, Err(errno) when it is not (ENOTSOCK)
/// or is no fd at all (EBADF).
pub(crate) fn socket_timeout(fd: i32, how: Wait) -> Result<i32, i32> {
    let opt = match how {
        Wait::Read => libc::SO_RCVTIMEO,
        Wait::Write => libc::SO_SNDTIMEO,
    };
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: tv and len are valid for getsockopt to write.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            &mut tv as *mut libc::timeval as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 {
        return Err(crate::sys::errno());
    }
    if tv.tv_sec == 0 && tv.tv_usec == 0 {
        return Ok(-1);
    }
    // Saturating: the kernel accepts (and returns) huge timeouts.
    let ms = tv
        .tv_sec
        .saturating_mul(1000)
        .saturating_add((tv.tv_usec + 999) / 1000);
    Ok(ms.clamp(1, i32::MAX as i64) as i32)
}

/// Blocks until `fd` is ready for `how`, so that a retry after EAGAIN makes
/// progress instead of spinning. Every wait goes through the call's
/// `Control` (idle timeout, cancel fd, EINTR on request; nothing for a
/// plain call). Honours the socket's SO_RCVTIMEO / SO_SNDTIMEO: when it
/// runs out with no readiness, Err(EAGAIN). A hang-up or error condition
/// counts as ready: the retried call then reports it.
pub(crate) fn wait_ready(ctl: &mut Control, fd: i32, how: Wait) -> Result<(), i32> {
    wait_ready_since(ctl, fd, how, now_ns())
}

/// [`wait_ready`] after a system call that began at `t0` (monotonic ns)
/// and answered EAGAIN: the socket's timeout is counted from `t0`, so that
/// a blocking socket, on which the kernel already waited out SO_RCVTIMEO /
/// SO_SNDTIMEO inside the call, gives EAGAIN now instead of after a second
/// timeout.
pub(crate) fn wait_ready_since(ctl: &mut Control, fd: i32, how: Wait, t0: i64) -> Result<(), i32> {
    let events = match how {
        Wait::Read => libc::POLLIN,
        Wait::Write => libc::POLLOUT,
    };
    let timeout = socket_timeout_ms(fd, how);
    let until = (timeout >= 0).then(|| t0 + timeout as i64 * 1_000_000);
    ctl.wait_one(fd, events, until)
}

/// After a write-side system call that began at `t0` moved fewer bytes than
/// asked: true when it waited out dst's SO_SNDTIMEO inside the kernel (a
/// blocking socket returns short only then, or on a signal), so the call
/// should end with EAGAIN now rather than wait a second timeout. Costs a
/// getsockopt only when the system call took over a millisecond.
pub(crate) fn kernel_timed_out(fd: i32, t0: i64) -> bool {
    let took = now_ns() - t0;
    if took < 1_000_000 {
        return false;
    }
    let timeout = socket_timeout_ms(fd, Wait::Write);
    timeout >= 0 && took >= timeout as i64 * 1_000_000
}
