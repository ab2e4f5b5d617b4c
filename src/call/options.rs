//! `zcopy_options`: what a caller may ask of a blocking call beyond the
//! bytes to move — an idle timeout, a cancel fd, interruption by signals,
//! and (for zcopy_relay) closing both directions at the first EOF.
//!
//! The struct is part of the ABI, fields in this order. `size` comes first
//! so that a later version can grow the struct and still tell an old
//! caller's from a new one's: 24 is version 1 (up to `reserved`), 40 is
//! version 2 (the two rates added). A version 1 struct is never read past
//! its 24 bytes (see `ffi::options::read_options`).

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

/// zcopy_copy_opts between two regular files: never a copy-on-write
/// clone; every byte is really copied (`cp --reflink=never`). The file ->
/// file row then leaves out copy_file_range, which clones where the
/// filesystem can (XFS, btrfs), and uses sendfile, then read/write.
/// Without either REFLINK flag (`auto`) copy_file_range is tried first and
/// may clone. EINVAL together with ZCOPY_OPT_REFLINK_ALWAYS; ignored by
/// other pairs and calls.
pub const ZCOPY_OPT_REFLINK_NEVER: u32 = 8;
/// zcopy_copy_opts between two regular files: a copy-on-write clone or
/// nothing (`cp --reflink=always`). Up to `remain` bytes from src's
/// position are cloned to dst's position in one FICLONERANGE, and both
/// positions move past them as a copy's would; `method` is
/// ZCOPY_METHOD_CLONE. Nothing else is tried, and on any error nothing is
/// written (`written` 0, `handled` true): EOPNOTSUPP where the filesystem
/// cannot clone (ext4, tmpfs, XFS without reflink=1), EXDEV across
/// filesystems, EINVAL for offsets (or a length that stops short of src's
/// end) not on the filesystem's block size; as zcopy_clone otherwise.
/// EINVAL together with ZCOPY_OPT_REFLINK_NEVER; ignored by other pairs.
pub const ZCOPY_OPT_REFLINK_ALWAYS: u32 = 16;

/// Every flag this version knows; any other bit is EINVAL.
const KNOWN_FLAGS: u32 = ZCOPY_OPT_EINTR
    | ZCOPY_OPT_CLOSE_BOTH
    | ZCOPY_OPT_NOWAIT
    | ZCOPY_OPT_REFLINK_NEVER
    | ZCOPY_OPT_REFLINK_ALWAYS;

/// `size` of a version 1 zcopy_options (up to `reserved`).
pub const ZCOPY_OPTIONS_V1_SIZE: u32 = 24;
/// `size` of a version 2 zcopy_options (with the rates).
pub const ZCOPY_OPTIONS_V2_SIZE: u32 = 40;

/// Options for the `*_opts` calls, zcopy_relay and the engine. Fill it with
/// zcopy_options_init, then set what you need.
///
/// Layout (40 bytes): size at 0, flags at 4, idle_timeout_ms at 8,
/// cancel_fd at 16, reserved at 20, rate_a_to_b at 24, rate_b_to_a at 32.
/// A caller built against version 1 passes 24 bytes with `size` 24: it is
/// read as far as `reserved` only, and the rates count as 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// sizeof(zcopy_options): 40 (version 2); 24 (version 1, without the
    /// rates) is still accepted. Any other value is EINVAL.
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
    /// Version 2: zcopy_relay and the engine: bytes per second from a to
    /// b at most; 0: no limit. Negative: EINVAL; not 0 in any other call:
    /// EINVAL.
    pub rate_a_to_b: i64,
    /// Version 2: the same from b to a.
    pub rate_b_to_a: i64,
}

const _: () = assert!(std::mem::size_of::<Options>() == ZCOPY_OPTIONS_V2_SIZE as usize);

impl Default for Options {
    fn default() -> Self {
        Options {
            size: std::mem::size_of::<Options>() as u32,
            flags: 0,
            idle_timeout_ms: 0,
            cancel_fd: -1,
            reserved: 0,
            rate_a_to_b: 0,
            rate_b_to_a: 0,
        }
    }
}

/// Whether a copy between two regular files may, must or must not be a
/// copy-on-write clone (ZCOPY_OPT_REFLINK_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reflink {
    /// Whatever the fastest path gives (copy_file_range may clone).
    #[default]
    Auto,
    /// A real copy: no copy_file_range.
    Never,
    /// FICLONE or fail.
    Always,
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
    /// ZCOPY_OPT_REFLINK_NEVER / _ALWAYS.
    pub reflink: Reflink,
    /// Version 2: bytes per second a to b (relays and the engine); 0: none.
    pub rate_a_to_b: i64,
    /// Version 2: bytes per second b to a; 0: none.
    pub rate_b_to_a: i64,
}

