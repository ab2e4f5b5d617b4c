//! The control of one blocking call: its idle clock, its cancel fd and
//! whether a signal ends it. Every wait of a call with options goes
//! through `Control::wait`, so a call never sleeps past what its caller
//! allowed; a plain call (`Control::plain()`) pays nothing for it.
//!
//! Invariants:
//! - The idle deadline moves only forward, and only in `progress()`: a call
//!   that moves a byte restarts the clock, one that waits does not.
//! - `wait` never returns ETIMEDOUT before the deadline (poll(2) rounds its
//!   timeout up to whole milliseconds, and a wake-up is checked against the
//!   clock), so the call ends within [T, T + a few ms].
//! - The cancel fd is only polled, never read: one eventfd or pipe can
//!   cancel any number of calls, and stays readable for all of them.

use crate::call::options::Settings;
use crate::sys::errno;

/// Most fds one wait watches besides the cancel fd (a relay watches its
/// two sockets; a mechanism one).
pub const MAX_WAIT_FDS: usize = 4;

/// While bytes keep moving (no wait at all), the cancel fd and the
/// deadline are still looked at every this many nanoseconds.
const CHECK_EVERY_NS: i64 = 5_000_000;

pub use crate::sys::clock::now_ns;

/// The control state of one call.
#[derive(Debug, Clone)]
pub struct Control {
    settings: Settings,
    /// When the idle timeout runs out (monotonic ns); 0: no timeout.
    idle_deadline: i64,
    /// When `check` next looks at the cancel fd and the clock.
    next_check: i64,
}

impl Control {
    /// A plain call: no timeout, no cancel fd, EINTR retried. Costs no
    /// system call anywhere.
    pub const fn plain() -> Control {
        Control {
            settings: Settings {
                idle_timeout_ms: 0,
                cancel_fd: None,
                eintr: false,
                close_both: false,
                nowait: false,
                reflink: crate::call::options::Reflink::Auto,
                rate_a_to_b: 0,
                rate_b_to_a: 0,
            },
            idle_deadline: 0,
            next_check: 0,
        }
    }

    /// A call with validated options; the idle clock starts now.
    pub fn new(settings: Settings) -> Control {
        let mut c = Control {
            settings,
            idle_deadline: 0,
            next_check: 0,
        };
        c.progress();
        c
    }

    /// What the caller asked for.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True when nothing beyond a plain call was asked.
    pub fn is_plain(&self) -> bool {
        self.settings.is_plain()
    }

    /// ZCOPY_OPT_NOWAIT: every wait is an EAGAIN return instead.
    #[inline]
    pub fn nowait(&self) -> bool {
        self.settings.nowait
    }

    /// True when a call that stops with `e` may keep the bytes it has in
    /// flight for the next call on the same pair (see `inflight`): a
    /// signal (EINTR, only asked for with ZCOPY_OPT_EINTR) or a wait not
    /// taken (EAGAIN under ZCOPY_OPT_NOWAIT). Any other error discards
    /// them.
    #[inline]
    pub fn resumable(&self, e: i32) -> bool {
        e == libc::EINTR || (e == libc::EAGAIN && self.settings.nowait)
    }

    /// A byte moved: the idle clock starts again.
    #[inline]
    pub fn progress(&mut self) {
        if self.settings.idle_timeout_ms > 0 {
            // Saturating: a caller may ask for INT64_MAX ms ("as good as never").
            self.idle_deadline =
                now_ns().saturating_add(self.settings.idle_timeout_ms.saturating_mul(1_000_000));
        }
    }

    /// Between steps that did not wait: ECANCELED once the cancel fd is
    /// readable, ETIMEDOUT once the idle deadline has passed. Looks at most
    /// every 5 ms (one clock read otherwise), and never for a plain call.
    #[inline]
    pub fn check(&mut self) -> Result<(), i32> {
        if self.settings.cancel_fd.is_none() && self.idle_deadline == 0 {
            return Ok(());
        }
        let now = now_ns();
        if now < self.next_check {
            return Ok(());
        }
        self.next_check = now + CHECK_EVERY_NS;
        self.check_now(now)
    }

