//! The user-space path: read(2) into the thread's copy buffer, write(2)
//! what dst takes at once, keep the rest; and the half-close at EOF.

use super::{Direction, Flow, Held, Want};
use crate::sys::errno;
use crate::sys::io::{read_once, with_buffer, write_some};

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
            let n = match read_once(src, buf, socket) {
                Ok(n) => n,
                Err(libc::EAGAIN) => return (0, 0, Err(Flow::Blocked(Want::Read))),
                Err(e) => return (0, 0, Err(Flow::Failed { error: e, fd: src })),
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
