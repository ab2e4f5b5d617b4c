//! Bytes in flight kept across an interrupted call (ZCOPY_OPT_EINTR), or
//! one that found dst full under ZCOPY_OPT_NOWAIT.
//!
//! When a signal ends a call while bytes it took from src have not reached
//! dst yet (in a pooled pipe, in the read/write buffer, the byte past a TCP
//! urgent mark), dropping them would lose part of the stream, and the
//! caller cannot put them back. They are kept instead, per thread, keyed by
//! the (dst, src) fd numbers and the identity (device, inode) of both
//! files, and the next transfer call on this thread with the same fds
//! delivers them first, then goes on with src.
//!
//! A live pair's bytes are never dropped to make room. Every call that
//! may park (EINTR or NOWAIT asked) begins with `resume`, which also
//! admits it: with MAX_PARKED other pairs held, entries whose fds no
//! longer name the same files are discarded (their connection is gone:
//! no caller can still receive those bytes);
//! if every entry is live the call is refused with ENOBUFS before it takes
//! anything from src. So `park` always finds room for the one pair the call
//! runs on.
//!
//! What discards parked bytes (they are then lost, as with any error): a
//! later call or `held` on this thread finding other files behind the fd
//! numbers (an fd closed and reused); a timeout, cancellation or error
//! while delivering them; the thread's exit; fork() (the child never
//! delivers what the parent's thread held: the parent still owns the
//! stream, and a second copy would duplicate bytes in it).
//!
//! A thread with nothing parked pays one thread-local look per call.

use super::control::Control;
use super::deliver::deliver_held;
use crate::stream::Held;
use crate::sys::identity;
use std::cell::RefCell;
use std::collections::HashMap;

/// Pairs with bytes held per thread before a new pair is refused
/// (ENOBUFS). Large enough for an event loop with a thousand connections
/// stalled at once on one thread, small enough to bound what a thread can
/// pin: an entry is a pipe (2 fds and its pages) or a buffer of at most
/// one read/write chunk (BUFFER_SIZE, 256 KiB; usually far less: what dst
/// refused of one read). Past it the caller is told (ENOBUFS), never
/// robbed.
pub(crate) const MAX_PARKED: usize = 1024;

/// One interrupted pair's undelivered bytes.
struct Parked {
    ids: [(u64, u64); 2],
    /// The process that parked them (a forked child sees the entry too).
    pid: u32,
    held: Held,
}

impl Parked {
    fn held(&self) -> usize {
        self.held.len()
    }

    /// The same files are still behind both fds, and the entry (with its
    /// pipe, if any) is this process's, not inherited over fork.
    fn still_ours(&self, dst: i32, src: i32) -> bool {
        let same = matches!((identity(dst).ok(), identity(src).ok()),
            (Some(d), Some(s)) if self.ids == [d, s]);
        same && self.pid == std::process::id() && self.held.owned_by_this_process()
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        // A pipe holding bytes: closed, counted as discarded.
        self.held.take().discard();
    }
}

type Table = HashMap<(i32, i32), Parked>;

thread_local! {
    static PARKED: RefCell<Table> = RefCell::new(HashMap::new());
}

/// Runs `f` on this thread's table; None once the thread is exiting.
fn with_table<R>(f: impl FnOnce(&mut Table) -> R) -> Option<R> {
    PARKED.try_with(|t| f(&mut t.borrow_mut())).ok()
}

/// A call on a pair with nothing held, with the table full: Ok when the
/// call may go on, Err(ENOBUFS) when it could be left holding bytes
/// (`may_hold`, asked only here) that there is no room to keep. Entries of
/// closed or reused fds are discarded first. A call that can never park
/// (no EINTR, no NOWAIT) always goes on.
fn admit(ctl: &Control, may_hold: impl FnOnce() -> bool) -> Result<(), i32> {
    if !ctl.settings().eintr && !ctl.nowait() {
        return Ok(());
    }
    let room = with_table(|t| {
        t.retain(|&(d, s), p| p.still_ours(d, s));
        t.len() < MAX_PARKED
    });
    match room {
        Some(false) if may_hold() => Err(libc::ENOBUFS),
        _ => Ok(()),
    }
}

/// zcopy_held: the bytes this thread keeps for (dst, src), 0 when none or
/// when other files are now behind those fds (that entry is discarded).
pub(crate) fn held(dst: i32, src: i32) -> i64 {
    with_table(|t| {
        if t.is_empty() {
            return 0;
        }
        let Some(p) = t.get(&(dst, src)) else {
            return 0;
        };
        if p.still_ours(dst, src) {
            return p.held() as i64;
        }
        t.remove(&(dst, src));
        0
    })
    .unwrap_or(0)
}

/// zcopy_held_discard: drops what this thread keeps for (dst, src) (its
/// pipe is closed, never pooled) and returns how many bytes that was (0
/// when the entry no longer matched the files behind the fds).
pub(crate) fn discard(dst: i32, src: i32) -> i64 {
    with_table(|t| match t.remove(&(dst, src)) {
        Some(p) if p.still_ours(dst, src) => p.held() as i64,
        _ => 0,
    })
    .unwrap_or(0)
}

