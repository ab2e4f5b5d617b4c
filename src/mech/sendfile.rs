//! sendfile(2): Go's SendFile. Moves bytes from a file (anything the
//! kernel can page in: regular files, block devices) to any fd.

use crate::call::control::now_ns;
use crate::call::control::Control;
use crate::call::deliver::deliver_byte;
use crate::call::nonblock::NonBlocking;
use crate::call::outcome::Outcome;
use crate::call::runner::Call;
use crate::call::wait::{wait_ready, wait_ready_since, Wait};
use crate::mech::{positional, read_write};
use crate::stream::Held;
use crate::sys::errno;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_READ_WRITE, ZCOPY_METHOD_SENDFILE};
use crate::sys::urgent::{self, Mark};

/// The kernel moves at most MAX_RW_COUNT (0x7ffff000) bytes per call; ask
/// for no more, so a request never overflows on any platform.
const MAX_CHUNK: i64 = 0x7fff_f000;

/// zcopy_sendfile and zcopy_sendfile_at. With `offset` None, src's file
/// position is used and advanced; with Some, the offset is used and
/// advanced by the bytes moved, and the file position is left alone.
pub fn sendfile(dst: i32, src: i32, offset: Option<&mut i64>, remain: i64) -> Transfer {
    sendfile_with(&mut Control::plain(), dst, src, offset, remain)
}

/// zcopy_sendfile(_at) under a call's Control (zcopy_sendfile_opts).
pub(crate) fn sendfile_with(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    offset: Option<&mut i64>,
    remain: i64,
) -> Transfer {
    let bad_offset = offset.as_deref().is_some_and(|off| *off < 0);
    let call = match Call::new(ZCOPY_METHOD_SENDFILE, dst, src, remain) {
        Ok(_) | Err(Transfer { error: 0, .. }) if bad_offset => {
            return Transfer::done(ZCOPY_METHOD_SENDFILE, 0, libc::EINVAL)
        }
        Ok(call) => call,
        Err(t) => return t,
    };
    // A blocking socket's timeout, bounded once (see nonblock.rs). A plain
    // call guards dst only: src is a file, which never waits; or (dst a
    // pipe, Linux 5.12+) a socket, on which the kernel waits SO_RCVTIMEO
    // at most once per sendfile, and the wait after its EAGAIN counts from
    // before that call (`send_loop`). That spares a getsockopt on the file
    // (ENOTSOCK) per call.
    let _nb = if ctl.is_plain() {
        let mut g = NonBlocking::none();
        g.add(dst, None, Wait::Write, false);
        g
    } else {
        options_guard(dst, src)
    };
    // Only a socket src (sendfile into a pipe, since 5.12) can leave a
    // byte in flight, the one past an urgent mark; a file or block device
    // never does (asked with one fstat, only when the thread holds too
    // many pairs to take another).
    let may_hold = || {
        let kind = crate::sys::fstat(src).map(|st| st.st_mode & libc::S_IFMT);
        !matches!(kind, Ok(libc::S_IFREG | libc::S_IFBLK))
    };
    call.run(ctl, may_hold, |ctl, left, held| {
        if crate::sys::disable::sendfile_off() {
            // The kill switch: the next path of the row, read/write, with
            // the offset's pread semantics when one is given.
            let o = match offset {
                Some(off) => positional::copy_at(ctl, dst, None, src, Some(off), left),
                None => read_write::copy_loop(ctl, dst, src, left, held),
            };
            return o.into_transfer(ZCOPY_METHOD_READ_WRITE);
        }
        send_loop(ctl, dst, src, offset, left, held).into_transfer(ZCOPY_METHOD_SENDFILE)
    })
}

/// With options every blocking fd is made non-blocking for the call, so
/// that no wait happens in the kernel (ZCOPY_OPT_NOWAIT, the cancel fd and
/// the timeout all need that) -- except a regular file or block device
/// src: O_NONBLOCK means nothing to them, and setting it (on a file fd
/// an event loop shares among its connections) would cost four fcntl per
/// call. One fstat tells.
fn options_guard(dst: i32, src: i32) -> NonBlocking {
    let mut g = NonBlocking::none();
    g.add(dst, None, Wait::Write, true);
    let file = crate::sys::fstat(src)
        .is_ok_and(|st| matches!(st.st_mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFBLK));
    if !file {
        g.add(src, None, Wait::Read, true);
    }
    g
}

