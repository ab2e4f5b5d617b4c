//! The two-way relay: a -> b and b -> a at once, as every proxy needs,
//! zero-copy where the kernel allows it.
//!
//! Two layers, so that the blocking call and the epoll engine share one
//! state machine:
//! - [`Direction`] (relay/direction/): one way of the stream, never
//!   waits, keeps bytes it took across EAGAIN.
//! - [`Relay`] (here): both directions of one pair of fds and the rules
//!   that join them (half-close, close-both, a hard error ends both).
//!   `Relay::step` moves what it can and says what to wait for.
//! - relay/call.rs drives one `Relay` with poll(2) in the calling thread
//!   (zcopy_relay); relay/resume.rs keeps it across an EINTR return.
//!
//! Semantics (decided here, documented in the header):
//! - Half-close, as tokio's copy_bidirectional: a direction whose source
//!   reaches EOF, with everything delivered, shuts down its destination's
//!   write side (SHUT_WR; nothing for a non-socket) and the other direction
//!   goes on. The relay is done when both are.
//! - A hard error in either direction ends both at once; `error_fd` is the
//!   fd the failing system call was made on. Bytes held for the side that
//!   did not fail get one non-blocking push (no wait); what does not fit
//!   is discarded with its pipe (closed, never pooled).
//! - A hard error is also one the kernel reports on an fd that no direction
//!   is using at the moment (a reset on the client while the relay waits
//!   only for a stalled upstream): the drivers always watch both fds for
//!   POLLERR / POLLHUP, and the step reads the socket's pending error
//!   (SO_ERROR) and ends both directions with it at once.
//! - A hang-up (POLLHUP without an error: the peer of a unix socket closed,
//!   or both halves of a TCP socket are shut) means nothing more can be
//!   written to that fd. The direction reading it still delivers what it
//!   took and what is left to read (nothing is lost, as at a half-close);
//!   once it has (its EOF), the direction that writes to that fd can never
//!   deliver again, and the relay ends with EPIPE on that fd at once,
//!   instead of waiting for the other side.
//! - ZCOPY_OPT_CLOSE_BOTH: at the first EOF the other direction stops
//!   taking; what it already holds gets one non-blocking push (no wait),
//!   both write sides are shut down and the relay ends with error 0. Bytes
//!   that did not fit are discarded and not counted (the counts are what
//!   was delivered). Errors of that last push and of the shutdowns are
//!   ignored: the peer that closed first may well be gone.
//! - No byte taken from a source is lost unless its destination failed,
//!   the relay was abandoned (timeout, cancel) or close-both ended it.

mod call;
mod pair;
mod progress;
mod rate;
mod resume;

pub use crate::stream::{Direction, Flow, ReadHints, Want};
pub use call::{relay, relay_prefixed};
pub(crate) use pair::{check_pair, Identity};
pub use progress::{Interest, Progress, RelayResult};
pub(crate) use resume::discard as discard_kept;

use crate::call::control::Control;
use rate::Bucket;

/// Most bytes one direction delivers in one `Relay::step`, so that a busy
/// direction cannot starve the other one or the rest of an event loop.
pub const RELAY_STEP_BUDGET: i64 = 4 << 20;

// An event loop moves relays between its threads.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Relay>();
};

/// Both directions of one pair of fds.
///
/// Invariants:
/// - Each direction holds a pipe (or a fallback buffer) only while it has
///   bytes in flight, so an idle relay holds no fd and no buffer.
/// - Once `result` is set, no system call is made on the fds again.
///
/// The fds must be non-blocking (a blocking fd would block the step), and
/// SIGPIPE must be blocked or ignored in the stepping thread (splice(2) to
/// a socket whose peer is gone raises it). The fds are never closed here.
#[derive(Debug)]
pub struct Relay {
    a: i32,
    b: i32,
    ab: Direction,
    ba: Direction,
    close_both: bool,
    result: Option<RelayResult>,
    /// Rate limits a -> b (0) and b -> a (1), if any.
    buckets: [Option<Bucket>; 2],
    /// After a Wait: when a direction held back by its rate limit may go
    /// on (monotonic ns).
    throttled_until: Option<i64>,
    /// a (0) or b (1) reported POLLHUP, or a POLLERR with no error to
    /// read: a driver leaves such an fd out of its poll set while no
    /// direction waits on it, or its sticky event would wake it for ever.
    hung: [bool; 2],
}