impl Settings {
    /// Validates a caller's options (None: the defaults, as a NULL pointer
    /// means) for a call that is not a relay: as [`Settings::parse`], and
    /// EINVAL for a rate other than 0 (only relays and the engine limit a
    /// rate).
    pub fn from_options(opts: Option<&Options>) -> Result<Settings, i32> {
        match Settings::parse(opts)? {
            s if s.rate_a_to_b != 0 || s.rate_b_to_a != 0 => Err(libc::EINVAL),
            s => Ok(s),
        }
    }

    /// Validates a caller's options. EINVAL for a size other than 24 or
    /// 40, an unknown flag bit, both REFLINK flags, reserved != 0, a
    /// negative timeout or rate or a cancel_fd below -1; EBADF for a
    /// cancel_fd that is not open.
    fn parse(opts: Option<&Options>) -> Result<Settings, i32> {
        let Some(o) = opts else {
            return Ok(Settings::default());
        };
        let both = ZCOPY_OPT_REFLINK_NEVER | ZCOPY_OPT_REFLINK_ALWAYS;
        if !(o.size == ZCOPY_OPTIONS_V1_SIZE || o.size == ZCOPY_OPTIONS_V2_SIZE)
            || o.flags & !KNOWN_FLAGS != 0
            || o.flags & both == both
            || o.reserved != 0
            || o.idle_timeout_ms < 0
            || o.cancel_fd < -1
        {
            return Err(libc::EINVAL);
        }
        // A version 1 struct has no rates (whatever the caller's memory
        // holds past its 24 bytes is never read).
        let (rate_a_to_b, rate_b_to_a) = match o.size {
            ZCOPY_OPTIONS_V2_SIZE => (o.rate_a_to_b, o.rate_b_to_a),
            _ => (0, 0),
        };
        if rate_a_to_b < 0 || rate_b_to_a < 0 {
            return Err(libc::EINVAL);
        }
        if o.cancel_fd >= 0 {
            // SAFETY: F_GETFD takes no pointer; it only tells whether the fd is open.
            if unsafe { libc::fcntl(o.cancel_fd, libc::F_GETFD) } < 0 {
                return Err(libc::EBADF);
            }
        }
        let reflink = match o.flags & both {
            ZCOPY_OPT_REFLINK_NEVER => Reflink::Never,
            ZCOPY_OPT_REFLINK_ALWAYS => Reflink::Always,
            _ => Reflink::Auto,
        };
        Ok(Settings {
            idle_timeout_ms: o.idle_timeout_ms,
            cancel_fd: (o.cancel_fd >= 0).then_some(o.cancel_fd),
            eintr: o.flags & ZCOPY_OPT_EINTR != 0,
            close_both: o.flags & ZCOPY_OPT_CLOSE_BOTH != 0,
            nowait: o.flags & ZCOPY_OPT_NOWAIT != 0,
            reflink,
            rate_a_to_b,
            rate_b_to_a,
        })
    }

    /// True when nothing beyond a plain call is asked: no timeout, no
    /// cancel fd, EINTR retried, waits allowed.
    pub fn is_plain(&self) -> bool {
        self.idle_timeout_ms == 0 && self.cancel_fd.is_none() && !self.eintr && !self.nowait
    }

    /// [`Settings::parse`] for the calls that own their waits (zcopy_relay,
    /// the engine): ZCOPY_OPT_NOWAIT is EINVAL there; the rates are
    /// carried.
    pub fn from_options_waiting(opts: Option<&Options>) -> Result<Settings, i32> {
        match Settings::parse(opts)? {
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
                flags: 32,
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
    fn rates_only_for_relays_and_never_negative() {
        let rated = Options {
            rate_a_to_b: 10,
            ..Options::default()
        };
        assert_eq!(Settings::from_options(Some(&rated)), Err(libc::EINVAL));
        let s = Settings::from_options_waiting(Some(&rated)).unwrap();
        assert_eq!((s.rate_a_to_b, s.rate_b_to_a), (10, 0));
        let negative = Options {
            rate_b_to_a: -1,
            ..Options::default()
        };
        assert_eq!(
            Settings::from_options_waiting(Some(&negative)),
            Err(libc::EINVAL)
        );
        // Version 1 has no rates: whatever the fields hold is ignored.
        let v1 = Options {
            size: ZCOPY_OPTIONS_V1_SIZE,
            rate_a_to_b: -5,
            ..Options::default()
        };
        assert_eq!(Settings::from_options(Some(&v1)).unwrap().rate_a_to_b, 0);
        let both = Options {
            flags: ZCOPY_OPT_REFLINK_NEVER | ZCOPY_OPT_REFLINK_ALWAYS,
            ..Options::default()
        };
        assert_eq!(Settings::from_options(Some(&both)), Err(libc::EINVAL));
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
