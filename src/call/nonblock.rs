//! Blocking fds made non-blocking for the length of one call, so that
//! every wait is the library's own poll(2), bounded once.
//!
//! On a blocking socket with SO_SNDTIMEO / SO_RCVTIMEO the kernel applies
//! the timeout inside each system call: a call that filled the socket
//! buffer waits the timeout, returns short, and the next one waits it again
//! (then the poll after EAGAIN once more), so a stalled peer took 4 to 5
//! times the timeout. With O_NONBLOCK set for the call, the system calls
//! never wait; the poll after EAGAIN waits at most the timeout, counted
//! from the last progress.
//!
//! The flag lives on the open file description, which other fds (dup,
//! fork, SCM_RIGHTS) share: while a call runs, another thread or process
//! doing a blocking read(2) or write(2) on the same description sees
//! EAGAIN. The flag is restored before the call returns (also on panic).

use crate::call::wait::{socket_timeout_ms, Wait};
use crate::sys::fd_flags;

/// The fds this call made non-blocking, restored on drop.
pub(crate) struct NonBlocking {
    fds: [i32; 2],
    n: usize,
}

impl NonBlocking {
    /// Nothing changed.
    pub(crate) const fn none() -> NonBlocking {
        NonBlocking {
            fds: [-1, -1],
            n: 0,
        }
    }

    /// Makes `fd` non-blocking for the call when it is blocking and either
    /// `always` (the caller's options bound every wait) or it is a socket
    /// whose timeout for `how` is set (SO_RCVTIMEO for a source,
    /// SO_SNDTIMEO for a destination). `flags` is its F_GETFL value when
    /// already known. An fd this guard already holds is skipped.
    pub(crate) fn add(&mut self, fd: i32, flags: Option<i32>, how: Wait, always: bool) {
        if self.fds[..self.n].contains(&fd) || self.n == self.fds.len() {
            return;
        }
        // Cheapest question first: known flags that say non-blocking, then
        // the socket's timeout (one getsockopt; ENOTSOCK for anything but a
        // socket), and F_GETFL only for a socket that has one.
        if flags.is_some_and(|fl| fl & libc::O_NONBLOCK != 0) {
            return;
        }
        if !always && socket_timeout_ms(fd, how) < 0 {
            return;
        }
        self.set_for_call(fd, flags);
    }

    /// Makes `fd` non-blocking for the call if it is blocking, whatever its
    /// timeout (the caller already knows one matters). `flags` is its
    /// F_GETFL value when known; otherwise one F_GETFL asks.
    pub(crate) fn set_for_call(&mut self, fd: i32, flags: Option<i32>) {
        if self.fds[..self.n].contains(&fd) || self.n == self.fds.len() {
            return;
        }
        let Some(fl) = flags.or_else(|| fd_flags(fd).ok()) else {
            return; // a bad fd: the call itself reports it
        };
        if fl & libc::O_NONBLOCK != 0 {
            return;
        }
        // SAFETY: F_SETFL takes an int; a failure leaves the fd blocking,
        // which only loses the bound.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } == 0 {
            self.fds[self.n] = fd;
            self.n += 1;
        }
    }

    /// Both fds non-blocking for the call, whatever they are: a relay
    /// steps both without ever waiting in the kernel. Err((errno, fd))
    /// when an fd's flags cannot be read or set (what was set is undone).
    pub(crate) fn required(a: i32, b: i32) -> Result<NonBlocking, (i32, i32)> {
        let mut g = NonBlocking::none();
        for fd in [a, b] {
            let fl = fd_flags(fd).map_err(|e| (e, fd))?;
            if fl & libc::O_NONBLOCK == 0 {
                // SAFETY: F_SETFL takes an int.
                if unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
                    return Err((crate::sys::errno(), fd));
                }
                g.fds[g.n] = fd;
                g.n += 1;
            }
        }
        Ok(g)
    }

    /// The guard for a transfer from `src` to `dst` (F_GETFL values when
    /// already known).
    pub(crate) fn for_pair(
        dst: i32,
        dst_flags: Option<i32>,
        src: i32,
        src_flags: Option<i32>,
        always: bool,
    ) -> NonBlocking {
        let mut g = NonBlocking::none();
        g.add(dst, dst_flags, Wait::Write, always);
        g.add(src, src_flags, Wait::Read, always);
        g
    }
}

impl Drop for NonBlocking {
    /// Clears O_NONBLOCK again, leaving any other flag as it is now.
    fn drop(&mut self) {
        for &fd in &self.fds[..self.n] {
            if let Ok(fl) = fd_flags(fd) {
                // SAFETY: as above.
                unsafe { libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_NONBLOCK) };
            }
        }
    }
}
