//! The non-blocking splicer: splice(2) for event loops (epoll, libuv,
//! asyncio). One splicer per direction keeps a pooled pipe across calls, as
//! HAProxy keeps a pipe attached to a stream, so bytes taken from src are
//! never lost when dst is full: they wait in the pipe for the next step.
//!
//! A step never waits: it first pushes what the pipe holds into dst, then
//! takes from src (only into an empty pipe, so EAGAIN from src can only mean
//! "src has no data", never "pipe full"; mixing the two up is the classic
//! splice hang), and repeats until something would block.

use super::Held;
use crate::internal::pool::{self, Pipe};
use crate::sys::io::write_some;
use crate::sys::sigpipe::without_sigpipe;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_SPLICE};
use crate::sys::urgent::{self, Mark};

/// `wants`: wait until src is readable, then step again.
pub const ZCOPY_WANT_READ: i32 = 1;
/// `wants`: wait until dst is writable, then step again.
pub const ZCOPY_WANT_WRITE: i32 = 2;

/// At most this many bytes are taken from src in one step, so that one
/// busy pair cannot starve the rest of an event loop. A step that stops
/// for this returns error 0 with `wants` 0 and written > 0: step again.
pub const STEP_BUDGET: i64 = 16 << 20;

/// A non-blocking splice state machine for one direction of a stream.
#[derive(Debug)]
pub struct Splicer {
    /// Taken from src and not yet delivered: the pipe's bytes, or the one
    /// byte taken past a TCP urgent mark with recv(2) (splice cannot cross
    /// the mark). Never both: a take starts only once nothing is held.
    held: Held,
    /// The splicer's pipe while it is empty; while it holds bytes it is
    /// `held`'s. Exactly one of the two has it between steps.
    spare: Option<Pipe>,
    wants: i32,
    eof: bool,
}

/// A splicer made before fork() holds bytes in a pipe the parent shares:
/// stepping it in the child fails with this errno.
pub const INHERITED_WITH_DATA: i32 = libc::ESTALE;

impl Splicer {
    /// A splicer with a pipe from the pool, or the errno (EMFILE, ENFILE)
    /// when no pipe can be made.
    pub fn new() -> Result<Splicer, i32> {
        Ok(Splicer {
            held: Held::Nothing,
            spare: Some(pool::acquire()?),
            wants: 0,
            eof: false,
        })
    }

    /// Bytes taken from src and not yet delivered to dst.
    pub fn pending(&self) -> i64 {
        self.held.len() as i64
    }

    /// What the last step is waiting for: ZCOPY_WANT_READ, ZCOPY_WANT_WRITE,
    /// or 0.
    pub fn wants(&self) -> i32 {
        self.wants
    }

    /// True when the last step found src at end of stream with nothing
    /// pending.
    pub fn eof(&self) -> bool {
        self.eof && self.pending() == 0
    }

    /// Moves what it can without waiting; see the header for the contract.
    pub fn step(&mut self, dst: i32, src: i32, remain: i64) -> Transfer {
        // The last step waited for src: the event loop says it is readable
        // now, so another EAGAIN may be the urgent mark.
        let read_waited = self.wants == ZCOPY_WANT_READ;
        self.wants = 0;
        self.eof = false;
        if dst < 0 || src < 0 {
            return Transfer::done(ZCOPY_METHOD_SPLICE, 0, libc::EBADF);
        }
        if remain < 0 {
            return Transfer::done(ZCOPY_METHOD_SPLICE, 0, libc::EINVAL);
        }
        if remain == 0 && self.pending() == 0 {
            // Nothing to deliver and nothing to take: succeeds, as every
            // call with remain 0 does.
            return Transfer::done(ZCOPY_METHOD_SPLICE, 0, 0);
        }
        if self.pending() == 0 && crate::sys::disable::splice_off() {
            // The kill switch: as if splice(2) were missing; the caller
            // falls back to read/write with nothing taken.
            return Transfer::unhandled(ZCOPY_METHOD_SPLICE, libc::ENOSYS);
        }
        if let Err(e) = self.own_pipe() {
            return Transfer::done(ZCOPY_METHOD_SPLICE, 0, e);
        }
        without_sigpipe(|| {
            if self.pending() == 0 {
                if let Err(t) = self.check_dst(dst) {
                    return t;
                }
            }
            self.step_inner(dst, src, remain, read_waited)
        })
    }

    /// Asks the kernel whether dst takes splice from a pipe, before taking
    /// anything from src: a splice of the still-empty pipe into dst answers
    /// EAGAIN when dst is fine, and EINVAL (O_APPEND, no splice_write: a
    /// procfs file, /dev/full, an eventfd) or EBADF (closed, read-only)
    /// when bytes taken from src could never be delivered. One syscall, and
    /// no cached answer (fd numbers are reused).
    fn check_dst(&mut self, dst: i32) -> Result<(), Transfer> {
        let pipe = self
            .spare
            .as_mut()
            .expect("nothing held: the pipe is spare");
        match pipe.empty_into(dst, 1) {
            Ok(_) | Err(libc::EAGAIN) => Ok(()),
            // ENOSYS / EPERM: no splice in this kernel, or a seccomp filter
            // forbids it. Nothing taken: fall back.
            Err(e @ (libc::EINVAL | libc::ENOSYS | libc::EPERM)) => {
                Err(Transfer::unhandled(ZCOPY_METHOD_SPLICE, e))
            }
            Err(e) => Err(Transfer::done(ZCOPY_METHOD_SPLICE, 0, e)),
        }
    }

