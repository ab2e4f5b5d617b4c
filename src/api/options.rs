//! `Options`, the builder every blocking call takes, and `Canceller`, the
//! eventfd that ends calls from another thread.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

/// What a blocking call may be asked beyond the bytes to move: an idle
/// timeout, a cancel handle, interruption by signals, the no-wait mode
/// (for event loops) and, for relays, ending both directions at the first
/// end of stream. `Options::default()` asks for nothing: the call behaves
/// as the plain one.
///
/// A builder: each method takes and returns the options.
///
/// ```
/// use std::time::Duration;
/// let cancel = zcopy::Canceller::new()?;
/// let opts = zcopy::Options::default()
///     .idle_timeout(Duration::from_secs(30))
///     .cancel(&cancel)
///     .close_both(true);
/// assert_eq!(opts.get_idle_timeout(), Some(Duration::from_secs(30)));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options {
    idle_timeout: Option<Duration>,
    cancel: Option<Canceller>,
    close_both: bool,
    nowait: bool,
    resume_on_eintr: bool,
    rates: (u64, u64),
}

impl Options {
    /// The defaults: no timeout, no cancel, signals retried, waits
    /// allowed (the same as `Options::default()`).
    ///
    /// ```
    /// assert_eq!(zcopy::Options::new().get_idle_timeout(), None);
    /// ```
    pub fn new() -> Options {
        Options::default()
    }

    /// Ends the call with [`io::ErrorKind::TimedOut`] once no byte has
    /// moved, either way, for `d` (the clock restarts at every byte; the
    /// call ends within `d` + 50 ms). Rounded up to whole milliseconds;
    /// `Duration::ZERO` means no timeout. No effect with [`nowait`](Self::nowait).
    ///
    /// ```
    /// use std::time::Duration;
    /// let o = zcopy::Options::default().idle_timeout(Duration::from_micros(1));
    /// assert_eq!(o.get_idle_timeout(), Some(Duration::from_millis(1)));
    /// ```
    pub fn idle_timeout(mut self, d: Duration) -> Options {
        self.idle_timeout = (!d.is_zero()).then_some(d);
        self
    }

    /// The idle timeout asked for, in whole milliseconds, if any.
    ///
    /// ```
    /// assert_eq!(zcopy::Options::default().get_idle_timeout(), None);
    /// ```
    pub fn get_idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
            .map(|d| Duration::from_millis(u64::try_from(timeout_ms(d)).unwrap_or(u64::MAX)))
    }

    /// Ends the call (or relay) soon after `c` is [cancelled](Canceller::cancel):
    /// within 20 ms, with an error of raw OS code ECANCELED. One canceller
    /// may serve any number of calls; the options keep it alive.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// let c = zcopy::Canceller::new()?;
    /// c.cancel()?;
    /// let (a, _x) = UnixStream::pair()?;
    /// let (b, _y) = UnixStream::pair()?;
    /// let err = zcopy::relay(&a, &b, &zcopy::Options::default().cancel(&c)).unwrap_err();
    /// assert_eq!(err.io().raw_os_error(), Some(libc::ECANCELED));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cancel(mut self, c: &Canceller) -> Options {
        self.cancel = Some(c.clone());
        self
    }

    /// Relays only: the first direction to reach end of stream shuts down
    /// both write sides and ends the relay at once (otherwise each
    /// direction ends on its own, half-closing its destination).
    ///
    /// ```
    /// let o = zcopy::Options::default().close_both(true);
    /// # let _ = o;
    /// ```
    pub fn close_both(mut self, on: bool) -> Options {
        self.close_both = on;
        self
    }

    /// Transfers only: never wait for an fd. At the first "would block"
    /// the call returns [`io::ErrorKind::WouldBlock`] (the
    /// [`TransferError`](crate::TransferError) says what moved); bytes
    /// already taken from src are kept for the calling thread and
    /// delivered first by its next call on the same two fds. Relays and
    /// the engine refuse it (`InvalidInput`): they own their waits.
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// let (dst, _p) = UnixStream::pair()?;
    /// let (src, _w) = UnixStream::pair()?; // no data yet
    /// let err = zcopy::copy_with(&dst, &src, None, &zcopy::Options::default().nowait(true))
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nowait(mut self, on: bool) -> Options {
        self.nowait = on;
        self
    }

    /// A signal delivered to the calling thread while the call waits ends
    /// it with [`io::ErrorKind::Interrupted`]; calling again with the same
    /// fds continues the stream, no byte lost (bytes in flight are kept
    /// for the thread). Without it a signal is retried.
    ///
    /// ```
    /// let o = zcopy::Options::default().resume_on_eintr(true);
    /// # let _ = o;
    /// ```
    pub fn resume_on_eintr(mut self, on: bool) -> Options {
        self.resume_on_eintr = on;
        self
    }

    /// Limits a relay (or an engine relay) to these rates in bytes per
    /// second, a to b and b to a; 0 is no limit in that direction. A token
    /// bucket per direction (1/20 s of burst); the relay sleeps, without
    /// CPU, while a direction waits for its bucket. The transfer calls
    /// refuse a rate (`InvalidInput`): only relays limit one.
    ///
    /// ```
    /// let o = zcopy::Options::default().rate(10_000_000, 0);
    /// assert_eq!(o.get_rate(), (10_000_000, 0));
    /// ```
    pub fn rate(mut self, a_to_b: u64, b_to_a: u64) -> Options {
        self.rates = (a_to_b, b_to_a);
        self
    }

    /// The rates set by [`rate`](Self::rate): (a to b, b to a), 0 = none.
    ///
    /// ```
    /// assert_eq!(zcopy::Options::default().get_rate(), (0, 0));
    /// ```
    pub fn get_rate(&self) -> (u64, u64) {
        self.rates
    }

    /// The C struct these options stand for; valid while `self` lives
    /// (it names the canceller's fd).
    pub(crate) fn raw(&self) -> crate::call::options::Options {
        use crate::call::options::{ZCOPY_OPT_CLOSE_BOTH, ZCOPY_OPT_EINTR, ZCOPY_OPT_NOWAIT};
        let mut flags = 0;
        for (on, bit) in [
            (self.close_both, ZCOPY_OPT_CLOSE_BOTH),
            (self.nowait, ZCOPY_OPT_NOWAIT),
            (self.resume_on_eintr, ZCOPY_OPT_EINTR),
        ] {
            if on {
                flags |= bit;
            }
        }
        let rate = |r: u64| i64::try_from(r).unwrap_or(i64::MAX);
        crate::call::options::Options {
            flags,
            idle_timeout_ms: self.idle_timeout.map_or(0, timeout_ms),
            cancel_fd: self.cancel.as_ref().map_or(-1, |c| c.fd.as_raw_fd()),
            rate_a_to_b: rate(self.rates.0),
            rate_b_to_a: rate(self.rates.1),
            ..crate::call::options::Options::default()
        }
    }

    /// The validated settings (for the tokio driver).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn settings(&self) -> io::Result<crate::call::options::Settings> {
        crate::call::options::Settings::from_options(Some(&self.raw()))
            .map_err(io::Error::from_raw_os_error)
    }

    /// The canceller, if any (for the tokio driver).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn canceller(&self) -> Option<&Canceller> {
        self.cancel.as_ref()
    }
}

