//! The fds as the reactor sees them: a duplicate of each, registered with
//! tokio's reactor, so that this call controls its own readiness (clears
//! it after an EAGAIN or a trusted short read, with tokio's tick check)
//! without disturbing the registration the stream itself holds.
//!
//! The price: while the stream's own registration stays in the reactor,
//! every readiness change of the socket is delivered twice (two epoll
//! items to wake and poll, two readiness updates), once to a registration
//! nobody waits on. Measured with 32 connections ping-ponging 64 B and
//! 4 KiB (bench/results/tokio.md, `zcopy-std`: the streams taken out of
//! the reactor first): 0-4 % of the proxy's CPU per round trip, inside
//! this machine's run-to-run noise. Kept because nothing else is safe
//! here:
//! - the call takes any `AsFd`, which gives no access to a stream's
//!   registration;
//! - that registration asks for readable and writable only, never POLLPRI,
//!   which the short-read rule needs (short.rs: a TCP read stops short at
//!   the urgent mark with bytes behind it), and interests are fixed when
//!   tokio registers a stream;
//! - its readiness can be cleared only inside the stream's `try_io`, from
//!   a snapshot taken when that call starts: one step moves two fds both
//!   ways, so it would have to run inside four nested `try_io`s, each
//!   able to skip its closure.
//!
//! A caller that owns the streams can avoid the second delivery by taking
//! them out of the reactor first (`TcpStream::into_std`, still
//! non-blocking), which `copy_bidirectional` accepts as it is.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{Context, Poll};
use tokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use tokio::io::{Interest, Ready};

/// One fd's own registration.
pub(super) struct Watched {
    fd: AsyncFd<OwnedFd>,
}

impl Watched {
    /// Registers a duplicate of `fd` (same open file, new number: epoll
    /// keys registrations by both) for `interest`. The fd must be
    /// non-blocking, as every fd tokio drives is.
    pub(super) fn new(fd: BorrowedFd<'_>, interest: Interest) -> io::Result<Watched> {
        let owned = fd.try_clone_to_owned()?;
        // SAFETY: the AsyncFd owns the duplicate and nothing else closes
        // or replaces it while it is registered.
        let fd = unsafe { AsyncFd::register_with_interest(owned, interest) }?;
        Ok(Watched { fd })
    }

    /// The duplicate's number, for the system calls.
    pub(super) fn raw(&self) -> RawFd {
        self.fd.get_ref().as_raw_fd()
    }

    /// Readable now (the guard remembers the readiness tick), or Pending
    /// with the task's waker registered.
    pub(super) fn read<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> io::Result<Option<AsyncFdReadyGuard<'a, OwnedFd>>> {
        match self.fd.poll_read_ready(cx) {
            Poll::Ready(g) => g.map(Some),
            Poll::Pending => Ok(None),
        }
    }

    /// Whether the reactor reported urgent data (POLLPRI) pending, or the
    /// peer's end of stream (then a read soon says so anyway): ask after
    /// `read` gave a guard, so that what the guard's tick clears was seen
    /// here. try_io runs its closure only while one of those is set, and a
    /// closure that succeeds clears nothing: one atomic load, no waker.
    pub(super) fn urgent(&self) -> bool {
        self.fd.try_io(Interest::PRIORITY, |_| Ok(())).is_ok()
    }

    /// Writable now, or Pending with the task's waker registered.
    pub(super) fn write<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> io::Result<Option<AsyncFdReadyGuard<'a, OwnedFd>>> {
        match self.fd.poll_write_ready(cx) {
            Poll::Ready(g) => g.map(Some),
            Poll::Pending => Ok(None),
        }
    }
}

impl AsFd for Watched {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.get_ref().as_fd()
    }
}

/// poll(2) events for what a guard says: readable or writable, and a
/// hang-up (both ways closed, or an error) as POLLHUP, as the relay's
/// step expects them.
pub(super) fn events(g: &Option<AsyncFdReadyGuard<'_, OwnedFd>>) -> i16 {
    let Some(g) = g else { return 0 };
    let r = g.ready();
    let mut ev = 0;
    if r.is_readable() {
        ev |= libc::POLLIN;
    }
    if r.is_read_closed() {
        ev |= libc::POLLIN;
    }
    if r.is_writable() {
        ev |= libc::POLLOUT;
    }
    if r.is_write_closed() {
        ev |= libc::POLLHUP;
    }
    ev
}

/// Clears what the guard saw, if `wanted` says the step met EAGAIN there;
/// a no-op when an event came after the guard was taken (tokio compares
/// ticks), so no wake-up is ever lost.
pub(super) fn clear(g: &mut Option<AsyncFdReadyGuard<'_, OwnedFd>>, wanted: bool, what: Ready) {
    if let (Some(g), true) = (g.as_mut(), wanted) {
        g.clear_ready_matching(what);
    }
}

impl Watched {
    /// Waits until the fd is writable.
    pub(super) async fn fd_writable(&self) -> io::Result<AsyncFdReadyGuard<'_, OwnedFd>> {
        self.fd.writable().await
    }
}