    /// After fork() in the child: swap an inherited empty pipe for a new
    /// one; refuse to touch one that holds bytes (the parent shares it).
    fn own_pipe(&mut self) -> Result<(), i32> {
        if !self.held.owned_by_this_process() {
            return Err(INHERITED_WITH_DATA);
        }
        match &self.spare {
            Some(p) if pool::owned_by_this_process(p) => return Ok(()),
            None if matches!(self.held, Held::Pipe(_)) => return Ok(()),
            _ => {}
        }
        if let Some(old) = self.spare.take() {
            pool::release(old);
        }
        self.spare = Some(pool::acquire()?);
        Ok(())
    }

    /// Delivers what is held: Ok once nothing is, Err(errno) when dst
    /// stopped it (EAGAIN: full), the rest still held. An emptied pipe
    /// becomes the spare again.
    fn push(&mut self, dst: i32, written: &mut i64) -> Result<(), i32> {
        // Invariant: `written` counts every byte that left `held` for dst.
        loop {
            match &mut self.held {
                Held::Nothing => return Ok(()),
                Held::Pipe(pipe) => {
                    match pipe.empty_into(dst, pipe.held()) {
                        // The pipe holds bytes, so 0 cannot happen.
                        Ok(0) => return Err(libc::EIO),
                        Ok(n) => *written += n as i64,
                        Err(e) => return Err(e),
                    }
                    if pipe.held() == 0 {
                        if let Held::Pipe(p) = self.held.take() {
                            self.spare = Some(p);
                        }
                    }
                }
                Held::Buffer { bytes, at } => {
                    let (n, r) = match write_some(dst, &bytes[*at..], false) {
                        Ok(n) if *at + n == bytes.len() => (n, Ok(())),
                        Ok(n) => (n, Err(libc::EAGAIN)),
                        Err((n, e)) => (n, Err(e)),
                    };
                    *at += n;
                    *written += n as i64;
                    r?;
                    self.held = Held::Nothing;
                }
            }
        }
    }

    fn step_inner(&mut self, dst: i32, src: i32, remain: i64, mut read_waited: bool) -> Transfer {
        let chunk = match (&self.spare, &self.held) {
            (Some(p), _) | (None, Held::Pipe(p)) => p.capacity().max(4096) as i64,
            _ => 4096,
        };
        let budget = remain.min(STEP_BUDGET);
        let mut written: i64 = 0;
        let mut taken: i64 = 0;
        let done = |written, e| Transfer::done(ZCOPY_METHOD_SPLICE, written, e);
        // Invariant at the head of each round: everything taken from src in
        // this step and before is either delivered (`written`) or `held`,
        // in stream order.
        loop {
            // Bytes already held go out first. A hard error leaves them
            // pending; the caller decides (free closes the pipe with them).
            match self.push(dst, &mut written) {
                Ok(()) => {}
                Err(libc::EAGAIN) => {
                    self.wants = ZCOPY_WANT_WRITE;
                    return done(written, libc::EAGAIN);
                }
                Err(e) => return done(written, e),
            }
            if taken >= budget {
                return done(written, 0);
            }
            // Nothing is held, so the pipe is the spare and empty: EAGAIN
            // can only mean src has no data, or (when poll said readable)
            // the urgent mark.
            let pipe = self
                .spare
                .as_mut()
                .expect("nothing held: the pipe is spare");
            let max = (budget - taken).min(chunk) as usize;
            let mark = match pipe.fill_from(src, max) {
                Ok(0) => urgent::step_over(src),
                Ok(n) => {
                    taken += n as i64;
                    read_waited = false;
                    self.held = Held::Pipe(self.spare.take().expect("just filled"));
                    continue;
                }
                Err(libc::EAGAIN) if read_waited && urgent::at_mark(src) => urgent::step_over(src),
                Err(libc::EAGAIN) => {
                    self.wants = ZCOPY_WANT_READ;
                    return done(written, libc::EAGAIN);
                }
                Err(e @ (libc::EINVAL | libc::ENOSYS | libc::EPERM)) if written == 0 => {
                    // The kernel cannot splice from src (or splice is
                    // missing or forbidden); nothing consumed.
                    return Transfer::unhandled(ZCOPY_METHOD_SPLICE, e);
                }
                Err(e) => return done(written, e),
            };
            read_waited = false;
            match mark {
                Mark::NotThere | Mark::Eof => {
                    self.eof = true;
                    return done(written, 0);
                }
                Mark::Byte(b) => {
                    self.held = Held::copy_of(&[b]);
                    taken += 1;
                }
                // Past the urgent byte, nothing after it yet: the next
                // splice answers EAGAIN (or blocks) as for any quiet src.
                Mark::Skipped => {}
                Mark::Failed(e) => return done(written, e),
            }
        }
    }
}

impl Drop for Splicer {
    /// The pipe goes back to the pool, which closes it if it holds bytes.
    fn drop(&mut self) {
        if let Some(p) = self.spare.take() {
            pool::release(p);
        }
        self.held.take().discard();
    }
}
