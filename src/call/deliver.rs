//! Delivering bytes to dst while waiting through the call's `Control`:
//! the waiting wrappers over `sys::io`'s primitives that every mechanism
//! and the resume of parked bytes share.

use super::control::{now_ns, Control};
use super::inflight;
use super::wait::{kernel_timed_out, wait_ready, wait_ready_since, Wait};
use crate::internal::pool::Pipe;
use crate::sys::io::{read_once, with_buffer, write_some};

/// One read(2), EINTR retried and EAGAIN waited out. Ok(0) is EOF.
pub(crate) fn read_some(ctl: &mut Control, fd: i32, buf: &mut [u8]) -> Result<usize, i32> {
    loop {
        match read_once(fd, buf) {
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
        let w = write_some(fd, &buf[done..]).map_err(|(w, e)| (done + w, e))?;
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

/// Delivers the bytes a pipe holds to dst with read/write: the rescue for
/// a splice whose dst turned out not to accept splice after src had
/// already been drained, so nothing taken from src is lost. Returns the
/// bytes delivered, the error that stopped it (0), and the bytes read out
/// of the pipe but not written when it stopped.
pub(crate) fn deliver_from_pipe(
    ctl: &mut Control,
    pipe: &mut Pipe,
    dst: i32,
) -> (usize, i32, Vec<u8>) {
    with_buffer(|buf| {
        let mut moved = 0;
        // Invariant: `moved` bytes left the pipe and reached dst.
        while pipe.held() > 0 {
            let n = match pipe.read_into(buf) {
                Ok(0) | Err(libc::EAGAIN) => return (moved, libc::EIO, Vec::new()),
                Ok(n) => n,
                Err(e) => return (moved, e, Vec::new()),
            };
            if let Err((w, e)) = write_all(ctl, dst, &buf[..n]) {
                return (moved + w, e, buf[w..n].to_vec());
            }
            moved += n;
        }
        (moved, 0, Vec::new())
    })
}

/// Writes the byte taken past an urgent mark to dst; kept for the next call
/// when a signal interrupts the wait (EINTR) or dst is full under
/// ZCOPY_OPT_NOWAIT.
pub(crate) fn deliver_byte(ctl: &mut Control, dst: i32, src: i32, b: u8) -> Result<(), i32> {
    match write_all(ctl, dst, &[b]) {
        Ok(()) => Ok(()),
        Err((_, e)) if ctl.resumable(e) => {
            inflight::park(dst, src, &[b], None);
            Err(e)
        }
        Err((_, e)) => Err(e),
    }
}
