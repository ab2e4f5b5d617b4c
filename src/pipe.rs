//! A kernel pipe used as splice(2)'s buffer between two fds that are not
//! pipes. The pipe counts the bytes it holds (every move in or out goes
//! through it) and knows its real size (F_GETPIPE_SZ after the grow), so
//! that the pool, not its borrower's word, decides whether it may be lent
//! again: only an empty pipe of the size the pool promises is.

use crate::sys::{errno, raw_splice};

/// A kernel pipe lent by the pool. Dropping it closes both ends (and any
/// bytes it still holds).
#[derive(Debug)]
pub struct Pipe {
    rfd: i32,
    wfd: i32,
    /// Bytes in the pipe: spliced in and not yet out.
    held: usize,
    /// The size the pool asked for, and what the kernel granted.
    wanted: u64,
    capacity: u64,
    /// The pool's fork generation when it was made.
    pub(crate) generation: u64,
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: the pipe owns both fds.
        unsafe {
            libc::close(self.rfd);
            libc::close(self.wfd);
        }
    }
}

impl Pipe {
    /// Makes a new pipe (non-blocking, close-on-exec) and asks the kernel to
    /// grow it to `wanted` bytes. A refusal is not an error (EPERM above
    /// pipe-max-size, a 2-page pipe past pipe-user-pages-soft): the pipe
    /// works, with more system calls, and `capacity` says what it is.
    pub(crate) fn create(wanted: u64, generation: u64) -> Result<Pipe, i32> {
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for two ints.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(errno());
        }
        let asked = wanted.min(i32::MAX as u64) as libc::c_int;
        // SAFETY: plain fcntls on an fd we own. F_SETPIPE_SZ returns the
        // new size; on failure F_GETPIPE_SZ tells the size it kept.
        let mut got = unsafe { libc::fcntl(fds[1], libc::F_SETPIPE_SZ, asked) };
        if got < 0 {
            got = unsafe { libc::fcntl(fds[1], libc::F_GETPIPE_SZ) };
        }
        Ok(Pipe {
            rfd: fds[0],
            wfd: fds[1],
            held: 0,
            wanted,
            capacity: got.max(0) as u64,
            generation,
        })
    }

    /// The pipe's real size in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes it holds now.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The size the pool asked the kernel for.
    pub(crate) fn wanted(&self) -> u64 {
        self.wanted
    }

    /// True when the kernel granted the size the pool asked for.
    pub(crate) fn full_size(&self) -> bool {
        self.capacity >= self.wanted
    }

    /// splice(2) from `src` into the pipe, at most `max` bytes, without
    /// waiting on the pipe (SPLICE_F_NONBLOCK).
    pub fn fill_from(&mut self, src: i32, max: usize) -> Result<usize, i32> {
        let n = raw_splice(src, self.wfd, max, libc::SPLICE_F_NONBLOCK)?;
        self.held += n;
        Ok(n)
    }

    /// splice(2) from the pipe into `dst`, at most `max` bytes, without
    /// waiting on the pipe. With `max` 1 on an empty pipe this is the
    /// splicer's probe of dst (EAGAIN: dst takes splice; EINVAL: it does
    /// not), which moves nothing.
    pub fn empty_into(&mut self, dst: i32, max: usize) -> Result<usize, i32> {
        let n = raw_splice(self.rfd, dst, max, libc::SPLICE_F_NONBLOCK)?;
        self.held = self.held.saturating_sub(n);
        Ok(n)
    }

    /// read(2) from the pipe, for a dst that does not take splice (EINTR
    /// retried). Ok(0) only when the pipe is empty.
    pub(crate) fn read_into(&mut self, buf: &mut [u8]) -> Result<usize, i32> {
        let want = buf.len().min(self.held);
        loop {
            // SAFETY: buf is valid for `want` bytes.
            let n = unsafe { libc::read(self.rfd, buf.as_mut_ptr().cast(), want) };
            if n >= 0 {
                self.held -= n as usize;
                return Ok(n as usize);
            }
            match errno() {
                libc::EINTR => continue,
                e => return Err(e),
            }
        }
    }
}
