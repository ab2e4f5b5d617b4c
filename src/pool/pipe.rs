//! A kernel pipe used as splice(2)'s buffer between two fds that are not
//! pipes. The pipe counts the bytes it holds (every move in or out goes
//! through it) and knows its real size (what F_SETPIPE_SZ granted), so
//! that the pool, not its borrower's word, decides whether it may be lent
//! again (only an empty pipe is), and every borrower sizes its splices by
//! what the pipe really is. It also keeps the process-wide count of pipe
//! pages alive (`pages_alive`), which the pool's sizing reads.

use crate::sys::{errno, raw_splice};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// 4 KiB: the kernel counts pipe capacity in pages (slots).
const PAGE: u64 = 4096;

/// Pages of every `Pipe` alive in this process (pooled or lent): the
/// pool's share of the user's pipe-user-pages-soft.
static PAGES: AtomicU64 = AtomicU64::new(0);

/// Pages held by this process's pipes now.
pub(crate) fn pages_alive() -> u64 {
    PAGES.load(Relaxed)
}

/// A kernel pipe lent by the pool. Dropping it closes both ends (and any
/// bytes it still holds).
#[derive(Debug)]
pub struct Pipe {
    rfd: i32,
    wfd: i32,
    /// Bytes in the pipe: spliced in and not yet out.
    held: usize,
    /// The size the pool promises (its configured pipe size), and what the
    /// kernel granted (smaller when the kernel refused to grow it, or when
    /// the pool asked for less to stay within the soft limit).
    wanted: u64,
    capacity: u64,
    /// The pool's fork generation when it was made.
    pub(crate) generation: u64,
}

impl Drop for Pipe {
    fn drop(&mut self) {
        PAGES.fetch_sub(self.capacity / PAGE, Relaxed);
        // SAFETY: the pipe owns both fds.
        unsafe {
            libc::close(self.rfd);
            libc::close(self.wfd);
        }
    }
}

/// What a grow of a new pipe gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grow {
    /// The kernel granted the size asked for.
    Granted,
    /// F_SETPIPE_SZ failed with this errno (EPERM: above pipe-max-size, or
    /// the user is past pipe-user-pages-soft); the pipe kept its size.
    Refused(i32),
}

impl Pipe {
    /// Makes a new pipe (non-blocking, close-on-exec) promised `wanted`
    /// bytes, and asks the kernel to make it `ask` bytes. A refusal is not
    /// an error: the pipe works at the size it has (16 pages, or 2 past
    /// pipe-user-pages-soft), with more system calls, and `capacity` says
    /// what it is.
    pub(crate) fn create(wanted: u64, ask: u64, generation: u64) -> Result<(Pipe, Grow), i32> {
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for two ints.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(errno());
        }
        let mut p = Pipe {
            rfd: fds[0],
            wfd: fds[1],
            held: 0,
            wanted,
            capacity: 0,
            generation,
        };
        let grow = p.resize(ask);
        Ok((p, grow))
    }

    /// F_SETPIPE_SZ to `bytes` (the pipe must be empty: the kernel refuses
    /// to shrink below what it holds with EBUSY); `capacity` and the page
    /// count follow what the kernel kept either way.
    pub(crate) fn resize(&mut self, bytes: u64) -> Grow {
        let asked = bytes.min(i32::MAX as u64) as libc::c_int;
        // SAFETY: plain fcntls on an fd we own. F_SETPIPE_SZ returns the
        // new size; on failure F_GETPIPE_SZ tells the size it kept.
        let mut got = unsafe { libc::fcntl(self.wfd, libc::F_SETPIPE_SZ, asked) };
        let grow = if got < 0 {
            let e = errno();
            // A refused resize changes nothing (pipe_set_size fails before
            // touching the ring): a pipe already measured keeps its size;
            // a new one is asked what it got.
            got = if self.capacity > 0 {
                self.capacity as libc::c_int
            } else {
                unsafe { libc::fcntl(self.wfd, libc::F_GETPIPE_SZ) }
            };
            Grow::Refused(e)
        } else {
            Grow::Granted
        };
        let now = got.max(0) as u64;
        PAGES.fetch_add(now / PAGE, Relaxed);
        PAGES.fetch_sub(self.capacity / PAGE, Relaxed);
        self.capacity = now;
        grow
    }

    /// The pipe's real size in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes it holds now.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The size the pool promised when it made it.
    pub(crate) fn wanted(&self) -> u64 {
        self.wanted
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
