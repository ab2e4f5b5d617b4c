//! splice(2): Go's Splice. Between two fds of which one is a pipe, one
//! direct splice loop; between two non-pipes (socket -> socket, socket ->
//! file, file -> socket), drain src into a pooled pipe and pump the pipe
//! into dst, chunk by chunk.

use crate::control::now_ns;
use crate::control::Control;
use crate::inflight;
use crate::nonblock::NonBlocking;
use crate::outcome::Outcome;
use crate::pool::{self, Pipe};
use crate::read_write::deliver_from_pipe;
use crate::sigpipe::without_sigpipe;
use crate::sys::{fd_flags, fstat, raw_splice};
use crate::transfer::{check_args, Transfer, ZCOPY_METHOD_SPLICE};
use crate::urgent::{self, Mark};
use crate::wait::{kernel_timed_out, wait_ready, wait_ready_since, Wait};

/// Largest length asked of one splice(2) in the direct loop (MAX_RW_COUNT).
const MAX_DIRECT_CHUNK: i64 = 0x7fff_f000;

/// zcopy_splice: moves up to `remain` bytes from `src` to `dst` with
/// splice(2). See the header for the full contract.
pub fn splice(dst: i32, src: i32, remain: i64) -> Transfer {
    splice_with(&mut Control::plain(), dst, src, remain)
}

/// zcopy_splice under a call's Control (zcopy_splice_opts).
pub(crate) fn splice_with(ctl: &mut Control, dst: i32, src: i32, remain: i64) -> Transfer {
    if let Some(t) = check_args(ZCOPY_METHOD_SPLICE, dst, src, remain) {
        return t;
    }
    if remain == 0 {
        return Transfer::done(ZCOPY_METHOD_SPLICE, 0, 0);
    }
    // splice(2) refuses an O_APPEND dst with EINVAL, but only after the
    // drain has already taken bytes from src: check up front (Go's os
    // package does the same before trying splice).
    let dst_flags = match fd_flags(dst) {
        Err(e) => return Transfer::done(ZCOPY_METHOD_SPLICE, 0, e),
        Ok(fl) if fl & libc::O_APPEND != 0 => {
            return Transfer::unhandled(ZCOPY_METHOD_SPLICE, libc::EINVAL)
        }
        Ok(fl) => fl,
    };
    // Which path: a pipe on either side splices directly; two non-pipes go
    // through a pooled pipe. (Two fstat(2)s, the price of the probing
    // splice they replace plus the same-pipe check.)
    let (d, s) = match (fstat(dst), fstat(src)) {
        (Ok(d), Ok(s)) => (d, s),
        (Err(e), _) | (_, Err(e)) => return Transfer::done(ZCOPY_METHOD_SPLICE, 0, e),
    };
    let is_pipe = |st: &libc::stat| st.st_mode & libc::S_IFMT == libc::S_IFIFO;
    let (dst_pipe, src_pipe) = (is_pipe(&d), is_pipe(&s));
    if dst_pipe && src_pipe && d.st_dev == s.st_dev && d.st_ino == s.st_ino {
        // A pipe into itself (fd for fd, a FIFO opened O_RDWR, a pipe
        // reopened through /proc/self/fd): every byte would go round for
        // ever.
        return Transfer::done(ZCOPY_METHOD_SPLICE, 0, libc::EINVAL);
    }
    let direct_path = dst_pipe || src_pipe;
    let _nb = pair_guard(ctl, direct_path, dst, dst_flags, src);
    without_sigpipe(|| {
        let first = match inflight::resume(ctl, dst, src, remain) {
            Ok(n) => n,
            Err((n, e)) => return Transfer::done(ZCOPY_METHOD_SPLICE, n, e),
        };
        let left = remain - first;
        if left == 0 {
            return Transfer::done(ZCOPY_METHOD_SPLICE, first, 0);
        }
        let o = if !direct_path {
            through_pool(ctl, dst, src, left)
        } else {
            match direct(ctl, dst, src, left) {
                // src is a pipe and dst refuses splice (no splice_write):
                // the pooled loop delivers what it drained with write(2).
                // (dst a pipe: the kernel refused src, nothing else can.)
                Outcome::Fallback(0, libc::EINVAL) if !dst_pipe => {
                    through_pool(ctl, dst, src, left)
                }
                o => o,
            }
        };
        o.after(first).into_transfer(ZCOPY_METHOD_SPLICE)
    })
}

