//! `zcopy_options`: what a caller may ask of a blocking call beyond the
//! bytes to move — an idle timeout, a cancel fd, interruption by signals,
//! and (for zcopy_relay) closing both directions at the first EOF.
//!
//! The struct is part of the ABI: 24 bytes, fields in this order. `size`
//! comes first so that a later version can grow the struct and still tell
//! an old caller's from a new one's; today only 24 is accepted.

/// A signal delivered to the calling thread while a call waits (in poll(2)
/// or in a blocking system call) ends the call with EINTR and `written`
/// exact; calling again continues the stream. Without it EINTR is retried.
pub const ZCOPY_OPT_EINTR: u32 = 1;
/// zcopy_relay and the engine: the first direction to reach EOF shuts down
/// both write sides and ends the relay at once.
pub const ZCOPY_OPT_CLOSE_BOTH: u32 = 2;

/// The transfer calls with options (`zcopy_*_opts`, `zcopy_*_at_opts`):
/// never wait for an fd. At the first EAGAIN (src has no data, dst has no
/// room) the call returns what moved so far in `written` with error
/// EAGAIN, handled true (0 bytes and EAGAIN when nothing could move), for
/// an event loop to wait for readiness itself and call again. Bytes taken
/// from src and not yet delivered (a pooled pipe, the read/write buffer)
/// are kept as for ZCOPY_OPT_EINTR and delivered first by the next call.
/// Event-loop recipe: after EAGAIN, `zcopy_held(dst, src) > 0` means dst
/// is full (wait for dst writable), 0 means src had nothing (wait for src
/// readable); exact when neither fd is a pipe (with one, 0 can mean
/// either: wait for src readable, then dst writable). From a regular file
/// src EAGAIN always means dst. A thread
/// keeps at most 1024 such pairs: a call on a new pair past that returns
/// ENOBUFS with nothing taken from src (deliver the held pairs, i.e. call
/// again on them, or use zcopy_splicer); no held byte is ever dropped
/// while its fds still name the same files.
/// zcopy_relay and zcopy_engine_add refuse it (EINVAL): they own their
/// waits.
pub const ZCOPY_OPT_NOWAIT: u32 = 4;

/// Every flag this version knows; any other bit is EINVAL.
const KNOWN_FLAGS: u32 = ZCOPY_OPT_EINTR | ZCOPY_OPT_CLOSE_BOTH | ZCOPY_OPT_NOWAIT;

/// Options for the `*_opts` calls, zcopy_relay and the engine. Fill it with
/// zcopy_options_init, then set what you need.
///
/// Layout (24 bytes): size at 0, flags at 4, idle_timeout_ms at 8,
/// cancel_fd at 16, reserved at 20.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// sizeof(zcopy_options): 24.
    pub size: u32,
    /// ZCOPY_OPT_* bits.
    pub flags: u32,
    /// Milliseconds with no byte moved before the call ends with ETIMEDOUT
    /// (the clock restarts whenever a byte moves); 0: never.
    pub idle_timeout_ms: i64,
    /// An fd whose readability ends the call with ECANCELED (the library
    /// never reads it, so one fd can cancel many calls); -1: none.
    pub cancel_fd: i32,
    /// Must be 0.
    pub reserved: i32,
}

const _: () = assert!(std::mem::size_of::<Options>() == 24);

impl Default for Options {
    fn default() -> Self {
        Options {
            size: std::mem::size_of::<Options>() as u32,
            flags: 0,
            idle_timeout_ms: 0,
            cancel_fd: -1,
            reserved: 0,
        }
    }
}

/// What a valid `zcopy_options` asks for, checked once at the boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    /// Milliseconds without progress before ETIMEDOUT; 0: never.
    pub idle_timeout_ms: i64,
    /// The fd whose readability cancels the call, if any.
    pub cancel_fd: Option<i32>,
    /// ZCOPY_OPT_EINTR.
    pub eintr: bool,
    /// ZCOPY_OPT_CLOSE_BOTH.
    pub close_both: bool,
    /// ZCOPY_OPT_NOWAIT.
    pub nowait: bool,
}