impl Relay {
    /// A relay between `a` and `b`; nothing is checked or allocated yet
    /// (the first step finds out what the fds are). `close_both`:
    /// ZCOPY_OPT_CLOSE_BOTH.
    pub fn new(a: i32, b: i32, close_both: bool) -> Relay {
        Relay {
            a,
            b,
            ab: Direction::new(a, b),
            ba: Direction::new(b, a),
            close_both,
            result: None,
            hung: [false; 2],
            buckets: [None, None],
            throttled_until: None,
        }
    }

    /// `new`, with bytes to deliver first in each direction (`a_to_b` to
    /// b, `b_to_a` to a): what the caller already read from a source before
    /// it handed the pair over. They count in that direction's total.
    pub fn with_prefixes(
        a: i32,
        b: i32,
        close_both: bool,
        a_to_b: Vec<u8>,
        b_to_a: Vec<u8>,
    ) -> Relay {
        let mut r = Relay::new(a, b, close_both);
        r.ab = Direction::with_prefix(a, b, a_to_b);
        r.ba = Direction::with_prefix(b, a, b_to_a);
        r
    }

    /// The two fds, as given to `new`.
    pub fn fds(&self) -> (i32, i32) {
        (self.a, self.b)
    }

    /// Bytes delivered so far: (a to b, b to a).
    pub fn counts(&self) -> (i64, i64) {
        (self.ab.delivered(), self.ba.delivered())
    }

    /// Bytes taken from a source and not yet delivered, both directions.
    pub fn held(&self) -> i64 {
        self.ab.held() + self.ba.held()
    }

    /// Pool pipes held now (a direction holds one only while bytes are in
    /// flight in it).
    pub fn pipes(&self) -> u64 {
        self.ab.holds_pipe() as u64 + self.ba.holds_pipe() as u64
    }

    /// Changes the close-both rule (a resumed call may ask differently).
    pub fn set_close_both(&mut self, on: bool) {
        self.close_both = on;
    }

    /// Level mode for both directions (see `Direction::set_level`): only
    /// for a driver that waits with level-triggered poll(2).
    pub fn set_level_triggered(&mut self, on: bool) {
        self.ab.set_level(on);
        self.ba.set_level(on);
    }

    /// What the driver knows about each source for the next steps (see
    /// `ReadHints`): `a` for the direction reading a, `b` for the one
    /// reading b.
    pub fn set_read_hints(&mut self, a: ReadHints, b: ReadHints) {
        self.ab.set_hints(a);
        self.ba.set_hints(b);
    }

    /// Both fds are sockets: recv/send in place of read/write (see
    /// `Direction::set_socket_io`).
    pub fn set_socket_io(&mut self, on: bool) {
        self.ab.set_socket_io(on);
        self.ba.set_socket_io(on);
    }

    /// Moves what it can in both directions without waiting, and says what
    /// next. Calls `control.progress()` when any byte moved (the idle clock
    /// counts both directions); never looks at the cancel fd or deadline:
    /// that is the driver's job (`Control::check` / `Control::wait`).
    pub fn step(&mut self, control: &mut Control) -> Progress {
        self.step_inner(control, None)
    }

    /// `step`, told which events fired since the last step (poll's
    /// `revents` or epoll's events per fd; POLLERR and POLLHUP count as
    /// ready both ways). A direction still blocked on an fd with no event
    /// is not touched, which saves the system call that would only meet
    /// the same EAGAIN again; and a direction whose src was reported
    /// readable but answers EAGAIN is checked for a TCP urgent mark (which
    /// a plain `step` cannot tell from a spurious wake-up). Call `step`
    /// when nothing was reported (after Busy): a spurious "ready" costs one
    /// EAGAIN, a missing one a stall.
    pub fn step_ready(&mut self, control: &mut Control, ready: Interest) -> Progress {
        self.step_inner(control, Some(ready))
    }

