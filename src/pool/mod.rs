//! The global pipe pool: the pipes that splice(2) needs between two fds
//! that are not pipes themselves.
//!
//! Design:
//! - A pipe is made with pipe2(O_CLOEXEC | O_NONBLOCK) and sized with
//!   F_SETPIPE_SZ to what `budget` decides (the configured size, or less
//!   for an unprivileged process with many pipes, so that the user's
//!   pipe-user-pages-soft is not used up); a refusal is not an error (past
//!   that limit the kernel hands out 2-page pipes that cannot grow; they
//!   still work, with more system calls).
//! - Each thread keeps one idle pipe in a thread-local slot in front of the
//!   shared list (as HAProxy does), so the common get/put pair takes no lock.
//!   A thread's slot goes back to the shared list when the thread exits.
//! - A pipe goes back to the pool only when it is empty (it counts its
//!   bytes, see `pipe`), so no transfer ever sees another's bytes. A pipe
//!   smaller than promised is kept too, and lent at its real size (every
//!   borrower sizes its splices by `Pipe::capacity`): closing it would only
//!   make the next borrower pay pipe2 + fcntl + two closes for a pipe no
//!   bigger while the limit is hit. It is grown again when it comes back
//!   and the budget allows (see `budget`). At most `max_idle` idle pipes
//!   (of any size) are kept; the rest are closed.
//! - Pipes are lent for as long as the borrower likes (a `Splicer` keeps its
//!   pipe across event-loop turns), so nothing here assumes a lend is short.
//! - fork(): parent and child would share every pooled pipe, and two
//!   processes splicing through one kernel pipe mix their bytes. A
//!   pthread_atfork handler (registered when the library is loaded, before
//!   any pipe can exist) holds the pool lock across fork (so the child
//!   never inherits it locked), and in the child closes the shared idle list
//!   and starts a new generation. Every pipe carries the generation it was
//!   made in; a pipe from an older generation (a thread slot, a splicer's) is
//!   closed instead of used, and counted in `discarded`.

mod budget;
mod fork;
pub(crate) mod pipe;
mod shared;
mod small;
mod stats;

pub use pipe::Pipe;
use shared::SHARED;
pub(crate) use small::{lends_small, SMALL_PIPE};
pub use stats::{stats, PoolStats};
use stats::{CREATED, DISCARDED, IDLE, IN_USE, REUSED};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Default pipe size: 1 MiB, the default pipe-max-size and Go's chunk.
pub const DEFAULT_PIPE_SIZE: u64 = 1 << 20;
/// Default idle cap. 1 MiB pipes are 256 pages each; 16 of them use a
/// quarter of the default pipe-user-pages-soft (16384 pages), leaving room
/// for pipes in use and for the rest of the process.
pub const DEFAULT_MAX_IDLE: u64 = 16;
/// Largest accepted `pipe_size` (the kernel refuses more than 2 GiB anyway).
pub const MAX_PIPE_SIZE: u64 = 1 << 30;
/// Largest accepted `max_idle`.
pub const MAX_MAX_IDLE: u64 = 1 << 16;

/// True when the pipe was made in this process (not inherited across
/// fork).
pub(crate) fn owned_by_this_process(p: &Pipe) -> bool {
    p.generation == GENERATION.load(Relaxed)
}

/// How many fork()s this process is away from the one that loaded the
/// library (bumped in the child by the pool's atfork handler): an object
/// that remembers it at creation can tell, in a child, that it was
/// inherited (the engine: its threads exist only in the parent).
pub(crate) fn fork_generation() -> u64 {
    GENERATION.load(Relaxed)
}

/// True when the pipe was made in this process for the pool's current
/// pipe size.
fn current(p: &Pipe) -> bool {
    owned_by_this_process(p) && p.wanted() == PIPE_SIZE.load(Relaxed)
}

