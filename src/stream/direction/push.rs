//! Delivering what a direction holds: the pipe's bytes with splice(2),
//! a buffer's with write(2), the rescue when dst refuses splice, and what
//! happens to held bytes when a direction is dropped.

use super::{Direction, Flow, Held, Want};
use crate::internal::pool::{self, Pipe};
use crate::sys::io::write_some;

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
                            self.held =
                                Held::Pipe(pipe)
                                    .into_buffer()
                                    .map_err(|error| Flow::Failed {
                                        error,
                                        fd: self.dst,
                                    })?;
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

impl Drop for Direction {
    /// An empty pipe goes back to the pool; one holding bytes is closed
    /// with them.
    fn drop(&mut self) {
        if let Some(p) = self.spare.take() {
            pool::release(p);
        }
        // Still holding bytes: the pool closes the pipe (never lends it).
        self.held.take().discard();
    }
}
