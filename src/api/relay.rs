//! The blocking two-way relay: `relay(a, b, &Options)`.

use super::Options;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Bytes delivered each way by a relay.
///
/// ```
/// let c = zcopy::RelayCounts::default();
/// assert_eq!((c.a_to_b, c.b_to_a), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayCounts {
    /// Bytes read from `a` and delivered to `b`.
    pub a_to_b: u64,
    /// Bytes read from `b` and delivered to `a`.
    pub b_to_a: u64,
}

/// Which of a relay's two fds an error came from.
///
/// ```
/// assert_ne!(zcopy::Side::A, zcopy::Side::B);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first fd given (`a`).
    A,
    /// The second fd given (`b`).
    B,
}

/// How a relay failed: the error, the side it came from (None when it
/// came from neither fd: a timeout, a cancel, a signal, bad options) and
/// the bytes delivered each way before it.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// let (a, _pa) = UnixStream::pair()?;
/// let (b, _pb) = UnixStream::pair()?;
/// let opts = zcopy::Options::default().idle_timeout(std::time::Duration::from_millis(20));
/// let err = zcopy::relay(&a, &b, &opts).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// assert_eq!(err.side(), None);
/// assert_eq!(err.counts(), zcopy::RelayCounts::default());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct RelayError {
    error: io::Error,
    side: Option<Side>,
    counts: RelayCounts,
}

impl RelayError {
    /// The bytes delivered each way before the error.
    pub fn counts(&self) -> RelayCounts {
        self.counts
    }

    /// The fd the error came from, if it came from one.
    pub fn side(&self) -> Option<Side> {
        self.side
    }

    /// The operating system's error.
    pub fn io(&self) -> &io::Error {
        &self.error
    }

    /// Its kind (`TimedOut`, `ConnectionReset`, `BrokenPipe`, ...).
    pub fn kind(&self) -> io::ErrorKind {
        self.error.kind()
    }

    /// The internal result as the public one: `a` and `b` tell the sides.
    pub(crate) fn from_raw(
        r: crate::relay::RelayResult,
        a: i32,
        b: i32,
    ) -> Result<RelayCounts, RelayError> {
        let counts = RelayCounts {
            a_to_b: u64::try_from(r.a_to_b).unwrap_or(0),
            b_to_a: u64::try_from(r.b_to_a).unwrap_or(0),
        };
        if r.error == 0 {
            return Ok(counts);
        }
        let side = match r.error_fd {
            fd if fd == a && fd >= 0 => Some(Side::A),
            fd if fd == b && fd >= 0 => Some(Side::B),
            _ => None,
        };
        Err(RelayError {
            error: io::Error::from_raw_os_error(r.error),
            side,
            counts,
        })
    }
}

impl fmt::Display for RelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "relay ended: {}", self.error)?;
        if let Some(s) = self.side {
            write!(f, " on side {s:?}")?;
        }
        write!(
            f,
            " after {} bytes a->b, {} b->a",
            self.counts.a_to_b, self.counts.b_to_a
        )
    }
}

impl std::error::Error for RelayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<RelayError> for io::Error {
    /// Keeps the kind; the `RelayError` rides along as the payload.
    fn from(e: RelayError) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

/// Relays between two connected stream fds (sockets, pipes, ttys) in the
/// calling thread until both directions are done: bytes from `a` go to
/// `b` and from `b` to `a` at once, zero-copy through pooled pipes for
/// bulk data, a plain copy for small messages. A direction whose source
/// reaches end of stream half-closes its destination (shutdown SHUT_WR)
/// and the other goes on, as tokio's copy_bidirectional; with
/// [`Options::close_both`] the first end of stream ends both. A hard error
/// on either side (reset, broken pipe) ends both and names the side.
///
/// Blocking: sleeps in poll(2) whenever nothing can move (no CPU while
/// idle); the fds are made non-blocking for the call and restored after.
/// The fds are not closed. [`Options::nowait`] is refused (`InvalidInput`).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// let (a, mut client) = UnixStream::pair()?;
/// let (b, mut server) = UnixStream::pair()?;
/// let t = std::thread::spawn(move || zcopy::relay(&a, &b, &zcopy::Options::default()));
/// client.write_all(b"ping")?;
/// client.shutdown(std::net::Shutdown::Write)?;
/// let mut got = String::new();
/// server.read_to_string(&mut got)?; // a's EOF reached b
/// server.write_all(b"pong")?;
/// drop(server);
/// let counts = t.join().unwrap()?;
/// assert_eq!((got.as_str(), counts.a_to_b, counts.b_to_a), ("ping", 4, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn relay(a: impl AsFd, b: impl AsFd, opts: &Options) -> Result<RelayCounts, RelayError> {
    let (a, b) = (a.as_fd().as_raw_fd(), b.as_fd().as_raw_fd());
    let raw = opts.raw();
    RelayError::from_raw(crate::relay::relay(a, b, Some(&raw)), a, b)
}
