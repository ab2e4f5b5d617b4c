//! One direction of a relay: src -> dst on non-blocking fds, never waiting.
//!
//! Two ways to take bytes (mode.rs decides which, per take): while
//! messages are small, read(2) into the thread's copy buffer and write(2)
//! what dst takes at once (the copy mode: cheaper than splice for a few
//! hundred bytes); once data arrives faster than it leaves, splice(2)
//! through a pooled pipe: src -> pipe -> dst. Bytes taken from src wait in
//! the pipe (or, copied, in a buffer of at most one chunk) while dst is
//! full, so nothing is lost across EAGAIN. Two rules keep that honest:
//! - held bytes go out before anything new is taken;
//! - src is only spliced into an EMPTY pipe, so EAGAIN from src means "no
//!   data", never "pipe full" (mixing those up is the classic splice hang).
//!
//! The pipe is borrowed when a splice take starts and given back to the pool at
//! the end of the step in which it became empty (the pool's per-thread
//! slot makes that a few atomic operations; within one step an emptied
//! pipe is reused for the next chunk), so a direction between steps holds
//! a pipe only while bytes are in flight: 10 000 idle relays hold no
//! pipes.
//!
//! Fallback: when the kernel cannot splice from src (EINVAL on a take
//! before any splice from it worked: a tty, an eventfd, a seqpacket socket)
//! or no pipe can be had (EMFILE, ENFILE), the take goes through the
//! thread's copy buffer with read(2)/write(2); what dst does not accept at
//! once is kept in a small buffer of the direction's own. When dst refuses
//! splice (EINVAL: O_APPEND, no splice_write), the bytes already in the
//! pipe are read back into that buffer and written with write(2): still
//! nothing lost.
//!
//! | piece | file |
//! | --- | --- |
//! | the types, the step and its loop, the end of a relay | mod.rs |
//! | delivering what is held (pipe, buffer), the rescue, drop | push.rs |
//! | when to copy and when to splice | mode.rs |
//! | the take (copy or splice), the urgent mark | take.rs |
//! | the read/write path, the half-close | buffered.rs |
//! | what a driver tells a step about its fds (ReadHints, socket I/O) | hints.rs |

use super::held::Held;
use crate::internal::pool::{self, Pipe};
use crate::stream::splicer::INHERITED_WITH_DATA;
use buffered::shutdown_wr;
pub use hints::ReadHints;
use mode::Mode;

mod buffered;
mod hints;
mod mode;
mod push;
mod take;

/// Most bytes one read(2) takes in the fallback path. What dst does not
/// take at once is copied into the direction's own buffer, so this bounds
/// what an idle-but-stuck fallback direction keeps.
const FALLBACK_CHUNK: usize = 64 * 1024;

/// What a blocked direction waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// src had no data (its read or splice returned EAGAIN).
    Read,
    /// dst was full (its write or splice returned EAGAIN); bytes are held.
    Write,
    /// The relay's rate limit holds this direction back until the time
    /// `Relay::throttled_until` says (set by the relay, never by a step).
    Time,
}

/// The outcome of one `Direction::step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Nothing more can move now; step again once the fd is ready.
    Blocked(Want),
    /// The step's budget was delivered and more may be ready.
    Budget,
    /// src reached EOF, everything taken was delivered and dst's write side
    /// is shut down. Final.
    Eof,
    /// A hard error: the errno and the fd of the failing system call.
    /// Final; bytes still held are discarded when the direction drops.
    Failed {
        /// The errno.
        error: i32,
        /// The fd the failing call was made on (src or dst).
        fd: i32,
    },
}