/// Bounds a blocking socket's timeout once (see `nonblock`): the direct
/// loop waits in the kernel on either fd, so both are made non-blocking
/// when they have a timeout; the pooled loop only on dst (a unix socket's
/// splice_write waits out SO_SNDTIMEO more than once inside one call),
/// since it counts a src timeout the kernel already waited out. With
/// options, every blocking fd.
pub(crate) fn pair_guard(
    ctl: &Control,
    direct_path: bool,
    dst: i32,
    dst_flags: i32,
    src: i32,
) -> NonBlocking {
    let always = !ctl.is_plain();
    if direct_path || always {
        return NonBlocking::for_pair(dst, Some(dst_flags), src, None, always);
    }
    let mut g = NonBlocking::none();
    g.add(dst, Some(dst_flags), Wait::Write, false);
    g
}

/// Splices directly between `src` and `dst`, one of which is a pipe.
/// EINVAL before any progress is a fallback with nothing consumed (neither
/// fd is a pipe, or the other one does not support splice).
pub(crate) fn direct(ctl: &mut Control, dst: i32, src: i32, mut remain: i64) -> Outcome {
    let mut written: i64 = 0;
    // True once we waited for readiness since the last progress: another
    // EAGAIN then may be the urgent mark (poll says readable, splice won't).
    let mut waited = false;
    // Invariant: `written` bytes left src and reached dst (no buffer of
    // ours in between, but for one byte past an urgent mark).
    while remain > 0 {
        if let Err(e) = ctl.check() {
            return Outcome::Error(written, e);
        }
        let len = remain.min(MAX_DIRECT_CHUNK) as usize;
        // No SPLICE_F_NONBLOCK: blocking fds block in the kernel (which also
        // honours their SO_RCVTIMEO / SO_SNDTIMEO); the kernel adds the flag
        // itself for a pipe opened O_NONBLOCK.
        let mark = match raw_splice(src, dst, len, 0) {
            // EOF (a pipe with no writers, a socket shut down), or a TCP
            // socket at its urgent mark.
            Ok(0) => match urgent::step_over(src) {
                Mark::NotThere | Mark::Eof => break,
                m => m,
            },
            Ok(n) => {
                written += n as i64;
                remain -= n as i64;
                waited = false;
                ctl.progress();
                continue;
            }
            Err(libc::EAGAIN) if waited && urgent::at_mark(src) => urgent::step_over(src),
            Err(libc::EAGAIN) => {
                // Which side is not ready is not said: wait for src to have
                // data, then for dst to have room, then retry.
                if let Err(e) =
                    wait_ready(ctl, src, Wait::Read).and_then(|_| wait_ready(ctl, dst, Wait::Write))
                {
                    return Outcome::Error(written, e);
                }
                waited = true;
                continue;
            }
            // EINVAL: an fd kind splice cannot serve (first call), or one
            // that stopped taking it. ENOSYS, EOPNOTSUPP, EXDEV: likewise.
            // The next mechanism continues where this one stopped.
            Err(e @ (libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::EXDEV)) => {
                return Outcome::Fallback(written, e)
            }
            // EPERM before any progress: a seccomp filter forbids splice.
            Err(libc::EPERM) if written == 0 => return Outcome::Fallback(0, libc::EPERM),
            Err(e) => return Outcome::Error(written, e),
        };
        match mark {
            Mark::Byte(b) => {
                if let Err(e) = urgent::deliver_byte(ctl, dst, src, b) {
                    return Outcome::Error(written, e);
                }
                written += 1;
                remain -= 1;
                waited = false;
            }
            Mark::Eof => break,
            Mark::Failed(e) => return Outcome::Error(written, e),
            // Past the mark with nothing after it yet: the next splice
            // waits (blocking) or answers EAGAIN and we poll.
            Mark::Skipped | Mark::NotThere => waited = false,
        }
    }
    Outcome::Ended(written)
}

/// What one drain gave.
enum Drained {
    /// Bytes are in the pipe now (it counts them).
    Filled,
    /// src is at end of stream.
    Eof,
    /// One byte taken past a TCP urgent mark, not in the pipe: deliver it.
    Urgent(u8),
}

