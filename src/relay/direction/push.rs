//! Delivering what a direction holds: the pipe's bytes with splice(2),
//! a buffer's with write(2), the rescue when dst refuses splice, and what
//! happens to held bytes when a direction is dropped.

use super::buffered::write_some;
use super::{Direction, Flow, Held, Want};
use crate::pool::{self, Pipe};

impl Direction {
    /// Delivers the held bytes: Ok once nothing is held.
    pub(super) fn push(&mut self) -> Result<(), Flow> {
        loop {
            match std::mem::replace(&mut self.held, Held::Nothing) {
                Held::Nothing => return Ok(()),
                Held::Pipe(mut pipe) => {
                    let len = pipe.held();
                    match pipe.empty_into(self.dst, len) {
                        Ok(n) if n > 0 => {
                            self.delivered += n as i64;
                            if n == len {
                                self.spare = Some(pipe);
                            } else {
                                self.held = Held::Pipe(pipe);
                            }
                        }
                        Err(libc::EAGAIN) => {
                            self.held = Held::Pipe(pipe);
                            return Err(Flow::Blocked(Want::Write));
                        }
                        Err(libc::EINVAL) => {
                            // dst takes no splice: read the bytes back out
                            // of the pipe and write them.
                            self.splice = false;
                            self.held = rescue(pipe, self.dst)?;
                        }
                        // The pipe holds len > 0 bytes, so 0 cannot happen.
                        Ok(_) => return Err(self.fail(libc::EIO, self.dst, pipe)),
                        Err(e) => return Err(self.fail(e, self.dst, pipe)),
                    }
                }
                Held::Buffer { bytes, mut at } => {
                    match write_some(self.dst, &bytes[at..], self.socket_io) {
                        Ok(n) => {
                            at += n;
                            self.delivered += n as i64;
                            if at < bytes.len() {
                                self.held = Held::Buffer { bytes, at };
                                return Err(Flow::Blocked(Want::Write));
                            }
                        }
                        Err((n, e)) => {
                            self.delivered += n as i64;
                            return Err(Flow::Failed {
                                error: e,
                                fd: self.dst,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Keeps the pipe and its bytes as they are (so `held` stays exact)
    /// and reports the error.
    fn fail(&mut self, error: i32, fd: i32, pipe: Pipe) -> Flow {
        self.held = Held::Pipe(pipe);
        Flow::Failed { error, fd }
    }
}

/// dst refused splice: moves the bytes held in `pipe` into a buffer (the
/// pipe is ours and non-blocking, so one read loop drains it), and gives
/// the empty pipe back.
fn rescue(mut pipe: Pipe, dst: i32) -> Result<Held, Flow> {
    let mut bytes = vec![0u8; pipe.held()];
    let mut got = 0;
    while got < bytes.len() {
        match pipe.read_into(&mut bytes[got..]) {
            Ok(n) if n > 0 => got += n,
            // Cannot happen for our own pipe holding these bytes; what is
            // left in it is closed with it.
            r => {
                pool::release(pipe);
                let error = r.err().unwrap_or(libc::EIO);
                return Err(Flow::Failed { error, fd: dst });
            }
        }
    }
    pool::release(pipe);
    Ok(Held::Buffer { bytes, at: 0 })
}

impl Drop for Direction {
    /// An empty pipe goes back to the pool; one holding bytes is closed
    /// with them.
    fn drop(&mut self) {
        if let Some(p) = self.spare.take() {
            pool::release(p);
        }
        if let Held::Pipe(pipe) = std::mem::replace(&mut self.held, Held::Nothing) {
            // Still holding bytes: the pool closes it (never lends it).
            pool::release(pipe);
        }
    }
}
