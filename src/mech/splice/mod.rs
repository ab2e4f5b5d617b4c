//! splice(2): Go's Splice. Between two fds of which one is a pipe, one
//! direct splice loop; between two non-pipes (socket -> socket, socket ->
//! file, file -> socket), drain src into a pooled pipe and pump the pipe
//! into dst, chunk by chunk.

mod pooled;

use crate::call::control::Control;
use crate::call::deliver::deliver_byte;
use crate::call::nonblock::NonBlocking;
use crate::call::outcome::Outcome;
use crate::call::runner::Call;
use crate::call::wait::{socket_timeout, wait_ready, Wait};
use crate::stream::Held;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_SPLICE};
use crate::sys::urgent::{self, Mark};
use crate::sys::{fd_flags, fstat, raw_splice};
pub(crate) use pooled::through_pool;

/// Largest length asked of one splice(2) in the direct loop (MAX_RW_COUNT).
const MAX_DIRECT_CHUNK: i64 = 0x7fff_f000;

/// zcopy_splice: moves up to `remain` bytes from `src` to `dst` with
/// splice(2). See the header for the full contract.
pub fn splice(dst: i32, src: i32, remain: i64) -> Transfer {
    splice_with(&mut Control::plain(), dst, src, remain)
}

/// zcopy_splice under a call's Control (zcopy_splice_opts).
pub(crate) fn splice_with(ctl: &mut Control, dst: i32, src: i32, remain: i64) -> Transfer {
    let call = match Call::new(ZCOPY_METHOD_SPLICE, dst, src, remain) {
        Ok(call) => call,
        Err(t) => return t,
    };
    if crate::sys::disable::splice_off() {
        // The kill switch: zcopy_copy's row for the pair, without splice
        // (read/write, or sendfile from a file); `method` says which.
        return crate::mech::dispatch::copy_with(ctl, dst, src, remain);
    }
    // The cheapest first question for the common case, a socket dst: its
    // SO_SNDTIMEO, which also says that it is a socket (ENOTSOCK else).
    if ctl.is_plain() {
        if let Ok(timeout) = socket_timeout(dst, Wait::Write) {
            return to_socket(ctl, call, timeout);
        }
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
    run(ctl, call, dst_pipe, direct_path)
}

/// The plain call into a socket: getsockopt(SO_SNDTIMEO) on dst (made
/// already), F_GETPIPE_SZ on src, the SIGPIPE guard and the splices; the
/// general path's questions are answered without asking:
/// - O_APPEND: not looked at. It means nothing to a socket, but splice(2)
///   refuses any O_APPEND dst with EINVAL; the pooled loop then delivers
///   the drained bytes with write(2) (its rescue path) and ends with
///   EINVAL, so nothing is lost.
/// - the same pipe on both sides: impossible, dst is no pipe.
/// - which path: the direct loop when src is a pipe, else the pooled one.
/// - the timeout bound (see `pair_guard`): only a socket with SO_SNDTIMEO
///   needs it, then one F_GETFL (and the F_SETFLs when it is blocking); a
///   pipe src has no SO_RCVTIMEO, and the pooled loop counts a socket
///   src's timeout from before each drain.
///
/// Nothing is remembered across calls: every answer comes from this call's
/// own system calls (fd numbers are reused).
fn to_socket(ctl: &mut Control, call: Call, timeout: i32) -> Transfer {
    let (dst, src) = (call.dst, call.src);
    // F_GETPIPE_SZ answers EBADF for anything but a pipe (also for a bad
    // src: the first splice then reports EBADF, with nothing moved).
    // SAFETY: F_GETPIPE_SZ takes no argument.
    let src_pipe = unsafe { libc::fcntl(src, libc::F_GETPIPE_SZ) } >= 0;
    let mut nb = NonBlocking::none();
    if timeout >= 0 {
        nb.set_for_call(dst, None);
    }
    run(ctl, call, false, src_pipe)
}

/// The transfer itself, once the path is chosen and the fds guarded: the
/// direct or pooled loop, run by the call runner (which delivers what an
/// interrupted call left first, and keeps or drops what this one leaves).
fn run(ctl: &mut Control, call: Call, dst_pipe: bool, direct_path: bool) -> Transfer {
    let (dst, src) = (call.dst, call.src);
    // Any path may be left holding bytes (a pooled pipe; the byte past an
    // urgent mark of a direct splice).
    call.run(
        ctl,
        || true,
        |ctl, left, held| {
            let o = if !direct_path {
                through_pool(ctl, dst, src, left, held)
            } else {
                match direct(ctl, dst, src, left, held) {
                    // src is a pipe and dst refuses splice (no splice_write):
                    // the pooled loop delivers what it drained with write(2),
                    // when write(2) can serve dst at all. One that it cannot
                    // either (an eventfd, epoll, timerfd, signalfd, pidfd) is
                    // refused now, as splice(2) refuses it, before the pooled
                    // loop would wait for an empty src. (dst a pipe: the kernel
                    // refused src, nothing else can.)
                    Outcome::Fallback(0, libc::EINVAL) if !dst_pipe => match takes_write(dst) {
                        true => through_pool(ctl, dst, src, left, held),
                        false => Outcome::Fallback(0, libc::EINVAL),
                    },
                    o => o,
                }
            };
            o.into_transfer(ZCOPY_METHOD_SPLICE)
        },
    )
}

/// Whether write(2) can serve `dst`, asked without moving a byte: a socket
/// always (a zero-length write would send an empty datagram on some), any
/// other fd by a write of 0 bytes, which the kernel refuses (EINVAL) for
/// fds without a write operation or with fixed-size writes (eventfd) and
/// accepts for a file, a tty or a device that takes bytes. EAGAIN (full
/// now) still means yes.
fn takes_write(dst: i32) -> bool {
    if fstat(dst).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFSOCK) {
        return true;
    }
    let empty = [0u8; 1];
    // SAFETY: a zero-length write reads nothing from the buffer.
    let r = unsafe { libc::write(dst, empty.as_ptr().cast(), 0) };
    r >= 0 || crate::sys::errno() == libc::EAGAIN
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
/// The byte past an urgent mark, when dst stops it, is left in `held`.
pub(crate) fn direct(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    mut remain: i64,
    held: &mut Held,
) -> Outcome {
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
            // (NOWAIT: no wait comes first; look at once.)
            Err(libc::EAGAIN) if (waited || ctl.nowait()) && urgent::at_mark(src) => {
                urgent::step_over(src)
            }
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
                if let Err(e) = deliver_byte(ctl, dst, b, held) {
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