/// Moves src into the (empty) pipe: at most `max` bytes. EAGAIN here can
/// only mean src has no data yet (the pipe starts empty), so wait for src;
/// an EAGAIN right after poll said readable, or a 0, may be the urgent mark.
fn drain(ctl: &mut Control, pipe: &mut Pipe, src: i32, max: usize) -> Result<Drained, i32> {
    let mut waited = false;
    loop {
        // A blocking src waits in the kernel (SO_RCVTIMEO included): the
        // wait after its EAGAIN counts from here.
        let t0 = now_ns();
        let mark = match pipe.fill_from(src, max) {
            Ok(0) => urgent::step_over(src),
            Ok(_) => return Ok(Drained::Filled),
            Err(libc::EAGAIN) if waited && urgent::at_mark(src) => urgent::step_over(src),
            Err(libc::EAGAIN) => {
                wait_ready_since(ctl, src, Wait::Read, t0)?;
                waited = true;
                continue;
            }
            Err(e) => return Err(e),
        };
        match mark {
            Mark::NotThere | Mark::Eof => return Ok(Drained::Eof),
            Mark::Byte(b) => return Ok(Drained::Urgent(b)),
            Mark::Failed(e) => return Err(e),
            // Stepped over the urgent byte, nothing after it yet.
            Mark::Skipped => waited = false,
        }
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

/// Go's Splice: src -> pooled pipe -> dst, chunk by chunk. No pipe to be
/// had, or EINVAL on the first drain (the kernel cannot splice from src), is
/// a fallback with nothing consumed.
pub(crate) fn through_pool(ctl: &mut Control, dst: i32, src: i32, mut remain: i64) -> Outcome {
    let mut pipe = match pool::acquire() {
        Ok(p) => p,
        Err(e) => return Outcome::Fallback(0, e),
    };
    let chunk = pipe.capacity().max(4096) as i64;
    let mut written: i64 = 0;
    // Invariant at the head of each round: the pipe is empty, and `written`
    // bytes have left src and reached dst.
    let outcome = loop {
        if remain <= 0 {
            break Outcome::Ended(written);
        }
        if let Err(e) = ctl.check() {
            break Outcome::Error(written, e);
        }
        match drain(ctl, &mut pipe, src, remain.min(chunk) as usize) {
            Ok(Drained::Eof) => break Outcome::Ended(written),
            Ok(Drained::Filled) => ctl.progress(),
            Ok(Drained::Urgent(b)) => {
                // The pipe is empty, so this byte's turn is now.
                if let Err(e) = urgent::deliver_byte(ctl, dst, src, b) {
                    break Outcome::Error(written, e);
                }
                written += 1;
                remain -= 1;
                continue;
            }
            Err(e @ (libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::EXDEV)) => {
                // src does not take splice (or splice is gone): nothing of
                // this round was taken, the next mechanism continues.
                break Outcome::Fallback(written, e);
            }
            // EPERM before any progress: a seccomp filter forbids splice.
            Err(libc::EPERM) if written == 0 => break Outcome::Fallback(0, libc::EPERM),
            Err(e) => break Outcome::Error(written, e),
        }
        let held = pipe.held();
        let (moved, e) = pump_some(ctl, &mut pipe, dst, held);
        written += moved as i64;
        remain -= moved as i64;
        if e == libc::EINVAL {
            // dst does not take splice (no splice_write, an O_APPEND file
            // opened since the check): the drained bytes must still arrive,
            // so that a caller falling back to read/write leaves no hole.
            let (moved, e2, unwritten) = deliver_from_pipe(ctl, &mut pipe, dst);
            written += moved as i64;
            if e2 == libc::EINTR {
                inflight::park(dst, src, &unwritten, Some(pipe));
                return Outcome::Error(written, e2);
            }
            break if e2 != 0 {
                Outcome::Error(written, e2)
            } else {
                Outcome::Fallback(written, libc::EINVAL)
            };
        }
        if e == libc::EINTR {
            // A signal while dst was full (ZCOPY_OPT_EINTR): the bytes in
            // the pipe go first on the next call on this pair.
            inflight::park(dst, src, &[], Some(pipe));
            return Outcome::Error(written, e);
        }
        if e != 0 {
            break Outcome::from_errno(written, e);
        }
    };
    // A pipe that still holds bytes is closed, never pooled (the pool
    // looks).
    pool::release(pipe);
    outcome
}