/// The loop itself, for callers that already hold the SIGPIPE guard. The
/// byte past an urgent mark (a socket src), when dst stops it, is left in
/// `held`.
pub(crate) fn send_loop(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    offset: Option<&mut i64>,
    mut remain: i64,
    held: &mut Held,
) -> Outcome {
    let mut written: i64 = 0;
    let start: i64 = offset.as_deref().copied().unwrap_or(0);
    let mut pos: libc::off_t = start;
    let pos_ptr: *mut libc::off_t = if offset.is_some() {
        &mut pos
    } else {
        std::ptr::null_mut()
    };
    // True once we waited for readiness since the last progress (see the
    // urgent mark below).
    let mut waited = false;
    // Invariant: `written` bytes reached dst and src's position (the file's
    // or `pos`) advanced by exactly that much.
    let outcome = loop {
        if let Some(stop) = Outcome::before_round(ctl, remain, written) {
            break stop;
        }
        let len = remain.min(MAX_CHUNK) as usize;
        // A blocking socket src may wait in the kernel (SO_RCVTIMEO): the
        // wait after its EAGAIN counts from here.
        let t0 = now_ns();
        // SAFETY: pos_ptr is NULL or points to `pos`, alive for the call.
        let n = unsafe { libc::sendfile(dst, src, pos_ptr, len) };
        if n > 0 {
            written += n as i64;
            remain -= n as i64;
            waited = false;
            ctl.progress();
            continue;
        }
        let e = if n == 0 { 0 } else { errno() };
        if n == 0 || (e == libc::EAGAIN && (waited || ctl.nowait())) {
            // End of file (also on the first call: handled, Go issue 53658),
            // unless src is a TCP socket (sendfile into a pipe is a splice
            // since 5.12) stopped at its urgent mark: step over it as read(2)
            // would.
            match urgent::step_over(src) {
                Mark::NotThere if n != 0 => {}
                Mark::NotThere | Mark::Eof => break Outcome::Ended(written),
                Mark::Byte(b) => match deliver_byte(ctl, dst, b, held) {
                    Ok(()) => {
                        written += 1;
                        remain -= 1;
                        waited = false;
                        continue;
                    }
                    Err(e) => break Outcome::Error(written, e),
                },
                Mark::Skipped => {
                    waited = false;
                    continue;
                }
                Mark::Failed(e) => break Outcome::Error(written, e),
            }
        }
        break match e {
            libc::EINTR => continue,
            libc::EAGAIN => {
                // Usually dst is full. But since Linux 5.12 sendfile into a
                // pipe is a splice, which also takes a socket or pipe as src,
                // and then EAGAIN can mean src has no data: wait for both
                // (a regular file is always readable), so nothing spins.
                match wait_ready_since(ctl, src, Wait::Read, t0)
                    .and_then(|_| wait_ready(ctl, dst, Wait::Write))
                {
                    Ok(()) => {
                        waited = true;
                        continue;
                    }
                    Err(e) => Outcome::Error(written, e),
                }
            }
            // ENOSYS: no kernel support. EINVAL: an fd kind sendfile cannot
            // serve (a socket or pipe as src, an O_APPEND dst). EOPNOTSUPP:
            // as Go, in case a filesystem says so. The next mechanism can
            // continue where this one stopped.
            e @ (libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP) => Outcome::Fallback(written, e),
            // EPERM before any progress: a seccomp filter (container
            // runtimes answer EPERM for syscalls they do not allow).
            libc::EPERM if written == 0 => Outcome::Fallback(0, libc::EPERM),
            e => Outcome::Error(written, e),
        };
    };
    if let Some(off) = offset {
        // From what moved, not from what the kernel left in `pos`: for some
        // sources (character devices such as /dev/zero) it does not
        // advance it.
        *off = start + written;
    }
    outcome
}
