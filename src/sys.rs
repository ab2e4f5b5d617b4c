//! Small wrappers over the system calls every mechanism shares: errno,
//! fd flags, waiting for readiness without spinning, and the SIGPIPE guard.

use std::mem::MaybeUninit;

/// The calling thread's errno.
#[inline]
pub fn errno() -> i32 {
    // SAFETY: __errno_location always returns a valid thread-local pointer.
    unsafe { *libc::__errno_location() }
}

/// fcntl(F_GETFL), or the errno (EBADF for a closed fd).
pub fn fd_flags(fd: i32) -> Result<i32, i32> {
    // SAFETY: F_GETFL takes no pointer argument.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// fstat, or the errno.
pub fn fstat(fd: i32) -> Result<libc::stat, i32> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st points to writable memory of the right size.
    let r = unsafe { libc::fstat(fd, st.as_mut_ptr()) };
    if r < 0 {
        Err(errno())
    } else {
        // SAFETY: fstat succeeded and filled it.
        Ok(unsafe { st.assume_init() })
    }
}

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
fn socket_timeout_ms(fd: i32, how: Wait) -> i32 {
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

/// Blocks SIGPIPE in the calling thread for the length of one call, so that
/// writing to a socket or pipe whose reader is gone returns EPIPE instead of
/// killing the process. No process-wide handler is installed: the thread's
/// mask is restored afterwards, and only a SIGPIPE that the call itself
/// raised is consumed (one that was already pending stays pending).
pub struct SigpipeGuard {
    was_blocked: bool,
    was_pending: bool,
    /// The errno the call ended with; set before the guard drops.
    pub error: i32,
}

fn sigpipe_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset with a valid signal.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
        set.assume_init()
    }
}

fn sigpipe_pending() -> bool {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigpending fills the set.
    unsafe {
        if libc::sigpending(set.as_mut_ptr()) != 0 {
            return false;
        }
        libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
    }
}

impl Default for SigpipeGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl SigpipeGuard {
    /// Blocks SIGPIPE in this thread.
    pub fn new() -> SigpipeGuard {
        let set = sigpipe_set();
        let mut old = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: both sets are valid.
        let was_blocked = unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, old.as_mut_ptr()) == 0
                && libc::sigismember(old.as_ptr(), libc::SIGPIPE) == 1
        };
        // While SIGPIPE was unblocked none can be pending for this thread
        // (it would have been delivered), so only look when it was blocked.
        let was_pending = was_blocked && sigpipe_pending();
        SigpipeGuard {
            was_blocked,
            was_pending,
            error: 0,
        }
    }
}

impl Drop for SigpipeGuard {
    /// Consumes a SIGPIPE the call raised (only after an error: a
    /// successful call raises none) and restores the thread's mask. Runs on
    /// unwinding too, so the mask is never left changed.
    fn drop(&mut self) {
        if self.error != 0 && !self.was_pending && sigpipe_pending() {
            let set = sigpipe_set();
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: valid set and timeout; the signal is blocked, so
            // sigtimedwait takes it off the pending set without delivering it.
            unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
        }
        if !self.was_blocked {
            let set = sigpipe_set();
            // SAFETY: valid set.
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        }
    }
}

/// Runs `f` with SIGPIPE blocked in this thread (see [`SigpipeGuard`]).
pub fn without_sigpipe<F: FnOnce() -> crate::Transfer>(f: F) -> crate::Transfer {
    let mut guard = SigpipeGuard::new();
    let t = f();
    guard.error = t.error;
    t
}
