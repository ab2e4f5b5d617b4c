//! The error values of the public API: an `io::Error` whose payload says
//! how many bytes moved before the error, and the "fall back" value.

use crate::api::Method;
use std::fmt;
use std::io;

/// The payload of every `io::Error` a transfer returns: the bytes that
/// reached dst before the call ended, the mechanism that ran, and the
/// operating system's error (also its [`source`](std::error::Error::source)).
/// The `io::Error`'s [`kind`](io::Error::kind) is the OS error's kind.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
/// let (dst, _peer) = UnixStream::pair()?;
/// let (src, _writer) = UnixStream::pair()?; // never writes: idle
/// let opts = zcopy::Options::default().idle_timeout(Duration::from_millis(20));
/// let err = zcopy::copy_with(&dst, &src, None, &opts).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// assert_eq!(zcopy::TransferError::of(&err).unwrap().written(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TransferError {
    written: u64,
    method: Method,
    cause: io::Error,
}

impl TransferError {
    /// The bytes that reached dst before the error (they were delivered:
    /// the next call continues after them).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The mechanism that was running when the error happened.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The operating system's error.
    pub fn cause(&self) -> &io::Error {
        &self.cause
    }

    /// The `TransferError` inside an `io::Error` a transfer returned, if
    /// it is one.
    ///
    /// ```
    /// let e = std::io::Error::other("not from zcopy");
    /// assert!(zcopy::TransferError::of(&e).is_none());
    /// ```
    pub fn of(e: &io::Error) -> Option<&TransferError> {
        e.get_ref()?.downcast_ref()
    }

    /// Wraps an errno from the internal layer as the public `io::Error`.
    pub(crate) fn io(errno: i32, written: u64, method: Method) -> io::Error {
        let cause = io::Error::from_raw_os_error(errno);
        let kind = cause.kind();
        io::Error::new(
            kind,
            TransferError {
                written,
                method,
                cause,
            },
        )
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} after {} bytes ({})",
            self.cause, self.written, self.method
        )
    }
}

impl std::error::Error for TransferError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// The payload of an [`io::ErrorKind::Unsupported`] error from
/// [`splice`](crate::splice()), [`sendfile`](crate::sendfile()) or
/// [`copy_file_range`](crate::copy_file_range()): this mechanism cannot
/// serve these two files and took nothing from src. Fall back to another
/// one ([`copy`](crate::copy()) does so by itself).
///
/// ```
/// use std::os::unix::net::UnixStream;
/// // copy_file_range needs two files: sockets are not served.
/// let (a, _b) = UnixStream::pair()?;
/// let (c, _d) = UnixStream::pair()?;
/// let err = zcopy::copy_file_range(&a, &c, None).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
/// assert!(zcopy::NotHandled::of(&err).is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct NotHandled {
    method: Method,
    reason: Option<io::Error>,
}

impl NotHandled {
    /// The mechanism that declined.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The operating system's answer that made it decline, when a system
    /// call gave one (EINVAL, EXDEV, ENOSYS, ...).
    pub fn reason(&self) -> Option<&io::Error> {
        self.reason.as_ref()
    }

    /// The `NotHandled` inside an `io::Error`, if it is one.
    ///
    /// ```
    /// let e = std::io::Error::from(std::io::ErrorKind::Unsupported);
    /// assert!(zcopy::NotHandled::of(&e).is_none());
    /// ```
    pub fn of(e: &io::Error) -> Option<&NotHandled> {
        e.get_ref()?.downcast_ref()
    }

    pub(crate) fn io(method: Method, errno: i32) -> io::Error {
        let reason = (errno != 0).then(|| io::Error::from_raw_os_error(errno));
        io::Error::new(io::ErrorKind::Unsupported, NotHandled { method, reason })
    }
}

impl fmt::Display for NotHandled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cannot serve these files; fall back", self.method)?;
        match &self.reason {
            Some(r) => write!(f, " ({r})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for NotHandled {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.reason.as_ref().map(|r| r as _)
    }
}
