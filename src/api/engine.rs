//! The relay engine: worker threads relaying many pairs of fds.

use super::{Options, RelayCounts, RelayError};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

pub use crate::engine::EngineStats;

/// A set of worker threads, each an epoll loop over the relays it is
/// given: the way to relay thousands of connections without a thread
/// each. Same semantics per relay as [`relay`](crate::relay()).
///
/// Dropping the engine ends every running relay with ECANCELED (their
/// `done` is called) and joins the workers; dropped from inside a `done`
/// callback, that worker is not joined and exits by itself.
///
/// Thread safety: `Engine` is `Send + Sync`; `add` and `stats` may be
/// called from any thread.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// let engine = zcopy::Engine::new(1)?;
/// let (a, mut client) = UnixStream::pair()?;
/// let (b, mut server) = UnixStream::pair()?;
/// let (tx, rx) = std::sync::mpsc::channel();
/// engine.add(a.into(), b.into(), &zcopy::Options::default(), move |r| {
///     tx.send(r).unwrap();
/// })?;
/// client.write_all(b"hi")?;
/// client.shutdown(std::net::Shutdown::Write)?; // half-close: "done sending"
/// let mut got = Vec::new();
/// server.read_to_end(&mut got)?; // the EOF came through
/// drop(server);
/// client.read_to_end(&mut Vec::new())?;
/// let counts = rx.recv_timeout(std::time::Duration::from_secs(10))?.unwrap();
/// assert_eq!((got.as_slice(), counts.a_to_b), (&b"hi"[..], 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Engine {
    pub(super) inner: crate::engine::Engine,
}

impl std::fmt::Debug for crate::engine::Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("threads", &self.threads())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts `threads` workers (0: one per CPU the process may run on; at
    /// most 1024, else `InvalidInput`).
    ///
    /// ```
    /// let e = zcopy::Engine::new(2)?;
    /// assert_eq!(e.threads(), 2);
    /// assert!(zcopy::Engine::new(100_000).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(threads: usize) -> io::Result<Engine> {
        let n = u32::try_from(threads).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let inner = crate::engine::Engine::new(n).map_err(io::Error::from_raw_os_error)?;
        Ok(Engine { inner })
    }

    /// The number of worker threads.
    ///
    /// ```
    /// assert!(zcopy::Engine::new(0)?.threads() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn threads(&self) -> usize {
        self.inner.threads()
    }

    /// Hands `a` and `b` (two connected stream fds epoll can watch) to a
    /// worker, which relays between them until both directions are done.
    /// `done` is called exactly once, on an engine thread, with the
    /// result, after the engine closed both fds. It must not block for
    /// long (the thread serves other relays).
    ///
    /// Errors (nothing started, `done` dropped uncalled, the fds closed):
    /// `InvalidInput` for two ends of one file, a datagram socket or
    /// [`Options::nowait`]; `PermissionDenied` (EPERM) for an fd epoll
    /// cannot watch (regular file, /dev/null); EEXIST when either fd is
    /// already in a running relay of this engine; ECANCELED while the
    /// engine stops; ESTALE in a child forked after the engine was made.
    ///
    /// ```
    /// let engine = zcopy::Engine::new(1)?;
    /// let f = std::fs::File::open("/proc/self/status")?;
    /// let (s, _peer) = std::os::unix::net::UnixStream::pair()?;
    /// let err = engine.add(f.into(), s.into(), &zcopy::Options::default(), |_| {});
    /// assert_eq!(err.unwrap_err().kind(), std::io::ErrorKind::PermissionDenied);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add(
        &self,
        a: OwnedFd,
        b: OwnedFd,
        opts: &Options,
        done: impl FnOnce(Result<RelayCounts, RelayError>) + Send + 'static,
    ) -> io::Result<()> {
        let (ra, rb, cb) = owning_done(a, b, done);
        self.inner
            .add(ra, rb, Some(&opts.raw()), Some(cb))
            .map_err(io::Error::from_raw_os_error)
    }

    /// The engine's counters (each read atomically).
    ///
    /// ```
    /// let s = zcopy::Engine::new(1)?.stats();
    /// assert_eq!((s.active, s.finished), (0, 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stats(&self) -> EngineStats {
        self.inner.stats()
    }
}

/// The raw numbers of `a` and `b` and the engine's callback for `done`,
/// which owns both fds: they are closed when the relay ends (or when the
/// add fails and drops the callback), and `done` gets the result with the
/// fds' numbers for a `RelayError`.
pub(super) fn owning_done(
    a: OwnedFd,
    b: OwnedFd,
    done: impl FnOnce(Result<RelayCounts, RelayError>) + Send + 'static,
) -> (i32, i32, crate::engine::Done) {
    let (ra, rb) = (a.as_raw_fd(), b.as_raw_fd());
    let cb: crate::engine::Done = Box::new(move |r| {
        drop((a, b));
        done(RelayError::from_raw(r, ra, rb));
    });
    (ra, rb, cb)
}