    fn step_inner(&mut self, control: &mut Control, ready: Option<Interest>) -> Progress {
        if let Some(r) = self.result {
            return Progress::Done(r);
        }
        let hup = libc::POLLERR | libc::POLLHUP;
        let readable = |ev: i16| ev & (libc::POLLIN | hup) != 0;
        let writable = |ev: i16| ev & (libc::POLLOUT | hup) != 0;
        // (src ready, dst ready) of each direction, when events were told.
        let ab_ready = ready.map(|r| (readable(r.a), writable(r.b)));
        let ba_ready = ready.map(|r| (readable(r.b), writable(r.a)));
        let before = self.counts();
        if let Some(r) = ready {
            // An error the kernel reported on either fd ends the relay now,
            // whichever direction waits for what: a reset on a side no
            // direction is using would otherwise wait for the other side.
            for (i, fd, ev) in [(0, self.a, r.a), (1, self.b, r.b)] {
                if ev & libc::POLLERR != 0 {
                    match progress::pending_error(fd) {
                        Some(e) => return self.fail(e, fd, before, control),
                        // Only the error queue (timestamps): not ours.
                        None => self.hung[i] = true,
                    }
                }
                if ev & libc::POLLHUP != 0 {
                    self.hung[i] = true;
                }
            }
        }
        self.throttled_until = None;
        let now = self
            .buckets
            .iter()
            .any(Option::is_some)
            .then(crate::call::control::now_ns);
        let ab = self.step_limited(0, now, ab_ready);
        // A hard error ends both at once: the other direction is not run.
        let ba = match ab {
            Flow::Failed { .. } => ab,
            _ => self.step_limited(1, now, ba_ready),
        };
        if self.counts() != before {
            control.progress();
        }
        // Decision table, first match wins:
        //   either Failed                    -> Done(error, fd)
        //   close_both, either Eof           -> flush the other once, shut both, Done(0)
        //   both Eof                         -> Done(0)
        //   an fd hung up, its reader at Eof,
        //     its writer not done            -> Done(EPIPE, that fd)
        //   either Budget                    -> Busy
        //   otherwise                        -> Wait(what each Blocked wants)
        let dead_end = self.dead_end(ab, ba);
        match (ab, ba) {
            (Flow::Failed { error, fd }, _) | (_, Flow::Failed { error, fd }) => {
                self.fail(error, fd, before, control)
            }
            (Flow::Eof, Flow::Eof) => self.finish(0, -1),
            (Flow::Eof, _) | (_, Flow::Eof) if self.close_both => {
                self.ab.last_push();
                self.ba.last_push();
                if self.counts() != before {
                    control.progress();
                }
                self.ab.shut_dst();
                self.ba.shut_dst();
                self.finish(0, -1)
            }
            _ if dead_end.is_some() => {
                let fd = dead_end.unwrap_or(-1);
                self.fail(libc::EPIPE, fd, before, control)
            }
            (Flow::Budget, _) | (_, Flow::Budget) => Progress::Busy,
            _ => {
                let mut i = Interest::default();
                // ab reads a and writes b; ba reads b and writes a.
                match ab {
                    Flow::Blocked(Want::Read) => i.a |= libc::POLLIN,
                    Flow::Blocked(Want::Write) => i.b |= libc::POLLOUT,
                    _ => {}
                }
                match ba {
                    Flow::Blocked(Want::Read) => i.b |= libc::POLLIN,
                    Flow::Blocked(Want::Write) => i.a |= libc::POLLOUT,
                    _ => {}
                }
                Progress::Wait(i)
            }
        }
    }

    /// The fd that hung up once everything read from it was delivered,
    /// while the direction writing to it is not done: that direction can
    /// never deliver again (EPIPE), so waiting for its source is pointless.
    fn dead_end(&self, ab: Flow, ba: Flow) -> Option<i32> {
        // ab reads a and writes b; ba reads b and writes a.
        if self.hung[0] && ab == Flow::Eof && !self.ba.ended() {
            return Some(self.a);
        }
        if self.hung[1] && ba == Flow::Eof && !self.ab.ended() {
            return Some(self.b);
        }
        None
    }

    /// A hard error on `fd` ends both directions: bytes held for the side
    /// that did not fail get one non-blocking push (they were taken, and
    /// their destination is fine); the rest is discarded.
    fn fail(&mut self, error: i32, fd: i32, before: (i64, i64), control: &mut Control) -> Progress {
        for d in [&mut self.ab, &mut self.ba] {
            if d.dst() != fd {
                d.last_push();
            }
        }
        if self.counts() != before {
            control.progress();
        }
        self.finish(error, fd)
    }

    /// Ends the relay for good; the counts are since `new`.
    fn finish(&mut self, error: i32, fd: i32) -> Progress {
        let (a_to_b, b_to_a) = self.counts();
        let r = RelayResult {
            a_to_b,
            b_to_a,
            error,
            error_fd: fd,
        };
        self.result = Some(r);
        Progress::Done(r)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hints;