    /// The cancel fd and the clock, looked at now (one poll(2) with a zero
    /// timeout when there is a cancel fd).
    pub fn check_now(&self, now: i64) -> Result<(), i32> {
        if let Some(fd) = self.settings.cancel_fd {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, no waiting.
            let r = unsafe { libc::poll(&mut p, 1, 0) };
            if r > 0 {
                return Err(cancel_error(p.revents));
            }
        }
        if self.idle_deadline != 0 && now >= self.idle_deadline {
            return Err(libc::ETIMEDOUT);
        }
        Ok(())
    }

    /// Sleeps until one of `fds` has an event (their `revents` are filled;
    /// a hang-up or error counts: the retried call reports it). Ends early
    /// with ECANCELED (the cancel fd became readable), ETIMEDOUT (no
    /// progress for the idle timeout), EAGAIN (`until`, an absolute
    /// monotonic ns deadline such as a socket's SO_RCVTIMEO, was reached),
    /// EINTR (a signal arrived and the caller asked for ZCOPY_OPT_EINTR;
    /// otherwise EINTR is retried), or poll's own errno. More than
    /// MAX_WAIT_FDS fds is EINVAL. Under ZCOPY_OPT_NOWAIT: EAGAIN at once,
    /// no system call.
    pub fn wait(&mut self, fds: &mut [libc::pollfd], until: Option<i64>) -> Result<(), i32> {
        if fds.len() > MAX_WAIT_FDS {
            return Err(libc::EINVAL);
        }
        if self.settings.nowait {
            // ZCOPY_OPT_NOWAIT: the caller's event loop does the waiting.
            // The cancel fd was looked at when the call began (and between
            // rounds that moved bytes); the idle clock cannot run out in a
            // call that never sleeps.
            return Err(libc::EAGAIN);
        }
        let n = fds.len();
        let mut all = [libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        }; MAX_WAIT_FDS + 1];
        all[..n].copy_from_slice(fds);
        let watched = match self.settings.cancel_fd {
            Some(fd) => {
                all[n] = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                n + 1
            }
            None => n,
        };
        loop {
            let now = now_ns();
            let deadline = match (self.idle_deadline, until) {
                (0, None) => None,
                (0, Some(u)) => Some(u),
                (d, None) => Some(d),
                (d, Some(u)) => Some(d.min(u)),
            };
            let timeout_ms = match deadline {
                None => -1,
                // Rounded up: waking a little late is allowed, early is not.
                Some(d) => (d - now).max(0).saturating_add(999_999) / 1_000_000,
            }
            .min(i32::MAX as i64) as i32;
            // SAFETY: `all` holds `watched` valid pollfds.
            let r = unsafe { libc::poll(all.as_mut_ptr(), watched as libc::nfds_t, timeout_ms) };
            if r < 0 {
                match errno() {
                    libc::EINTR if self.settings.eintr => return Err(libc::EINTR),
                    libc::EINTR => continue,
                    e => return Err(e),
                }
            }
            if watched > n && all[n].revents != 0 {
                return Err(cancel_error(all[n].revents));
            }
            if r > 0 {
                fds.copy_from_slice(&all[..n]);
                if fds.iter().any(|p| p.revents & libc::POLLNVAL != 0) {
                    return Err(libc::EBADF);
                }
                return Ok(());
            }
            let now = now_ns();
            if self.idle_deadline != 0 && now >= self.idle_deadline {
                return Err(libc::ETIMEDOUT);
            }
            if until.is_some_and(|u| now >= u) {
                return Err(libc::EAGAIN);
            }
            // Woken before the deadline (poll's rounding): sleep the rest.
        }
    }

    /// Waits for one fd: POLLIN or POLLOUT (see `wait`).
    pub fn wait_one(&mut self, fd: i32, events: i16, until: Option<i64>) -> Result<(), i32> {
        let mut p = [libc::pollfd {
            fd,
            events,
            revents: 0,
        }];
        self.wait(&mut p, until)
    }
}

