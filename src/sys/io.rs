//! The I/O primitives every layer above shares, none of which waits: the
//! thread's copy buffer, one read(2) and the one write loop. A waiting
//! caller (`call::deliver`) wraps these with poll(2); a stepping one
//! (the relay's direction, the splicer) stops at EAGAIN and says what it
//! waits for.

use super::errno;
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

/// One read(2), EINTR retried: Ok(bytes; 0 is EOF) or Err(errno), EAGAIN
/// included. `socket`: recv(2) instead, the same on a socket without the
/// VFS layer's per-call work (the caller knows the fd is one).
pub(crate) fn read_once(fd: i32, buf: &mut [u8], socket: bool) -> Result<usize, i32> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe {
            match socket {
                true => libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0),
                false => libc::read(fd, buf.as_mut_ptr().cast(), buf.len()),
            }
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        match errno() {
            libc::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// write(2) until `buf` is written or dst is full: Ok(bytes written; fewer
/// than `buf.len()` only when dst answered EAGAIN), or Err((bytes written
/// before it, errno)). EINTR is retried. `socket`: send(2) instead (see
/// `read_once`). The only write loop in the crate: the waiting one
/// (`call::deliver::write_all`) calls it again once dst is writable.
pub(crate) fn write_some(fd: i32, buf: &[u8], socket: bool) -> Result<usize, (usize, i32)> {
    let mut done = 0;
    // Invariant: buf[..done] reached fd, in order.
    while done < buf.len() {
        let rest = &buf[done..];
        // SAFETY: rest is valid for rest.len() bytes.
        let n = unsafe {
            match socket {
                true => libc::send(fd, rest.as_ptr().cast(), rest.len(), 0),
                false => libc::write(fd, rest.as_ptr().cast(), rest.len()),
            }
        };
        if n > 0 {
            done += n as usize;
            continue;
        }
        if n == 0 {
            // write(2) of a non-empty buffer returning 0: no room, ever.
            return Err((done, libc::ENOSPC));
        }
        match errno() {
            libc::EINTR => {}
            libc::EAGAIN => break,
            e => return Err((done, e)),
        }
    }
    Ok(done)
}
