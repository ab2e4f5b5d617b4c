//! The user-space path: read(2) into the thread's copy buffer, write(2)
//! what dst takes at once, keep the rest; and the half-close at EOF.

use super::{Direction, Flow, Held, Want};
use crate::read_write::with_buffer;
use crate::sys::errno;

impl Direction {
    /// read(2) at most `chunk` bytes into the thread's copy buffer,
    /// write(2) what dst takes at once, keep the rest (bounded by `chunk`).
    /// Ok(bytes read; 0 is EOF). In level mode, or when the driver says a
    /// short read(2) is final (`ReadHints`), a read shorter than asked ends
    /// the step once its bytes are out.
    pub(super) fn take_buffered(&mut self, chunk: usize) -> Result<usize, Flow> {
        let (src, dst, socket) = (self.src, self.dst, self.socket_io);
        let chunk = chunk.min(self.cap);
        let mut asked = chunk;
        let (n, w, r) = with_buffer(|buf| {
            let len = chunk.min(buf.len());
            asked = len;
            let buf = &mut buf[..len];
            let n = loop {
                // SAFETY: buf is valid for buf.len() bytes.
                let n = unsafe {
                    match socket {
                        true => libc::recv(src, buf.as_mut_ptr().cast(), buf.len(), 0),
                        false => libc::read(src, buf.as_mut_ptr().cast(), buf.len()),
                    }
                };
                if n >= 0 {
                    break n as usize;
                }
                match errno() {
                    libc::EINTR => continue,
                    libc::EAGAIN => return (0, 0, Err(Flow::Blocked(Want::Read))),
                    e => return (0, 0, Err(Flow::Failed { error: e, fd: src })),
                }
            };
            if n == 0 {
                return (0, 0, Ok(Held::Nothing));
            }
            match write_some(dst, &buf[..n], socket) {
                Ok(w) if w == n => (n, w, Ok(Held::Nothing)),
                Ok(w) => (
                    n,
                    w,
                    Ok(Held::Buffer {
                        bytes: buf[w..n].to_vec(),
                        at: 0,
                    }),
                ),
                Err((w, e)) => (n, w, Err(Flow::Failed { error: e, fd: dst })),
            }
        });
        self.delivered += w as i64;
        self.held = r?;
        self.drained = (self.level || self.hints.short_is_final) && n > 0 && n < asked;
        Ok(n)
    }

    /// src is at EOF with nothing held: half-close dst.
    pub(super) fn at_eof(&mut self) -> Flow {
        match shutdown_wr(self.dst) {
            Ok(()) => Flow::Eof,
            Err(e) => Flow::Failed {
                error: e,
                fd: self.dst,
            },
        }
    }
}

/// shutdown(SHUT_WR). ENOTSOCK (a pipe, a tty: nothing to half-close) and
/// ENOTCONN (the connection is already gone; the other direction will hear
/// of it) are not errors.
pub(super) fn shutdown_wr(fd: i32) -> Result<(), i32> {
    // SAFETY: shutdown takes no pointer.
    if unsafe { libc::shutdown(fd, libc::SHUT_WR) } == 0 {
        return Ok(());
    }
    match errno() {
        libc::ENOTSOCK | libc::ENOTCONN => Ok(()),
        e => Err(e),
    }
}

/// write(2) until `buf` is written or dst is full: Ok(bytes written), or
/// Err((bytes written before it, errno)). EINTR is retried. `socket`:
/// send(2) instead, for a socket (`Direction::set_socket_io`).
pub(super) fn write_some(fd: i32, buf: &[u8], socket: bool) -> Result<usize, (usize, i32)> {
    let mut done = 0;
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