static MAX_IDLE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_IDLE);
static PIPE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_PIPE_SIZE);
/// Bumped in the child after each fork(); pipes of older generations are
/// never used.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The thread's own idle pipe, in front of the shared list. On thread exit
/// it goes back to the shared list (or is closed past the cap).
struct ThreadSlot(Cell<Option<Pipe>>);

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            IDLE.fetch_sub(1, Relaxed);
            park_shared(p);
        }
    }
}

thread_local! {
    static SLOT: ThreadSlot = const { ThreadSlot(Cell::new(None)) };
}

/// Counts a pipe as taken out of the idle set.
fn take_idle(p: Pipe) -> Result<Pipe, Pipe> {
    IDLE.fetch_sub(1, Relaxed);
    if current(&p) {
        Ok(p)
    } else {
        // Inherited across fork, or made before the size was changed.
        if !owned_by_this_process(&p) {
            DISCARDED.fetch_add(1, Relaxed);
        }
        Err(p)
    }
}

/// Borrows a pipe: the thread's idle one, else one from the shared list,
/// else a new one. Err(errno) when no pipe can be made (EMFILE, ENFILE).
pub fn acquire() -> Result<Pipe, i32> {
    if let Some(p) = SLOT.try_with(|s| s.0.take()).ok().flatten() {
        if let Ok(p) = take_idle(p) {
            REUSED.fetch_add(1, Relaxed);
            IN_USE.fetch_add(1, Relaxed);
            return Ok(p);
        }
    }
    let shared = &SHARED;
    loop {
        let popped = shared.lock().idle().pop();
        match popped {
            Some(p) => {
                if let Ok(p) = take_idle(p) {
                    REUSED.fetch_add(1, Relaxed);
                    IN_USE.fetch_add(1, Relaxed);
                    return Ok(p);
                }
            }
            None => break,
        }
    }
    fork::register_fork_handlers();
    let wanted = PIPE_SIZE.load(Relaxed);
    let ask = budget::ask(wanted, IDLE.load(Relaxed) + IN_USE.load(Relaxed), 0);
    let (p, grow) = Pipe::create(wanted, ask, GENERATION.load(Relaxed))?;
    budget::noted(grow, ask);
    CREATED.fetch_add(1, Relaxed);
    IN_USE.fetch_add(1, Relaxed);
    Ok(p)
}

/// Returns a borrowed pipe. The pool keeps it only when it is empty (a
/// pipe holding bytes would hand them to the next borrower); one holding
/// bytes is closed, and counted in `discarded`. A pipe smaller than
/// promised is kept (see `regrow`).
pub fn release(mut p: Pipe) {
    if !owned_by_this_process(&p) {
        // Lent before a fork: not counted in this process's in_use.
        DISCARDED.fetch_add(1, Relaxed);
        return;
    }
    IN_USE.fetch_sub(1, Relaxed);
    if p.held() != 0 {
        DISCARDED.fetch_add(1, Relaxed);
        return;
    }
    if !current(&p) {
        // The pipe size changed since it was made: close it quietly.
        return;
    }
    // Claim an idle place first, so idle never exceeds max_idle.
    if !claim_idle_place() {
        DISCARDED.fetch_add(1, Relaxed);
        return;
    }
    // Kept: a small one may grow now (not before: one over the cap is
    // closed, a grow would be wasted on it).
    if p.capacity() < p.wanted() {
        regrow(&mut p);
    }
    small::returned(p.capacity());
    // The thread's own slot first; when it is taken (or the thread is
    // exiting and its slot is gone), the shared list.
    let mut spare = Some(p);
    let _ = SLOT.try_with(|s| {
        let old = s.0.take();
        if old.is_none() {
            s.0.set(spare.take());
        } else {
            s.0.set(old);
        }
    });
    if let Some(p) = spare {
        park_counted(p);
    }
}