/// One way of a relay.
#[derive(Debug)]
pub struct Direction {
    src: i32,
    dst: i32,
    held: Held,
    /// An empty pipe kept between the rounds of one step (so a busy step
    /// does not go back to the pool for every chunk); always None between
    /// steps.
    spare: Option<Pipe>,
    /// False once the kernel refused splice for this pair.
    splice: bool,
    /// True once a splice from src worked: a later EINVAL is an error.
    spliced_src: bool,
    delivered: i64,
    /// Set once the direction reached Eof or Failed.
    end: Option<Flow>,
    /// What the last step stopped on, if it was an EAGAIN.
    blocked: Option<Want>,
    /// This step began because src was reported readable after an EAGAIN:
    /// if its first take meets EAGAIN again, src may sit at a TCP urgent
    /// mark (see urgent.rs), which poll reports as readable for ever.
    woken: bool,
    /// The driver waits with level-triggered poll(2): see `set_level`.
    level: bool,
    /// The last take was short (level mode), or was a read(2) shorter
    /// than asked (`ReadHints::short_is_final`): src is likely empty.
    drained: bool,
    /// What the driver says about src for the next steps (`set_hints`).
    hints: ReadHints,
    /// src and dst are sockets: recv(2)/send(2) in place of read/write.
    socket_io: bool,
    /// Copy or splice for the next take (mode.rs).
    mode: Mode,
    /// Most bytes one take may move (the relay's rate limit); usize::MAX
    /// when unlimited.
    cap: usize,
}

impl Direction {
    /// A direction from `src` to `dst`; makes no system call.
    pub fn new(src: i32, dst: i32) -> Direction {
        Direction {
            src,
            dst,
            held: Held::Nothing,
            spare: None,
            splice: true,
            spliced_src: false,
            delivered: 0,
            end: None,
            blocked: None,
            woken: false,
            level: false,
            drained: false,
            hints: ReadHints::default(),
            socket_io: false,
            mode: Mode::Copy,
            cap: usize::MAX,
        }
    }

