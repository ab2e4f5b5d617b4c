//! The pooled loop between two non-pipes (Go's Splice): drain src into a
//! pipe from the pool, pump the pipe into dst, chunk by chunk.
use crate::call::control::{now_ns, Control};
use crate::call::deliver::{deliver_byte, deliver_held, pump_some};
use crate::call::outcome::Outcome;
use crate::call::wait::{wait_ready_since, Wait};
use crate::internal::pool::{self, Pipe};
use crate::stream::Held;
use crate::sys::urgent::{self, Mark};

/// What one drain gave.
enum Drained {
    /// Bytes are in the pipe now (it counts them).
    Filled,
    /// src is at end of stream.
    Eof,
    /// One byte taken past a TCP urgent mark, not in the pipe: deliver it.
    Urgent(u8),
}

/// Moves src into the (empty) pipe: at most `max` bytes. EAGAIN here can
/// only mean src has no data yet (the pipe starts empty), so wait for src;
/// an EAGAIN right after poll said readable, or a 0, may be the urgent mark.
fn drain(ctl: &mut Control, pipe: &mut Pipe, src: i32, max: usize) -> Result<Drained, i32> {
    let mut waited = false;
    loop {
        // A blocking src waits in the kernel (SO_RCVTIMEO included): the
        // wait after its EAGAIN counts from here.
        let t0 = now_ns();
        let mark = match pipe.fill_from(src, max) {
            Ok(0) => urgent::step_over(src),
            Ok(_) => return Ok(Drained::Filled),
            // (Under NOWAIT there is no wait: look at once, or a caller
            // polling for readable would spin on the mark.)
            Err(libc::EAGAIN) if (waited || ctl.nowait()) && urgent::at_mark(src) => {
                urgent::step_over(src)
            }
            Err(libc::EAGAIN) => {
                wait_ready_since(ctl, src, Wait::Read, t0)?;
                waited = true;
                continue;
            }
            Err(e) => return Err(e),
        };
        match mark {
            Mark::NotThere | Mark::Eof => return Ok(Drained::Eof),
            Mark::Byte(b) => return Ok(Drained::Urgent(b)),
            Mark::Failed(e) => return Err(e),
            // Stepped over the urgent byte, nothing after it yet.
            Mark::Skipped => waited = false,
        }
    }
}

/// Go's Splice: src -> pooled pipe -> dst, chunk by chunk. No pipe to be
/// had, or EINVAL on the first drain (the kernel cannot splice from src), is
/// a fallback with nothing consumed. Bytes taken and not delivered when
/// it stops are left in `held` for the caller.
pub(crate) fn through_pool(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    mut remain: i64,
    held: &mut Held,
) -> Outcome {
    let mut pipe = match pool::acquire() {
        Ok(p) => p,
        Err(e) => return Outcome::Fallback(0, e),
    };
    let chunk = pipe.capacity().max(4096) as i64;
    let mut written: i64 = 0;
    // Invariant at the head of each round: the pipe is empty, and `written`
    // bytes have left src and reached dst.
    let outcome = loop {
        if let Some(stop) = Outcome::before_round(ctl, remain, written) {
            break stop;
        }
        match drain(ctl, &mut pipe, src, remain.min(chunk) as usize) {
            Ok(Drained::Eof) => break Outcome::Ended(written),
            Ok(Drained::Filled) => ctl.progress(),
            Ok(Drained::Urgent(b)) => {
                // The pipe is empty, so this byte's turn is now.
                if let Err(e) = deliver_byte(ctl, dst, b, held) {
                    break Outcome::Error(written, e);
                }
                written += 1;
                remain -= 1;
                continue;
            }
            Err(e @ (libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::EXDEV)) => {
                // src does not take splice (or splice is gone): nothing of
                // this round was taken, the next mechanism continues.
                break Outcome::Fallback(written, e);
            }
            // EPERM before any progress: a seccomp filter forbids splice.
            Err(libc::EPERM) if written == 0 => break Outcome::Fallback(0, libc::EPERM),
            Err(e) => break Outcome::Error(written, e),
        }
        let in_pipe = pipe.held();
        let (moved, e) = pump_some(ctl, &mut pipe, dst, in_pipe);
        written += moved as i64;
        remain -= moved as i64;
        if e == libc::EINVAL {
            // dst does not take splice (no splice_write, an O_APPEND file
            // opened since the check): the drained bytes must still arrive,
            // so that a caller falling back to read/write leaves no hole.
            return rescue(ctl, pipe, dst, written, held);
        }
        if e != 0 {
            // The bytes still in the pipe go to the caller, who keeps them
            // for the next call when this one may be resumed (a signal
            // while dst was full, dst full under ZCOPY_OPT_NOWAIT).
            *held = Held::pipe(pipe);
            return Outcome::Error(written, e);
        }
    };
    // Every round ends with the pipe empty: back to the pool.
    pool::release(pipe);
    outcome
}

/// dst refused splice after src was drained into `pipe`: its bytes read
/// back out and written with write(2). Delivered: a fallback (the next
/// mechanism continues); stopped by an error: what is left goes to the
/// caller in `held`.
fn rescue(ctl: &mut Control, pipe: Pipe, dst: i32, written: i64, held: &mut Held) -> Outcome {
    let mut rest = match Held::pipe(pipe).into_buffer() {
        Ok(h) => h,
        Err(e) => return Outcome::Error(written, e),
    };
    let (moved, e) = deliver_held(ctl, &mut rest, dst, usize::MAX);
    let written = written + moved as i64;
    *held = rest;
    match e {
        0 => Outcome::Fallback(written, libc::EINVAL),
        e => Outcome::Error(written, e),
    }
}