/// An empty pipe smaller than promised came back: the kernel refused to
/// grow it (past pipe-user-pages-soft: pipe_set_size's EPERM), or the
/// budget asked for less while many pipes were alive. Grows it to what
/// the budget allows now when that is more, unless a grow was refused in
/// the last moments (`budget::may_grow`: no syscall per release while the
/// limit is hit). It is kept either way: at its real size it still works,
/// and a new pipe would come out no bigger.
fn regrow(p: &mut Pipe) {
    if !budget::may_grow() {
        return;
    }
    // Alive besides p: p is no longer counted in use, and its idle place
    // is already claimed.
    let others = IDLE.load(Relaxed).saturating_sub(1) + IN_USE.load(Relaxed);
    let target = budget::ask(p.wanted(), others, p.capacity() / 4096);
    if target > p.capacity() {
        let grow = p.resize(target);
        budget::noted(grow, target);
    }
}

/// Reserves one place under the idle cap.
fn claim_idle_place() -> bool {
    let max = MAX_IDLE.load(Relaxed);
    IDLE.fetch_update(
        Relaxed,
        Relaxed,
        |n| if n < max { Some(n + 1) } else { None },
    )
    .is_ok()
}

/// Puts a pipe whose idle place is already counted on the shared list.
fn park_counted(p: Pipe) {
    SHARED.lock().idle().push(p);
}

/// Puts an uncounted pipe on the shared list, or closes it past the cap.
fn park_shared(p: Pipe) {
    if current(&p) && claim_idle_place() {
        park_counted(p);
    } else if !owned_by_this_process(&p) || current(&p) {
        // Inherited across fork, or over the cap. (A pipe of an old size is
        // closed quietly.)
        DISCARDED.fetch_add(1, Relaxed);
    }
}

/// Closes every idle pipe on the shared list and the calling thread's own
/// idle pipe; returns how many were closed. Idle pipes held in other live
/// threads' slots stay (they go back to the shared list when those threads
/// exit).
pub fn drain() -> u64 {
    let mut n = 0;
    if let Ok(Some(p)) = SLOT.try_with(|s| s.0.take()) {
        IDLE.fetch_sub(1, Relaxed);
        drop(p);
        n += 1;
    }
    let taken = std::mem::take(SHARED.lock().idle());
    IDLE.fetch_sub(taken.len() as u64, Relaxed);
    n += taken.len() as u64;
    drop(taken);
    n
}

/// Sets the idle cap and the size of new pipes; 0 keeps a value.
/// Err(EINVAL) when a value is out of range (max_idle above 65536,
/// pipe_size below 4096 or above 1 GiB).
pub fn configure(max_idle: u64, pipe_size: u64) -> Result<(), i32> {
    if max_idle > MAX_MAX_IDLE || (pipe_size != 0 && !(4096..=MAX_PIPE_SIZE).contains(&pipe_size)) {
        return Err(libc::EINVAL);
    }
    if max_idle != 0 {
        MAX_IDLE.store(max_idle, Relaxed);
    }
    if pipe_size != 0 {
        // The user's size wins over the budget (see `budget`).
        budget::EXPLICIT.store(true, Relaxed);
    }
    if pipe_size != 0 && pipe_size != PIPE_SIZE.load(Relaxed) {
        PIPE_SIZE.store(pipe_size, Relaxed);
        // Old-size pipes would be refused on the next acquire anyway; close
        // the shared ones now.
        drain();
    }
    // Trim to the new cap.
    let extra = {
        let mut l = SHARED.lock();
        let max = MAX_IDLE.load(Relaxed);
        let idle = IDLE.load(Relaxed);
        let cut = (idle.saturating_sub(max) as usize).min(l.idle().len());
        let keep = l.idle().len() - cut;
        l.idle().split_off(keep)
    };
    IDLE.fetch_sub(extra.len() as u64, Relaxed);
    DISCARDED.fetch_add(extra.len() as u64, Relaxed);
    drop(extra);
    Ok(())
}

/// The current size that new pipes are made with.
pub fn pipe_size() -> u64 {
    PIPE_SIZE.load(Relaxed)
}

/// The current idle cap.
pub fn max_idle() -> u64 {
    MAX_IDLE.load(Relaxed)
}
