//! Thin wrappers over epoll(7) and eventfd(2) for the engine's workers.
//!
//! Each worker owns one epoll instance. A relay's sockets are registered
//! level-triggered for exactly what its directions wait for (the relay's
//! `Interest` after each step), and the relay runs in level mode: a take
//! shorter than asked ends its direction's step without the splice that
//! would only answer EAGAIN, since a level-triggered registration reports
//! the fd again if it does have more. That saves a system call per
//! direction per wake-up; the price is an epoll_ctl(MOD) when what a
//! direction waits for changes (a destination filling up), which a
//! ping-pong never pays and a bulk transfer pays once per buffer fill.

use crate::sys::errno;

/// Events a cancel fd (and the wake-up eventfd) are registered for:
/// level-triggered readability, so a readable fd is reported until the
/// relay is gone.
pub const READ_EVENTS: u32 = libc::EPOLLIN as u32;

/// The registration for what a relay waits for on one fd (poll bits of
/// its `Interest`): level-triggered read and/or write. Nothing wanted is
/// EPOLLET with no events: an fd that hung up reports it once, where a
/// level-triggered registration would report it on every turn.
pub fn relay_events(interest: i16) -> u32 {
    let mut ev = 0;
    if interest & libc::POLLIN != 0 {
        ev |= libc::EPOLLIN as u32;
    }
    if interest & libc::POLLOUT != 0 {
        ev |= libc::EPOLLOUT as u32;
    }
    if ev == 0 {
        libc::EPOLLET as u32
    } else {
        ev
    }
}

/// One epoll instance; closed on drop.
#[derive(Debug)]
pub struct Epoll {
    fd: i32,
}

impl Epoll {
    /// A new epoll instance (close-on-exec), or the errno (EMFILE, ENOMEM).
    pub fn new() -> Result<Epoll, i32> {
        // SAFETY: no pointer arguments.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(errno());
        }
        Ok(Epoll { fd })
    }

    /// Watches `fd` for `events`, reporting `token`. EPERM: the fd cannot
    /// be polled (a regular file, a directory); EEXIST: already watched
    /// here; ENOSPC: max_user_watches reached.
    pub fn add(&self, fd: i32, events: u32, token: u64) -> Result<(), i32> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: ev is a valid epoll_event for the call.
        if unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(errno());
        }
        Ok(())
    }

    /// Changes what `fd` is watched for. ENOENT: not watched here (closed
    /// by its owner while the relay ran).
    pub fn modify(&self, fd: i32, events: u32, token: u64) -> Result<(), i32> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: ev is a valid epoll_event for the call.
        if unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_MOD, fd, &mut ev) } < 0 {
            return Err(errno());
        }
        Ok(())
    }

    /// The epoll fd itself.
    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// Whether `fd` can be watched at all: added and removed again at
    /// once. EPERM for a file with no poll method (a regular file,
    /// /dev/null). The set must be one no other code adds `fd` to.
    pub fn probe(&self, fd: i32) -> Result<(), i32> {
        match self.add(fd, libc::EPOLLET as u32, 0) {
            Ok(()) => {
                self.delete(fd);
                Ok(())
            }
            // Another add of a dup of the same file is probing right now:
            // that file can be watched.
            Err(libc::EEXIST) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Stops watching `fd`. Errors are ignored: an fd that is already gone
    /// from the set (closed by its owner) has nothing left to remove.
    pub fn delete(&self, fd: i32) {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: ev is valid (kernels before 2.6.9 wanted non-NULL).
        unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_DEL, fd, &mut ev) };
    }

    /// Waits up to `timeout_ms` (-1: forever) and fills `events`; returns
    /// how many were filled. EINTR is 0 events (the caller loops anyway;
    /// engine threads block every signal, so it only comes from a debugger).
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> Result<usize, i32> {
        let max = events.len().min(i32::MAX as usize) as i32;
        // SAFETY: events has room for max entries.
        let n = unsafe { libc::epoll_wait(self.fd, events.as_mut_ptr(), max, timeout_ms) };
        if n < 0 {
            return match errno() {
                libc::EINTR => Ok(0),
                e => Err(e),
            };
        }
        Ok(n as usize)
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe { libc::close(self.fd) };
    }
}

/// An eventfd that wakes a worker blocked in epoll_wait (a new relay in its
/// inbox, or the engine stopping). Non-blocking: a wake that finds the
/// counter near overflow (EAGAIN) already has a wake-up pending.
#[derive(Debug)]
pub struct Waker {
    fd: i32,
}

impl Waker {
    /// A new eventfd, or the errno.
    pub fn new() -> Result<Waker, i32> {
        // SAFETY: no pointer arguments.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(errno());
        }
        Ok(Waker { fd })
    }

    /// Makes the eventfd readable (safe from any thread).
    pub fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64. EAGAIN means a wake is
        // already pending, which is all we want.
        unsafe { libc::write(self.fd, (&one as *const u64).cast(), 8) };
    }

    /// Resets the counter (the worker, before it looks at its inbox).
    pub fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64; EAGAIN: nothing pending.
        unsafe { libc::read(self.fd, (&mut v as *mut u64).cast(), 8) };
    }

    /// The eventfd.
    pub fn fd(&self) -> i32 {
        self.fd
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe { libc::close(self.fd) };
    }
}

/// Blocks every signal in the calling thread and returns the old mask.
/// Engine threads inherit the blocked mask from the thread that spawns
/// them, so no signal handler ever runs on them (and SIGPIPE from a splice
/// to a closed peer becomes a pending, harmless, thread-directed signal
/// while the call returns EPIPE): no per-step SIGPIPE guard is needed.
pub fn block_all_signals() -> libc::sigset_t {
    let mut all = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    let mut old = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigfillset initialises `all`; pthread_sigmask fills `old`.
    unsafe {
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_BLOCK, all.as_ptr(), old.as_mut_ptr());
        old.assume_init()
    }
}

/// Restores a mask saved by `block_all_signals`.
pub fn restore_signals(old: &libc::sigset_t) {
    // SAFETY: a valid mask from pthread_sigmask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_maps_to_level_registrations_and_nothing_to_an_edge() {
        let (i, o) = (libc::EPOLLIN as u32, libc::EPOLLOUT as u32);
        assert_eq!(relay_events(libc::POLLIN), i);
        assert_eq!(relay_events(libc::POLLOUT), o);
        assert_eq!(relay_events(libc::POLLIN | libc::POLLOUT), i | o);
        assert_eq!(relay_events(0), libc::EPOLLET as u32);
    }
}