impl Settings {
    /// Validates a caller's options (None: the defaults, as a NULL pointer
    /// means). EINVAL for a size other than 24, an unknown flag bit,
    /// reserved != 0, a negative timeout or a cancel_fd below -1; EBADF for
    /// a cancel_fd that is not open.
    pub fn from_options(opts: Option<&Options>) -> Result<Settings, i32> {
        let Some(o) = opts else {
            return Ok(Settings::default());
        };
        if o.size as usize != std::mem::size_of::<Options>()
            || o.flags & !KNOWN_FLAGS != 0
            || o.reserved != 0
            || o.idle_timeout_ms < 0
            || o.cancel_fd < -1
        {
            return Err(libc::EINVAL);
        }
        if o.cancel_fd >= 0 {
            // SAFETY: F_GETFD takes no pointer; it only tells whether the fd is open.
            if unsafe { libc::fcntl(o.cancel_fd, libc::F_GETFD) } < 0 {
                return Err(libc::EBADF);
            }
        }
        Ok(Settings {
            idle_timeout_ms: o.idle_timeout_ms,
            cancel_fd: (o.cancel_fd >= 0).then_some(o.cancel_fd),
            eintr: o.flags & ZCOPY_OPT_EINTR != 0,
            close_both: o.flags & ZCOPY_OPT_CLOSE_BOTH != 0,
            nowait: o.flags & ZCOPY_OPT_NOWAIT != 0,
        })
    }

    /// True when nothing beyond a plain call is asked: no timeout, no
    /// cancel fd, EINTR retried, waits allowed.
    pub fn is_plain(&self) -> bool {
        self.idle_timeout_ms == 0 && self.cancel_fd.is_none() && !self.eintr && !self.nowait
    }

    /// [`Settings::from_options`] for the calls that own their waits
    /// (zcopy_relay, the engine): ZCOPY_OPT_NOWAIT is EINVAL there.
    pub fn from_options_waiting(opts: Option<&Options>) -> Result<Settings, i32> {
        match Settings::from_options(opts)? {
            s if s.nowait => Err(libc::EINVAL),
            s => Ok(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_plain() {
        let s = Settings::from_options(Some(&Options::default())).unwrap();
        assert!(s.is_plain());
        assert_eq!(Settings::from_options(None).unwrap(), s);
    }

    #[test]
    fn bad_options_are_einval() {
        let bad = [
            Options {
                size: 16,
                ..Options::default()
            },
            Options {
                flags: 8,
                ..Options::default()
            },
            Options {
                flags: 1 << 31,
                ..Options::default()
            },
            Options {
                reserved: 1,
                ..Options::default()
            },
            Options {
                idle_timeout_ms: -1,
                ..Options::default()
            },
            Options {
                cancel_fd: -2,
                ..Options::default()
            },
        ];
        for o in bad {
            assert_eq!(Settings::from_options(Some(&o)), Err(libc::EINVAL), "{o:?}");
        }
    }

    #[test]
    fn nowait_is_known_but_not_for_relays() {
        let o = Options {
            flags: ZCOPY_OPT_NOWAIT,
            ..Options::default()
        };
        let s = Settings::from_options(Some(&o)).unwrap();
        assert!(s.nowait && !s.is_plain());
        assert_eq!(Settings::from_options_waiting(Some(&o)), Err(libc::EINVAL));
        assert!(Settings::from_options_waiting(None).is_ok());
    }

    #[test]
    fn a_closed_cancel_fd_is_ebadf() {
        let o = Options {
            cancel_fd: 1_000_000,
            ..Options::default()
        };
        assert_eq!(Settings::from_options(Some(&o)), Err(libc::EBADF));
    }
}