/// Keeps `held` for the next call on (dst, src); only the call runner
/// (`runner::settle`) calls this. Never drops another pair's bytes: the
/// call began with `resume`, which took this pair's entry out or admitted
/// the pair, so the pair has no entry here and the table has room.
pub(crate) fn park(dst: i32, src: i32, held: Held) {
    if held.is_empty() {
        held.discard();
        return;
    }
    // An fd closed under the call (by another thread): nothing can be
    // delivered to or from it any more.
    let (Some(d), Some(s)) = (identity(dst).ok(), identity(src).ok()) else {
        held.discard();
        return;
    };
    let entry = Parked {
        ids: [d, s],
        pid: std::process::id(),
        held,
    };
    with_table(|t| {
        let old = t.insert((dst, src), entry);
        debug_assert!(old.is_none(), "a pair parked twice in one call");
    });
}

/// What this thread holds for a pair.
enum Found {
    /// Its undelivered bytes, taken out of the table.
    Held(Parked),
    /// Nothing; `full`: the table has no room for another pair.
    Nothing { full: bool },
}

/// Takes what is parked for (dst, src), if the same files are still behind
/// both fds (else it is discarded). One thread-local look; a thread with
/// nothing parked pays only that.
fn take(dst: i32, src: i32) -> Found {
    let found = with_table(|t| {
        if t.is_empty() {
            return Found::Nothing { full: false };
        }
        match t.remove(&(dst, src)) {
            Some(p) => Found::Held(p),
            None => Found::Nothing {
                full: t.len() >= MAX_PARKED,
            },
        }
    });
    match found {
        Some(Found::Held(p)) if !p.still_ours(dst, src) => Found::Nothing { full: false },
        Some(f) => f,
        None => Found::Nothing { full: false },
    }
}

/// Delivers what an interrupted call on (dst, src) left, at most `remain`
/// bytes, before the call goes on with src. Ok(bytes delivered); Err with
/// the bytes delivered and the errno that stopped it (EINTR again, or
/// EAGAIN under NOWAIT; or ENOBUFS with 0: see below). What is left is in
/// `rest`, for the call runner to keep or drop.
///
/// Also the admission of every call that may park: with nothing held for
/// the pair and MAX_PARKED other pairs held, a call that `may_hold` bytes
/// in flight (asked only then) is refused with ENOBUFS here, before it
/// takes anything from src, once entries of closed or reused fds have been
/// discarded. That is why `park` always has room.
pub(crate) fn resume(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    remain: i64,
    may_hold: impl FnOnce() -> bool,
    rest: &mut Held,
) -> Result<i64, (i64, i32)> {
    let mut p = match take(dst, src) {
        Found::Held(p) => p,
        Found::Nothing { full: false } => return Ok(0),
        Found::Nothing { full: true } => {
            return admit(ctl, may_hold).map(|()| 0).map_err(|e| (0, e))
        }
    };
    *rest = p.held.take();
    let max = usize::try_from(remain).unwrap_or(usize::MAX);
    match deliver_held(ctl, rest, dst, max) {
        (n, 0) => Ok(n as i64),
        (n, e) => Err((n as i64, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::options::Settings;

    fn dev_null() -> i32 {
        // SAFETY: a NUL-terminated path.
        unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) }
    }

    #[test]
    fn a_full_table_refuses_new_pairs_and_reused_fds_make_room() {
        let mut ctl = Control::new(Settings {
            nowait: true,
            ..Settings::default()
        });
        // 32 x 32 pairs of fds naming one file: MAX_PARKED entries.
        let fds: Vec<i32> = (0..33).map(|_| dev_null()).collect();
        for &d in &fds[..32] {
            for &s in &fds[..32] {
                park(d, s, Held::copy_of(b"xy"));
            }
        }
        assert_eq!(held(fds[3], fds[4]), 2);
        let (d, s) = (fds[32], fds[0]);
        assert_eq!(
            resume(&mut ctl, d, s, 10, || true, &mut Held::Nothing),
            Err((0, libc::ENOBUFS))
        );
        // A call that can hold nothing, or a plain one, is not refused.
        assert_eq!(
            resume(&mut ctl, d, s, 10, || false, &mut Held::Nothing),
            Ok(0)
        );
        assert_eq!(
            resume(&mut Control::plain(), d, s, 10, || true, &mut Held::Nothing),
            Ok(0)
        );
        // fds[0]'s number reused by another file: its 63 pairs are dead.
        let (mut p, t) = ([0; 2], fds[0]);
        // SAFETY: room for two fds; t is ours.
        unsafe {
            assert_eq!(libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC), 0);
            assert_eq!(libc::dup2(p[0], t), t);
        }
        assert_eq!(
            resume(&mut ctl, d, s, 10, || true, &mut Held::Nothing),
            Ok(0)
        );
        assert_eq!(with_table(|t| t.len()), Some(MAX_PARKED - 63));
        assert_eq!(held(fds[0], fds[1]), 0);
        assert_eq!(held(fds[5], fds[6]), 2, "live pairs keep their bytes");
        with_table(|t| t.clear());
        for fd in fds.iter().chain(&p) {
            // SAFETY: the test owns these fds.
            unsafe { libc::close(*fd) };
        }
    }
}
