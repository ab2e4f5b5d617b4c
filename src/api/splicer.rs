//! The non-blocking splicer, for event loops that wait themselves.

use super::error::{NotHandled, TransferError};
use super::Method;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// What a blocked [`Splicer`] waits for.
///
/// ```
/// assert_ne!(zcopy::Want::Read, zcopy::Want::Write);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Want {
    /// Wait until src is readable, then step again.
    Read,
    /// Wait until dst is writable (bytes are held), then step again.
    Write,
}

/// One direction of a stream moved with splice(2) without ever waiting:
/// it keeps a pooled pipe, so bytes taken from src wait there (never
/// lost) while dst is full. Make two for a two-way relay. Meant for
/// non-blocking fds driven by an event loop (epoll, mio).
///
/// Thread safety: `Send`, not shared; different splicers are independent.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// let (mut w, src) = UnixStream::pair()?;
/// let (dst, mut r) = UnixStream::pair()?;
/// src.set_nonblocking(true)?;
/// dst.set_nonblocking(true)?;
/// let mut s = zcopy::Splicer::new()?;
/// w.write_all(b"event loop")?;
/// assert_eq!(s.step(&dst, &src, None)?, 10);
/// assert_eq!(s.wants(), Some(zcopy::Want::Read)); // src is empty now
/// drop(w);
/// assert_eq!(s.step(&dst, &src, None)?, 0);
/// assert!(s.eof());
/// let mut got = [0u8; 10];
/// r.read_exact(&mut got)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Splicer {
    inner: crate::stream::splicer::Splicer,
}

impl Splicer {
    /// A splicer with a pipe from the pool (EMFILE/ENFILE when none can be
    /// made).
    ///
    /// ```
    /// assert_eq!(zcopy::Splicer::new()?.pending(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Splicer> {
        let inner = crate::stream::splicer::Splicer::new().map_err(io::Error::from_raw_os_error)?;
        Ok(Splicer { inner })
    }

    /// Delivers what is held, then takes at most `limit` bytes from src
    /// (None: no limit; at most 16 MiB per step either way) and delivers
    /// them, until something would block. Returns the bytes that reached
    /// dst in this step. When it stopped on "would block" it returns
    /// `Ok` and [`wants`](Self::wants) says what to wait for; `Ok` with
    /// `wants() == None` means the limit or budget was reached (step
    /// again) or, with [`eof`](Self::eof), the end of the stream.
    ///
    /// Errors: `Unsupported` with a [`NotHandled`] (nothing taken: the
    /// kernel cannot splice this pair, fall back to read/write); any other
    /// error carries a [`TransferError`]; [`pending`](Self::pending) then
    /// tells how many bytes were taken and not delivered.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// let (_w, src) = UnixStream::pair()?;
    /// let (dst, _r) = UnixStream::pair()?;
    /// src.set_nonblocking(true)?;
    /// let mut s = zcopy::Splicer::new()?;
    /// assert_eq!(s.step(&dst, &src, Some(0))?, 0); // only delivers what is held
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn step(&mut self, dst: impl AsFd, src: impl AsFd, limit: Option<u64>) -> io::Result<u64> {
        let (d, s) = (dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
        let remain = limit.map_or(crate::ZCOPY_ALL, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let t = self.inner.step(d, s, remain);
        let bytes = u64::try_from(t.written).unwrap_or(0);
        match (t.handled, t.error) {
            (false, e) => Err(NotHandled::io(Method::Splice, e)),
            (true, 0) => Ok(bytes),
            (true, libc::EAGAIN) if self.wants().is_some() => Ok(bytes),
            (true, e) => Err(TransferError::io(e, bytes, Method::Splice)),
        }
    }

    /// What the last step stopped on, if it stopped on "would block".
    ///
    /// ```
    /// assert_eq!(zcopy::Splicer::new()?.wants(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wants(&self) -> Option<Want> {
        match self.inner.wants() {
            crate::stream::splicer::ZCOPY_WANT_READ => Some(Want::Read),
            crate::stream::splicer::ZCOPY_WANT_WRITE => Some(Want::Write),
            _ => None,
        }
    }

    /// Bytes taken from src and not yet delivered.
    ///
    /// ```
    /// assert_eq!(zcopy::Splicer::new()?.pending(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pending(&self) -> u64 {
        u64::try_from(self.inner.pending()).unwrap_or(0)
    }

    /// True when the last step found src at end of stream with nothing
    /// pending: half-close dst now.
    ///
    /// ```
    /// assert!(!zcopy::Splicer::new()?.eof());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn eof(&self) -> bool {
        self.inner.eof()
    }
}