/// Whole milliseconds, rounded up, clamped to what the C struct holds.
fn timeout_ms(d: Duration) -> i64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// A cancel handle: an eventfd that ends every call and relay given it
/// (through [`Options::cancel`]) once [`cancel`](Canceller::cancel) is
/// called, from any thread. Clones share the one eventfd. The library
/// never reads it, so a cancelled `Canceller` stays cancelled until
/// [`reset`](Canceller::reset).
///
/// ```
/// let c = zcopy::Canceller::new()?;
/// assert!(!c.is_cancelled()?);
/// c.cancel()?;
/// assert!(c.is_cancelled()?);
/// c.reset()?;
/// assert!(!c.is_cancelled()?);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Canceller {
    fd: Arc<OwnedFd>,
}

impl Canceller {
    /// A new, not cancelled, handle (one eventfd).
    ///
    /// ```
    /// let c = zcopy::Canceller::new()?;
    /// # let _ = c;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Canceller> {
        // SAFETY: eventfd takes no pointer.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new fd that nothing else owns.
        Ok(Canceller::from_fd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Uses any fd whose readability should cancel: a pipe's read end a
    /// signal handler writes to, a timerfd, a signalfd.
    ///
    /// ```
    /// let (r, w) = std::os::unix::net::UnixStream::pair()?;
    /// let c = zcopy::Canceller::from_fd(r.into());
    /// std::io::Write::write_all(&mut &w, b"x")?;
    /// assert!(c.is_cancelled()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_fd(fd: OwnedFd) -> Canceller {
        Canceller { fd: Arc::new(fd) }
    }

    /// Cancels every call given this handle (now and later, until reset).
    ///
    /// ```
    /// zcopy::Canceller::new()?.cancel()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cancel(&self) -> io::Result<()> {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64.
        let r = unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        match r {
            8 => Ok(()),
            // The counter is full: it is readable, so cancelled already.
            _ if io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }

    /// Makes the handle not cancelled again (reads the eventfd's counter;
    /// for an fd of [`from_fd`](Self::from_fd), reads what it holds).
    ///
    /// ```
    /// let c = zcopy::Canceller::new()?;
    /// c.reset()?; // fine when not cancelled
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&self) -> io::Result<()> {
        let mut buf = [0u8; 64];
        while self.is_cancelled()? {
            // SAFETY: reads into a live buffer of its length.
            let r = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if r <= 0 {
                let e = io::Error::last_os_error();
                if r == 0 || e.kind() == io::ErrorKind::WouldBlock {
                    return Ok(());
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// True when the fd is readable (the handle was cancelled).
    ///
    /// ```
    /// assert!(!zcopy::Canceller::new()?.is_cancelled()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_cancelled(&self) -> io::Result<bool> {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd, no wait.
        match unsafe { libc::poll(&mut p, 1, 0) } {
            r if r < 0 => Err(io::Error::last_os_error()),
            r => Ok(r > 0),
        }
    }
}

impl AsFd for Canceller {
    /// The eventfd (or the fd given to [`Canceller::from_fd`]).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
