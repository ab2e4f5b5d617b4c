//! What proxy authors ask of a relay (issue 23), in the Rust API: bytes
//! already read go first, engine relays by id (live counts, cancel), and
//! per-direction rate limits (through [`Options::rate`]).

use super::{Engine, Options, RelayCounts, RelayError};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// [`relay`](crate::relay), with bytes the caller already read delivered
/// first: `a_to_b` goes to `b` before anything read from `a`, `b_to_a` to
/// `a` before anything read from `b` (a request line, a CONNECT, a PROXY
/// header, a TLS ClientHello read past what was parsed). They count in
/// their direction and come before its half-close.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// let (a, mut client) = UnixStream::pair()?;
/// let (b, mut server) = UnixStream::pair()?;
/// let t = std::thread::spawn(move || {
///     zcopy::relay_prefixed(&a, &b, b"CONNECT x\r\n", b"", &zcopy::Options::default())
/// });
/// client.write_all(b"body")?;
/// client.shutdown(std::net::Shutdown::Write)?;
/// server.shutdown(std::net::Shutdown::Write)?;
/// let mut got = String::new();
/// server.read_to_string(&mut got)?;
/// assert_eq!(got, "CONNECT x\r\nbody");
/// assert_eq!(t.join().unwrap()?.a_to_b, 15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn relay_prefixed(
    a: impl AsFd,
    b: impl AsFd,
    a_to_b: &[u8],
    b_to_a: &[u8],
    opts: &Options,
) -> Result<RelayCounts, RelayError> {
    let (a, b) = (a.as_fd().as_raw_fd(), b.as_fd().as_raw_fd());
    let raw = opts.raw();
    let r = crate::relay::relay_prefixed(a, b, a_to_b, b_to_a, Some(&raw));
    RelayError::from_raw(r, a, b)
}

/// A running engine relay, as [`Engine::add_relay`] names it: for
/// [`Engine::counts`] and [`Engine::cancel`]. Ids are never reused within
/// an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayId(pub(crate) u64);

impl RelayId {
    /// The number the C API uses for this relay (>= 1).
    ///
    /// ```
    /// let e = zcopy::Engine::new(1)?;
    /// let (a, _x) = std::os::unix::net::UnixStream::pair()?;
    /// let (b, _y) = std::os::unix::net::UnixStream::pair()?;
    /// let id = e.add_relay(a.into(), b.into(), b"", b"", &zcopy::Options::default(), |_| {})?;
    /// assert!(id.get() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get(self) -> u64 {
        self.0
    }
}

impl Engine {
    /// [`add`](Engine::add), with prefix bytes delivered first in each
    /// direction (as [`relay_prefixed`]), returning the relay's id for
    /// [`counts`](Engine::counts) and [`cancel`](Engine::cancel). Rate
    /// limits come with [`Options::rate`].
    ///
    /// ```
    /// use std::io::Read;
    /// use std::os::unix::net::UnixStream;
    /// let e = zcopy::Engine::new(1)?;
    /// let (a, _client) = UnixStream::pair()?;
    /// let (b, mut server) = UnixStream::pair()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let id = e.add_relay(a.into(), b.into(), b"hi", b"", &zcopy::Options::default(),
    ///                      move |r| tx.send(r).unwrap())?;
    /// let mut got = [0u8; 2];
    /// server.read_exact(&mut got)?;
    /// assert_eq!(&got, b"hi");
    /// e.cancel(id)?;
    /// let err = rx.recv().unwrap().unwrap_err();
    /// assert_eq!((err.io().raw_os_error(), err.counts().a_to_b), (Some(libc::ECANCELED), 2));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add_relay(
        &self,
        a: OwnedFd,
        b: OwnedFd,
        a_to_b: &[u8],
        b_to_a: &[u8],
        opts: &Options,
        done: impl FnOnce(Result<RelayCounts, RelayError>) + Send + 'static,
    ) -> io::Result<RelayId> {
        let (ra, rb, cb) = super::engine::owning_done(a, b, done);
        self.inner
            .add_relay(
                ra,
                rb,
                (a_to_b.to_vec(), b_to_a.to_vec()),
                Some(&opts.raw()),
                Some(cb),
            )
            .map(RelayId)
            .map_err(io::Error::from_raw_os_error)
    }

    /// The bytes a running relay delivered so far, each way (monotonic,
    /// updated after every step that moved bytes). `NotFound` once it
    /// ended (its `done` has the final counts).
    ///
    /// ```
    /// let e = zcopy::Engine::new(1)?;
    /// let (a, _x) = std::os::unix::net::UnixStream::pair()?;
    /// let (b, _y) = std::os::unix::net::UnixStream::pair()?;
    /// let id = e.add_relay(a.into(), b.into(), b"", b"", &zcopy::Options::default(), |_| {})?;
    /// assert_eq!(e.counts(id)?.a_to_b, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn counts(&self, id: RelayId) -> io::Result<RelayCounts> {
        let (ab, ba) = self
            .inner
            .counts(id.0)
            .map_err(io::Error::from_raw_os_error)?;
        Ok(RelayCounts {
            a_to_b: u64::try_from(ab).unwrap_or(0),
            b_to_a: u64::try_from(ba).unwrap_or(0),
        })
    }

    /// Ends a running relay within milliseconds: its `done` gets an error
    /// of raw errno ECANCELED with the counts. `NotFound` once it ended.
    ///
    /// ```
    /// let e = zcopy::Engine::new(1)?;
    /// let (a, _x) = std::os::unix::net::UnixStream::pair()?;
    /// let (b, _y) = std::os::unix::net::UnixStream::pair()?;
    /// let id = e.add_relay(a.into(), b.into(), b"", b"", &zcopy::Options::default(), |_| {})?;
    /// e.cancel(id)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cancel(&self, id: RelayId) -> io::Result<()> {
        self.inner
            .cancel(id.0)
            .map_err(io::Error::from_raw_os_error)
    }
}
