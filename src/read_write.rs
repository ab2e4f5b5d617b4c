//! The plain read(2)/write(2) loop: the fallback that serves any pair of
//! fds. EINTR from a system call is retried; EAGAIN on a non-blocking fd
//! waits with poll(2) through the call's Control (readable src, writable
//! dst) and goes on, so a stalled peer costs no CPU.

use crate::control::Control;
use crate::inflight;
use crate::outcome::Outcome;
use crate::pipe::Pipe;
use crate::sys::errno;
use crate::transfer::{Transfer, ZCOPY_METHOD_READ_WRITE};
use crate::wait::{wait_ready, Wait};
use std::cell::RefCell;

/// Size of the per-thread copy buffer (at least 128 KiB, as the dispatch
/// design asks; 256 KiB halves the syscalls for large copies).
pub const BUFFER_SIZE: usize = 256 * 1024;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's copy buffer (allocated once per thread).
pub(crate) fn with_buffer<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    let mut f = Some(f);
    let r = BUFFER.try_with(|b| {
        if let Ok(mut buf) = b.try_borrow_mut() {
            if buf.is_empty() {
                buf.resize(BUFFER_SIZE, 0);
            }
            return Some((f.take().unwrap())(&mut buf[..]));
        }
        None
    });
    match r {
        Ok(Some(r)) => r,
        // Nested use, or the thread is exiting: a buffer of its own.
        _ => (f.take().unwrap())(&mut vec![0u8; BUFFER_SIZE]),
    }
}

/// One read(2), retried on EINTR and waited on EAGAIN. Ok(0) is EOF.
pub(crate) fn read_some(ctl: &mut Control, fd: i32, buf: &mut [u8]) -> Result<usize, i32> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        match errno() {
            libc::EINTR => continue,
            libc::EAGAIN => wait_ready(ctl, fd, Wait::Read)?,
            e => return Err(e),
        }
    }
}

/// Writes all of `buf`. On error returns the bytes written before it.
pub(crate) fn write_all(ctl: &mut Control, fd: i32, buf: &[u8]) -> Result<(), (usize, i32)> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &buf[done..];
        // SAFETY: rest is valid for rest.len() bytes.
        let n = unsafe { libc::write(fd, rest.as_ptr() as *const libc::c_void, rest.len()) };
        if n > 0 {
            done += n as usize;
            ctl.progress();
            continue;
        }
        if n == 0 {
            // write(2) of a non-empty buffer returning 0: treat as no space.
            return Err((done, libc::ENOSPC));
        }
        match errno() {
            libc::EINTR => continue,
            libc::EAGAIN => {
                if let Err(e) = wait_ready(ctl, fd, Wait::Write) {
                    return Err((done, e));
                }
            }
            e => return Err((done, e)),
        }
    }
    Ok(())
}

/// Copies up to `remain` bytes (ZCOPY_ALL: until EOF) from `src` to `dst`
/// through a user-space buffer, using and advancing both file positions.
/// Bytes read but not written when dst fails are lost with the error (as
/// with any read/write loop); `written` says how far dst got.
pub fn copy(dst: i32, src: i32, remain: i64) -> Transfer {
    copy_loop(&mut Control::plain(), dst, src, remain).into_transfer(ZCOPY_METHOD_READ_WRITE)
}

/// The loop behind [`copy`]. It serves any pair, so it never falls back.
/// Bytes read but not written when a signal interrupts the write's wait
/// (EINTR), or dst is full under ZCOPY_OPT_NOWAIT, are kept for the next
/// call on the pair (see `inflight`).
pub(crate) fn copy_loop(ctl: &mut Control, dst: i32, src: i32, mut remain: i64) -> Outcome {
    let mut written: i64 = 0;
    with_buffer(|buf| {
        // Invariant: `written` bytes were read from src and reached dst.
        while remain > 0 {
            if let Err(e) = ctl.check() {
                return Outcome::Error(written, e);
            }
            let want = (remain as u64).min(buf.len() as u64) as usize;
            let n = match read_some(ctl, src, &mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Outcome::Error(written, e),
            };
            ctl.progress();
            if let Err((w, e)) = write_all(ctl, dst, &buf[..n]) {
                if ctl.resumable(e) {
                    inflight::park(dst, src, &buf[w..n], None);
                }
                return Outcome::Error(written + w as i64, e);
            }
            written += n as i64;
            remain -= n as i64;
        }
        Outcome::Ended(written)
    })
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
