//! The SIGPIPE guard: splice(2) and sendfile(2) take no MSG_NOSIGNAL, so a
//! write to a peer that is gone raises SIGPIPE. The guard blocks it in the
//! calling thread for one call (libpq's pattern), never process-wide.
//!
//! Cost on the plain path: one rt_sigaction read when SIGPIPE is already
//! ignored (Rust and Python programs, most servers: the kernel then drops a
//! SIGPIPE, so there is nothing to block or consume); otherwise two
//! rt_sigprocmask (the read itself only every 64th call once it found
//! SIGPIPE not ignored: see SEEN_NOT_IGNORED), and rt_sigpending only after
//! an EPIPE / ECONNRESET (the only errors that come with a SIGPIPE) or when
//! SIGPIPE was blocked already.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Blocks SIGPIPE in the calling thread for the length of one call, so that
/// writing to a socket or pipe whose reader is gone returns EPIPE instead of
/// killing the process. No process-wide handler is installed: the thread's
/// mask is restored afterwards, and only a SIGPIPE that the call itself
/// raised is consumed (one that was already pending stays pending).
pub struct SigpipeGuard {
    /// SIGPIPE was ignored at the start: nothing was changed.
    ignored: bool,
    was_blocked: bool,
    was_pending: bool,
    /// The errno the call ended with; set before the guard drops.
    pub error: i32,
}

fn sigpipe_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset with a valid signal.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
        set.assume_init()
    }
}

/// Calls (process-wide) that may still skip the disposition read: set when
/// a read found SIGPIPE not ignored. Blocking SIGPIPE is safe whatever the
/// disposition (a SIGPIPE raised while it is blocked is queued, then
/// consumed), so a stale "not ignored" only costs the two rt_sigprocmask a
/// read would have spared; "ignored" is never remembered, since a program
/// may restore SIG_DFL between two calls and the next EPIPE would kill it.
/// The count makes a later switch to SIG_IGN seen within that many calls.
static SEEN_NOT_IGNORED: AtomicU32 = AtomicU32::new(0);

/// Calls that skip the read after it found SIGPIPE not ignored.
const SKIP_READS: u32 = 64;

/// False when a recent read found SIGPIPE not ignored (then the guard
/// blocks it without asking again, and counts the call).
fn might_be_ignored() -> bool {
    let left = SEEN_NOT_IGNORED.load(Relaxed);
    if left == 0 {
        return true;
    }
    // A lost update between threads only shifts when the next read comes.
    SEEN_NOT_IGNORED.store(left - 1, Relaxed);
    false
}

/// True when SIGPIPE's disposition is SIG_IGN (one rt_sigaction read).
pub(crate) fn sigpipe_ignored() -> bool {
    let mut old = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a NULL new action only reads the current one into `old`.
    let r = unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), old.as_mut_ptr()) };
    // SAFETY: zeroed, then filled by the kernel on success.
    r == 0 && unsafe { old.assume_init() }.sa_sigaction == libc::SIG_IGN
}

fn sigpipe_pending() -> bool {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigpending fills the set.
    unsafe {
        if libc::sigpending(set.as_mut_ptr()) != 0 {
            return false;
        }
        libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
    }
}

impl Default for SigpipeGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl SigpipeGuard {
    /// Blocks SIGPIPE in this thread, unless its disposition is SIG_IGN. (A
    /// thread that sets SIGPIPE to SIG_DFL while another is inside a call
    /// races that call, as it would any write(2) to a closed peer.)
    pub fn new() -> SigpipeGuard {
        if might_be_ignored() {
            if sigpipe_ignored() {
                return SigpipeGuard {
                    ignored: true,
                    was_blocked: false,
                    was_pending: false,
                    error: 0,
                };
            }
            SEEN_NOT_IGNORED.store(SKIP_READS, Relaxed);
        }
        let set = sigpipe_set();
        let mut old = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: both sets are valid.
        let was_blocked = unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, old.as_mut_ptr()) == 0
                && libc::sigismember(old.as_ptr(), libc::SIGPIPE) == 1
        };
        // While SIGPIPE was unblocked none can be pending for this thread
        // (it would have been delivered), so only look when it was blocked.
        let was_pending = was_blocked && sigpipe_pending();
        SigpipeGuard {
            ignored: false,
            was_blocked,
            was_pending,
            error: 0,
        }
    }
}

impl Drop for SigpipeGuard {
    /// Consumes a SIGPIPE the call raised (only after EPIPE or ECONNRESET:
    /// no other outcome raises one) and restores the thread's mask. Runs on
    /// unwinding too, so the mask is never left changed.
    fn drop(&mut self) {
        if self.ignored {
            return;
        }
        let raised = matches!(self.error, libc::EPIPE | libc::ECONNRESET);
        if raised && !self.was_pending && sigpipe_pending() {
            let set = sigpipe_set();
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: valid set and timeout; the signal is blocked, so
            // sigtimedwait takes it off the pending set without delivering it.
            unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
        }
        if !self.was_blocked {
            let set = sigpipe_set();
            // SAFETY: valid set.
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        }
    }
}

/// Runs `f` with SIGPIPE blocked in this thread (see [`SigpipeGuard`]).
pub fn without_sigpipe<F: FnOnce() -> crate::Transfer>(f: F) -> crate::Transfer {
    let mut guard = SigpipeGuard::new();
    let t = f();
    guard.error = t.error;
    t
}
