//! Taking from src: a copy take while messages are small (mode.rs), or
//! while the pool's pipes are small, else splice(2) into an empty pooled
//! pipe; and stepping over a TCP urgent mark, which only a splice take
//! needs.

use super::mode::{Mode, BULK_COPY_CHUNK, COPY_CHUNK};
use super::{Direction, Flow, Held, Want, FALLBACK_CHUNK};
use crate::internal::pool;
use crate::sys::urgent::{self, Mark};

impl Direction {
    /// Takes from src: copies (copy mode, or the fallback) or splices into
    /// an empty pipe. Ok(true): bytes are held (or were delivered);
    /// Ok(false): EOF.
    pub(super) fn take(&mut self) -> Result<bool, Flow> {
        // The kill switch (disable.rs) keeps every take a copy.
        if !self.splice || crate::sys::disable::splice_off() {
            return Ok(self.take_buffered(FALLBACK_CHUNK)? > 0);
        }
        if self.mode == Mode::Copy {
            // read(2) steps over a TCP urgent mark by itself (urgent.rs):
            // a copy take never meets the mark's false EOF or EAGAIN, so
            // it needs no SIOCATMARK.
            self.woken = false;
            let n = self.take_buffered(COPY_CHUNK)?;
            if n > 0 {
                self.mode = self.mode.after_copy(n);
            }
            return Ok(n > 0);
        }
        if self.spare.is_none() && pool::lends_small() {
            return self.take_copied();
        }
        let Some(mut pipe) = self.spare.take().or_else(|| pool::acquire().ok()) else {
            // No pipe to be had (EMFILE, ENFILE): this take goes through
            // user space; the next one tries the pool again.
            return Ok(self.take_buffered(FALLBACK_CHUNK)? > 0);
        };
        if pipe.capacity() < pool::SMALL_PIPE {
            // The kernel refused to grow it (mode.rs): back to the pool
            // empty, where it may grow and is noted as small.
            pool::release(pipe);
            return self.take_copied();
        }
        let max = (pipe.capacity() as usize).min(self.cap);
        let woken = std::mem::take(&mut self.woken);
        match pipe.fill_from(self.src, max) {
            Ok(0) => {
                self.spare = Some(pipe);
                // End of stream, or a TCP socket at its urgent mark.
                self.past_mark(false)
            }
            Ok(n) => {
                self.spliced_src = true;
                self.mode = self.mode.after_splice(n);
                self.drained = self.level && n < max;
                self.held = Held::Pipe(pipe);
                Ok(true)
            }
            Err(e) => {
                // Nothing entered the pipe: it is still empty.
                self.spare = Some(pipe);
                match e {
                    // Readable, says poll, yet EAGAIN: the urgent mark?
                    libc::EAGAIN if woken && urgent::at_mark(self.src) => self.past_mark(true),
                    // The pipe was empty, so this is "src has no data".
                    libc::EAGAIN => Err(Flow::Blocked(Want::Read)),
                    // The kernel cannot splice from src; nothing consumed.
                    libc::EINVAL if !self.spliced_src => {
                        self.splice = false;
                        Ok(self.take_buffered(FALLBACK_CHUNK)? > 0)
                    }
                    e => Err(Flow::Failed {
                        error: e,
                        fd: self.src,
                    }),
                }
            }
        }
    }

    /// A take in Splice mode when the pipes are small: read(2) and write(2)
    /// through the thread's copy buffer, BULK_COPY_CHUNK at a time, no
    /// pipe held; the mode follows as for a splice take. read(2) steps over
    /// an urgent mark by itself, as in copy mode.
    fn take_copied(&mut self) -> Result<bool, Flow> {
        self.woken = false;
        let n = self.take_buffered(BULK_COPY_CHUNK)?;
        if n > 0 {
            self.mode = self.mode.after_splice(n);
        }
        Ok(n > 0)
    }

    /// After a splice from src answered 0 (`eagain` false) or EAGAIN: at a
    /// TCP urgent mark, step over it as read(2) does and hold the byte
    /// that comes after it; otherwise the answer means what it says.
    fn past_mark(&mut self, eagain: bool) -> Result<bool, Flow> {
        match urgent::step_over(self.src) {
            Mark::NotThere if eagain => Err(Flow::Blocked(Want::Read)),
            Mark::NotThere | Mark::Eof => Ok(false),
            Mark::Byte(b) => {
                self.held = Held::Buffer {
                    bytes: vec![b],
                    at: 0,
                };
                Ok(true)
            }
            // The urgent byte is gone and nothing follows yet; poll no
            // longer reports the mark.
            Mark::Skipped => Err(Flow::Blocked(Want::Read)),
            Mark::Failed(e) => Err(Flow::Failed {
                error: e,
                fd: self.src,
            }),
        }
    }
}
