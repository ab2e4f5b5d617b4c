//! The one call runner. Every blocking transfer call (zcopy_copy,
//! zcopy_splice, zcopy_sendfile and their `_opts` forms) is the same
//! sequence, written here once:
//!
//! 1. the argument checks every call makes (`Call::new`);
//! 2. the SIGPIPE guard, for the whole call;
//! 3. the bytes an interrupted call on this pair left (`inflight`), first;
//! 4. the body: the mechanism's loop (or the dispatch's row), which never
//!    parks: what it took and could not deliver it leaves in a `Held` this
//!    runner owns;
//! 5. the one decision about those bytes (`settle`): kept for the next
//!    call on the pair when the call may be resumed (ZCOPY_OPT_EINTR's
//!    EINTR, ZCOPY_OPT_NOWAIT's EAGAIN), else dropped with the error.
//!
//! How the fds are made non-blocking for the call (`nonblock`) stays with
//! each mechanism: which fd may wait in the kernel is its knowledge.

use super::control::Control;
use super::inflight;
use crate::stream::Held;
use crate::sys::sigpipe::without_sigpipe;
use crate::sys::transfer::{check_args, Transfer};

/// A transfer call whose arguments passed the checks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// The `method` a result reports before a mechanism ran.
    pub(crate) method: i32,
    pub(crate) dst: i32,
    pub(crate) src: i32,
    /// At most this many bytes (ZCOPY_ALL: until EOF); more than 0.
    pub(crate) remain: i64,
}

impl Call {
    /// The checks every call makes first: Err(its result) when the
    /// arguments end the call (a negative fd: EBADF, a negative `remain`:
    /// EINVAL, both handled; `remain` 0: done at once).
    pub(crate) fn new(method: i32, dst: i32, src: i32, remain: i64) -> Result<Call, Transfer> {
        if let Some(t) = check_args(method, dst, src, remain) {
            return Err(t);
        }
        if remain == 0 {
            return Err(Transfer::done(method, 0, 0));
        }
        Ok(Call {
            method,
            dst,
            src,
            remain,
        })
    }

    /// Runs `body(ctl, left, held)` as the module docs say. `may_hold`
    /// says whether this pair's call could end holding bytes at all (asked
    /// only when this thread's table of kept pairs is full: see
    /// `inflight::resume`). `body` returns the call's result for `left`
    /// bytes; the runner adds what the resume delivered.
    pub(crate) fn run(
        self,
        ctl: &mut Control,
        may_hold: impl FnOnce() -> bool,
        body: impl FnOnce(&mut Control, i64, &mut Held) -> Transfer,
    ) -> Transfer {
        let Call {
            method,
            dst,
            src,
            remain,
        } = self;
        without_sigpipe(|| {
            let mut held = Held::Nothing;
            let first = match inflight::resume(ctl, dst, src, remain, may_hold, &mut held) {
                // `remain` reached with kept bytes still to go: they stay
                // first in line.
                Ok(n) if n == remain || !held.is_empty() => {
                    settle(ctl, dst, src, held, 0);
                    return Transfer::done(method, n, 0);
                }
                Ok(n) => n,
                Err((n, e)) => {
                    settle(ctl, dst, src, held, e);
                    return Transfer::done(method, n, e);
                }
            };
            let t = body(ctl, remain - first, &mut held);
            settle(ctl, dst, src, held, t.error);
            t.after(first)
        })
    }
}

/// The one place that decides what becomes of bytes a call ends holding:
/// kept for the next call on (dst, src) when the call ended without an
/// error (`remain` reached first) or with one it may be resumed after;
/// dropped with any other error (as with any read/write loop: the caller
/// learns how far dst got from `written`).
fn settle(ctl: &Control, dst: i32, src: i32, held: Held, error: i32) {
    if !held.is_empty() && (error == 0 || ctl.resumable(error)) {
        inflight::park(dst, src, held);
    } else {
        held.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::options::Settings;

    fn pipe() -> [i32; 2] {
        let mut p = [0; 2];
        // SAFETY: room for two fds.
        assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        p
    }

    #[test]
    fn settle_keeps_only_what_a_resumable_end_left() {
        let (a, b) = (pipe(), pipe());
        let (dst, src) = (a[1], b[0]);
        let eintr = Control::new(Settings {
            eintr: true,
            ..Settings::default()
        });
        // An error the call cannot be resumed after: dropped.
        settle(&eintr, dst, src, Held::copy_of(b"abc"), libc::EPIPE);
        assert_eq!(inflight::held(dst, src), 0);
        // EAGAIN (a socket's own timeout) without ZCOPY_OPT_NOWAIT: dropped
        // too; under NOWAIT it would be kept.
        settle(&eintr, dst, src, Held::copy_of(b"abc"), libc::EAGAIN);
        assert_eq!(inflight::held(dst, src), 0);
        // EINTR asked for: kept for the next call on the pair.
        settle(&eintr, dst, src, Held::copy_of(b"abc"), libc::EINTR);
        assert_eq!(inflight::held(dst, src), 3);
        // The next call delivers them first, then goes on with src.
        let mut ctl = eintr.clone();
        let t = Call::new(0, dst, src, 2).unwrap().run(
            &mut ctl,
            || true,
            |_, _, _| unreachable!("2 kept bytes fill remain"),
        );
        assert_eq!((t.written, t.error), (2, 0));
        assert_eq!(inflight::held(dst, src), 1, "the rest stays first in line");
        assert_eq!(inflight::discard(dst, src), 1);
        let mut got = [0u8; 4];
        // SAFETY: got is valid for 4 bytes.
        let n = unsafe { libc::read(a[0], got.as_mut_ptr().cast(), 4) };
        assert_eq!(&got[..n as usize], b"ab");
        for fd in a.iter().chain(&b) {
            // SAFETY: the test owns these fds.
            unsafe { libc::close(*fd) };
        }
    }
}
