//! Delivering bytes to dst while waiting through the call's `Control`:
//! the waiting wrappers over `sys::io`'s primitives that every mechanism
//! and the resume of parked bytes share.

use super::control::{now_ns, Control};
use super::wait::{kernel_timed_out, wait_ready, wait_ready_since, Wait};
use crate::internal::pool::Pipe;
use crate::stream::Held;
use crate::sys::io::{read_once, write_some};

/// One read(2), EINTR retried and EAGAIN waited out. Ok(0) is EOF.
pub(crate) fn read_some(ctl: &mut Control, fd: i32, buf: &mut [u8]) -> Result<usize, i32> {
    loop {
        match read_once(fd, buf, false) {
            Err(libc::EAGAIN) => wait_ready(ctl, fd, Wait::Read)?,
            r => return r,
        }
    }
}

/// Writes all of `buf`, waiting while dst is full. On error returns the
/// bytes written before it.
pub(crate) fn write_all(ctl: &mut Control, fd: i32, buf: &[u8]) -> Result<(), (usize, i32)> {
    let mut done = 0;
    // Invariant: buf[..done] reached fd.
    loop {
        let w = write_some(fd, &buf[done..], false).map_err(|(w, e)| (done + w, e))?;
        done += w;
        if w > 0 {
            ctl.progress();
        }
        if done == buf.len() {
            return Ok(());
        }
        wait_ready(ctl, fd, Wait::Write).map_err(|e| (done, e))?;
    }
}

/// Moves at most `max` of the bytes the pipe holds to dst. EAGAIN means
/// dst is full: wait until it is writable. Returns the bytes moved, and the
/// error that stopped it early (the rest stays counted in the pipe).
pub(crate) fn pump_some(ctl: &mut Control, pipe: &mut Pipe, dst: i32, max: usize) -> (usize, i32) {
    let mut moved = 0;
    // Invariant: `moved` bytes left the pipe and reached dst.
    while moved < max && pipe.held() > 0 {
        let want = (max - moved).min(pipe.held());
        // A blocking dst may wait in the kernel (SO_SNDTIMEO included).
        let t0 = now_ns();
        match pipe.empty_into(dst, want) {
            // The pipe holds bytes, so 0 cannot happen; guard anyway.
            Ok(0) => return (moved, libc::EIO),
            Ok(n) => {
                moved += n;
                ctl.progress();
                if n < want && kernel_timed_out(dst, t0) {
                    return (moved, libc::EAGAIN);
                }
            }
            Err(libc::EAGAIN) => {
                if let Err(e) = wait_ready_since(ctl, dst, Wait::Write, t0) {
                    return (moved, e);
                }
            }
            Err(e) => return (moved, e),
        }
    }
    (moved, 0)
}

/// Delivers at most `max` of what `held` holds to dst, waiting while dst
/// is full: the pipe's bytes with splice(2), a buffer's with write(2).
/// Returns the bytes delivered and the error that stopped it early (0);
/// what is left stays in `held` (Nothing once all of it went out).
pub(crate) fn deliver_held(
    ctl: &mut Control,
    held: &mut Held,
    dst: i32,
    max: usize,
) -> (usize, i32) {
    let (moved, e) = match held {
        Held::Nothing => (0, 0),
        Held::Pipe(pipe) => pump_some(ctl, pipe, dst, max),
        Held::Buffer { bytes, at } => {
            let n = (bytes.len() - *at).min(max);
            let (w, e) = match write_all(ctl, dst, &bytes[*at..*at + n]) {
                Ok(()) => (n, 0),
                Err(we) => we,
            };
            *at += w;
            (w, e)
        }
    };
    if held.is_empty() {
        // An emptied pipe goes back to the pool.
        held.take().discard();
    }
    (moved, e)
}

/// Writes the byte taken past an urgent mark to dst; on an error the byte
/// is left in `held` for the call runner (kept for the next call when a
/// signal interrupted the wait, or dst was full under ZCOPY_OPT_NOWAIT).
pub(crate) fn deliver_byte(ctl: &mut Control, dst: i32, b: u8, held: &mut Held) -> Result<(), i32> {
    write_all(ctl, dst, &[b]).map_err(|(_, e)| {
        *held = Held::copy_of(&[b]);
        e
    })
}