    /// Caps every take of the next steps at `cap` bytes (a rate limit's
    /// allowance), or lifts the cap (usize::MAX).
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
    }

    /// Forgets what the last step was blocked on, so that the next step
    /// tries the fds again whatever readiness it is told (after the rate
    /// limit held the direction back, no event was asked for meanwhile).
    pub fn unblock(&mut self) {
        self.blocked = None;
    }

    /// A direction whose first bytes to deliver are `prefix` (bytes the
    /// caller already read from src: a request line, a PROXY header), held
    /// as if taken from src, so they go out before anything new is taken
    /// and count as delivered when they are.
    pub fn with_prefix(src: i32, dst: i32, prefix: Vec<u8>) -> Direction {
        let mut d = Direction::new(src, dst);
        if !prefix.is_empty() {
            d.held = Held::Buffer {
                bytes: prefix,
                at: 0,
            };
        }
        d
    }

    /// Bytes delivered to dst so far.
    pub fn delivered(&self) -> i64 {
        self.delivered
    }

    /// Bytes taken from src and not yet delivered.
    pub fn held(&self) -> i64 {
        match &self.held {
            Held::Nothing => 0,
            Held::Pipe(pipe) => pipe.held() as i64,
            Held::Buffer { bytes, at } => (bytes.len() - at) as i64,
        }
    }

    /// True while bytes wait in a pooled pipe.
    pub fn holds_pipe(&self) -> bool {
        matches!(self.held, Held::Pipe(_))
    }

    /// True while the direction is in Splice mode (data came faster than
    /// it left); false in the copy mode. In Splice mode a take still
    /// copies, 64 KiB at a time, while the pool's pipes are below 64 KiB
    /// (mode.rs).
    pub fn splicing(&self) -> bool {
        self.splice && self.mode != Mode::Copy
    }

    /// True once the direction reached Eof or Failed.
    pub fn ended(&self) -> bool {
        self.end.is_some()
    }

    /// What the last step was blocked on (its EAGAIN), if anything.
    pub fn blocked(&self) -> Option<Want> {
        self.blocked
    }

    /// Level mode, for a driver that waits with level-triggered poll(2):
    /// a take shorter than asked ends the step with Blocked(Read) once its
    /// bytes are out, instead of asking src again only to meet EAGAIN; if
    /// src does have more, the next poll returns at once. One system call
    /// less per idle wake-up, one poll more under a steady stream (where
    /// zcopy_relay measured it slower, so it leaves it off). Not for edge-triggered
    /// epoll: there a Blocked(Read) must come from an EAGAIN, or the edge
    /// that would wake it may never come.
    pub fn set_level(&mut self, on: bool) {
        self.level = on;
    }

    /// The destination fd.
    pub fn dst(&self) -> i32 {
        self.dst
    }

    /// Moves what it can, at most about `budget` bytes, without waiting.
    /// After Eof or Failed it returns the same again, with no system call.
    pub fn step(&mut self, budget: i64) -> Flow {
        self.step_told(budget, None)
    }

    /// `step`, told which fds poll/epoll reported ready since the last
    /// step (readable or hung up for src, writable or hung up for dst): a
    /// direction still blocked on an fd that is not ready returns Blocked
    /// again without a system call, where a step would only have met the
    /// same EAGAIN. Only a reported readiness lets the step recognise a
    /// TCP urgent mark (readable, yet EAGAIN), so an event loop should
    /// pass what it was told.
    pub fn step_ready(&mut self, budget: i64, src_ready: bool, dst_ready: bool) -> Flow {
        self.step_told(budget, Some((src_ready, dst_ready)))
    }

    /// `step` (None) or `step_ready` (Some((src_ready, dst_ready))).
    pub fn step_told(&mut self, budget: i64, ready: Option<(bool, bool)>) -> Flow {
        if let Some(end) = self.end {
            return end;
        }
        match (self.blocked, ready) {
            (Some(Want::Read), Some((false, _))) => return Flow::Blocked(Want::Read),
            (Some(Want::Write), Some((_, false))) => return Flow::Blocked(Want::Write),
            _ => {}
        }
        if let Held::Pipe(pipe) = &self.held {
            if !pool::owned_by_this_process(pipe) {
                // Made before fork(): the parent shares the pipe and its
                // bytes, and two processes splicing through one pipe mix
                // them. Never touch it (as the splicer's ESTALE).
                let f = Flow::Failed {
                    error: INHERITED_WITH_DATA,
                    fd: -1,
                };
                self.end = Some(f);
                return f;
            }
        }
        self.woken =
            (self.blocked == Some(Want::Read) && ready.is_some()) || self.hints.maybe_urgent;
        if !self.level {
            // A short read ends only the step it happened in: bytes held
            // from it (dst was full) may go out steps later, after new
            // data came and its readiness was seen, so a later step reads.
            self.drained = false;
        }
        let flow = self.run(self.delivered.saturating_add(budget));
        // An idle direction holds no pipe: the empty one goes back now.
        if let Some(p) = self.spare.take() {
            pool::release(p);
        }
        self.blocked = None;
        match flow {
            Flow::Eof | Flow::Failed { .. } => self.end = Some(flow),
            Flow::Blocked(w) => self.blocked = Some(w),
            Flow::Budget => {}
        }
        flow
    }

    fn run(&mut self, limit: i64) -> Flow {
        // Invariant at the head of each round: whatever is held goes out
        // first, and nothing is taken while anything is held.
        loop {
            if let Err(flow) = self.push() {
                return flow;
            }
            if std::mem::take(&mut self.drained) {
                // Level-triggered: poll will say so if src has more; or a
                // short read(2) the driver trusts (ReadHints): an edge
                // will say so.
                return Flow::Blocked(Want::Read);
            }
            if self.delivered >= limit {
                return Flow::Budget;
            }
            match self.take() {
                Ok(true) => {}
                Ok(false) => return self.at_eof(),
                Err(flow) => return flow,
            }
        }
    }

    /// The end of a relay (close-both, or an error on the other side): one
    /// non-blocking push of what is held (no take), errors ignored; what
    /// does not fit stays held and is discarded on drop.
    pub fn last_push(&mut self) {
        if self.end.is_none() {
            let _ = self.push();
        }
        if let Some(p) = self.spare.take() {
            pool::release(p);
        }
    }

    /// Close-both: shuts down dst's write side (once), errors ignored.
    pub fn shut_dst(&mut self) {
        if self.end != Some(Flow::Eof) {
            let _ = shutdown_wr(self.dst);
            self.end = Some(Flow::Eof);
        }
    }
}
