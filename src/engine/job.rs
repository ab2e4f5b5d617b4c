//! What a worker drives: a `Job` is one relay seen from the event loop.
//! The worker only knows which of the relay's fds became ready, and asks the
//! job to step; the relay logic (directions, half-close, errors) is the
//! relay module's, behind `RelayJob` (src/engine/relay_job.rs).

pub use crate::relay::RelayResult;

/// Readiness bits a worker hands to a step: which fd reported what since
/// the last step. A hang-up or error counts as both readable and writable,
/// so the step that follows meets the condition in its own system calls.
pub(crate) type Ready = u8;
/// a_fd became readable (or hung up / failed).
pub(crate) const A_IN: Ready = 1;
/// a_fd became writable (or failed).
pub(crate) const A_OUT: Ready = 2;
/// b_fd became readable (or hung up / failed).
pub(crate) const B_IN: Ready = 4;
/// b_fd became writable (or failed).
pub(crate) const B_OUT: Ready = 8;
/// a_fd reported EPOLLERR (an error may be pending: the step reads it).
pub(crate) const A_ERR: Ready = 16;
/// a_fd reported EPOLLHUP.
pub(crate) const A_HUP: Ready = 32;
/// b_fd reported EPOLLERR.
pub(crate) const B_ERR: Ready = 64;
/// b_fd reported EPOLLHUP.
pub(crate) const B_HUP: Ready = 128;
/// Every readiness bit: the first step after adoption, when nothing is
/// known yet (no error or hang-up bit: those only come from the kernel).
pub(crate) const ALL: Ready = A_IN | A_OUT | B_IN | B_OUT;

/// The outcome of one step, as the worker acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Every direction is waiting for the kernel: the fds become ready for
    /// what `interest` says, and the job is stepped again.
    Wait,
    /// The step stopped for its budget with work left: the worker steps it
    /// again on its next turn, before waiting.
    Again,
    /// The relay is over; the job is dropped and `done` gets the result.
    Done(RelayResult),
}

/// One relay as a worker drives it. `Send`: it is built in the thread that
/// calls `add` and moved to a worker.
pub trait Job: Send {
    /// The two fds, as registered in the worker's epoll set.
    fn fds(&self) -> (i32, i32);
    /// Moves what can be moved without waiting. `ready` says which fds had
    /// an event since the last step (a hint: a step may look at more).
    fn step(&mut self, ready: Ready) -> Step;
    /// Ends the relay early (cancel fd, idle timeout, engine stopping, an
    /// epoll error) and gives its result with `error` and `error_fd`; the
    /// fds get their flags back, bytes in flight are dropped.
    fn finish(self: Box<Self>, error: i32, error_fd: i32) -> RelayResult;
    /// What each fd waits for after the last step that said Wait (poll
    /// bits for a_fd, b_fd), as the worker's epoll registration should be.
    fn interest(&self) -> (i16, i16);
    /// Bytes delivered so far, both directions.
    fn bytes(&self) -> u64;
    /// After a step that said Wait: when the job must be stepped again
    /// even with no event (a rate limit holds a direction back).
    fn throttled_until(&self) -> Option<i64> {
        None
    }
    /// Bytes delivered so far: (a to b, b to a).
    fn counts(&self) -> (i64, i64) {
        (self.bytes() as i64, 0)
    }
    /// Pool pipes held now.
    fn pipes(&self) -> u64;
}

/// Maps one epoll event of fd `a` (side 0) or `b` (side 1) to ready bits.
/// An error or hang-up also keeps its own bit, so that the relay can end
/// at once on a reset of an fd no direction is waiting for.
pub fn ready_bits(side: u64, events: u32) -> Ready {
    let (rd, wr, err, hup) = if side == 0 {
        (A_IN, A_OUT, A_ERR, A_HUP)
    } else {
        (B_IN, B_OUT, B_ERR, B_HUP)
    };
    let failed = events & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0;
    let mut r = 0;
    if failed || events & (libc::EPOLLIN | libc::EPOLLRDHUP) as u32 != 0 {
        r |= rd;
    }
    if failed || events & libc::EPOLLOUT as u32 != 0 {
        r |= wr;
    }
    if events & libc::EPOLLERR as u32 != 0 {
        r |= err;
    }
    if events & libc::EPOLLHUP as u32 != 0 {
        r |= hup;
    }
    r
}