/// A cancel fd that was closed under us is EBADF; readable (or hung up,
/// which also means "something happened") is ECANCELED.
fn cancel_error(revents: i16) -> i32 {
    if revents & libc::POLLNVAL != 0 {
        libc::EBADF
    } else {
        libc::ECANCELED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe() -> (i32, i32) {
        let mut fds = [0; 2];
        // SAFETY: room for two fds.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        (fds[0], fds[1])
    }

    fn close(fd: i32) {
        // SAFETY: the test owns fd.
        unsafe { libc::close(fd) };
    }

    #[test]
    fn idle_timeout_is_never_early_and_not_much_late() {
        let (r, w) = pipe();
        let mut c = Control::new(Settings {
            idle_timeout_ms: 60,
            ..Settings::default()
        });
        let t0 = now_ns();
        assert_eq!(c.wait_one(r, libc::POLLIN, None), Err(libc::ETIMEDOUT));
        let ms = (now_ns() - t0) / 1_000_000;
        assert!((60..60 + 50).contains(&ms), "{ms} ms");
        close(r);
        close(w);
    }

    #[test]
    fn a_huge_idle_timeout_neither_overflows_nor_fires() {
        let (r, w) = pipe();
        let mut c = Control::new(Settings {
            idle_timeout_ms: i64::MAX,
            ..Settings::default()
        });
        c.progress();
        assert_eq!(c.check_now(now_ns()), Ok(()));
        let until = now_ns() + 10_000_000;
        assert_eq!(c.wait_one(r, libc::POLLIN, Some(until)), Err(libc::EAGAIN));
        close(r);
        close(w);
    }

    #[test]
    fn a_readable_cancel_fd_ends_the_wait_and_stays_readable() {
        let (r, w) = pipe();
        let (cr, cw) = pipe();
        // SAFETY: one byte from a valid buffer.
        assert_eq!(unsafe { libc::write(cw, b"x".as_ptr().cast(), 1) }, 1);
        for _ in 0..2 {
            let mut c = Control::new(Settings {
                cancel_fd: Some(cr),
                ..Settings::default()
            });
            assert_eq!(c.wait_one(r, libc::POLLIN, None), Err(libc::ECANCELED));
            assert_eq!(c.check_now(now_ns()), Err(libc::ECANCELED));
        }
        for fd in [r, w, cr, cw] {
            close(fd);
        }
    }

    #[test]
    fn nowait_never_sleeps_and_keeps_only_eagain_and_eintr() {
        let (r, w) = pipe();
        let mut c = Control::new(Settings {
            nowait: true,
            idle_timeout_ms: 10_000,
            ..Settings::default()
        });
        let t0 = now_ns();
        assert_eq!(c.wait_one(r, libc::POLLIN, None), Err(libc::EAGAIN));
        assert!(now_ns() - t0 < 5_000_000);
        assert!(c.resumable(libc::EAGAIN) && c.resumable(libc::EINTR));
        assert!(!c.resumable(libc::EPIPE));
        assert!(!Control::plain().resumable(libc::EAGAIN));
        close(r);
        close(w);
    }

    #[test]
    fn the_socket_deadline_gives_eagain_and_ready_fds_return() {
        let (r, w) = pipe();
        let mut c = Control::plain();
        let until = now_ns() + 20_000_000;
        assert_eq!(c.wait_one(r, libc::POLLIN, Some(until)), Err(libc::EAGAIN));
        assert!(now_ns() >= until);
        assert_eq!(c.wait_one(w, libc::POLLOUT, None), Ok(()));
        close(r);
        close(w);
    }
}
