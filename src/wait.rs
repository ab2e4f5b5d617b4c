//! Waiting for readiness without spinning: one poll(2) per wait, bounded by
//! the socket's own SO_RCVTIMEO / SO_SNDTIMEO.

use crate::sys::errno;

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
    if r < 0 || (tv.tv_sec == 0 && tv.tv_usec == 0) {
        return -1;
    }
    // Saturating: the kernel accepts (and returns) huge timeouts.
    let ms = tv
        .tv_sec
        .saturating_mul(1000)
        .saturating_add((tv.tv_usec + 999) / 1000);
    ms.clamp(1, i32::MAX as i64) as i32
}

fn now_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is valid for clock_gettime to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}

/// Blocks until `fd` is ready for `how`, so that a retry after EAGAIN makes
/// progress instead of spinning. Honours the socket's SO_RCVTIMEO /
/// SO_SNDTIMEO: when it runs out, returns Err(EAGAIN). A hang-up or error
/// condition counts as ready: the retried call then reports it.
pub fn wait_ready(fd: i32, how: Wait) -> Result<(), i32> {
    let events = match how {
        Wait::Read => libc::POLLIN,
        Wait::Write => libc::POLLOUT,
    };
    let timeout = socket_timeout_ms(fd, how);
    let deadline = if timeout >= 0 {
        now_ms() + timeout as i64
    } else {
        0
    };
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        let left = if timeout >= 0 {
            (deadline - now_ms()).max(0) as i32
        } else {
            -1
        };
        // SAFETY: pfd is one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, left) };
        if r < 0 {
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            return Err(libc::EAGAIN);
        }
        if pfd.revents & libc::POLLNVAL != 0 {
            return Err(libc::EBADF);
        }
        return Ok(());
    }
}
