//! What a relay step reports: the result of a finished relay, what to
//! wait for, and the error a hung-up fd holds.

/// What a relay did: the bytes each way and why it ended.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayResult {
    /// Bytes delivered from a_fd to b_fd.
    pub a_to_b: i64,
    /// Bytes delivered from b_fd to a_fd.
    pub b_to_a: i64,
    /// 0: both directions reached EOF (or close-both ended the relay);
    /// else the errno that ended it.
    pub error: i32,
    /// The fd the error came from (a_fd or b_fd), or -1.
    pub error_fd: i32,
}

const _: () = assert!(std::mem::size_of::<RelayResult>() == 24);

impl RelayResult {
    /// A relay that ended with `error` on `fd` before moving anything.
    pub fn failed(error: i32, fd: i32) -> RelayResult {
        RelayResult {
            error,
            error_fd: fd,
            ..RelayResult::default()
        }
    }
}

/// Which poll(2) events each fd needs before the next step can move
/// anything: POLLIN, POLLOUT, both, or 0 (nothing to wait for on that fd;
/// leave it out of the poll set, or its POLLHUP would wake the loop for
/// nothing).
///
/// Every bit comes from an EAGAIN of that very fd in the last step (unless
/// `Relay::set_level_triggered` asked otherwise), so an edge-triggered
/// epoll registration is enough.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interest {
    /// Events for a_fd.
    pub a: i16,
    /// Events for b_fd.
    pub b: i16,
}

/// The outcome of one `Relay::step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing can move now: wait for these events, then step again.
    Wait(Interest),
    /// A direction spent its budget with more to move: step again soon
    /// (an event loop serves its other relays first; no event will come
    /// for what is already readable).
    Busy,
    /// The relay is over (every later step returns the same). The counts
    /// are since the relay was made.
    Done(RelayResult),
}

/// The error pending on a socket that reported POLLERR (read, and so
/// cleared, with SO_ERROR), or EPIPE for a non-socket (a pipe whose reader
/// is gone); None when a socket has no error (POLLERR for its error queue
/// only: timestamps, zero-copy notices).
pub(super) fn pending_error(fd: i32) -> Option<i32> {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: err and len are valid for the call and sized as it expects.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    match (r, err) {
        (0, 0) => None,
        (0, e) => Some(e),
        _ if crate::sys::errno() == libc::ENOTSOCK => Some(libc::EPIPE),
        _ => Some(crate::sys::errno()),
    }
}
