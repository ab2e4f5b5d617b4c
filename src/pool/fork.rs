//! The pool across fork(): parent and child would share every pooled pipe,
//! and two processes splicing through one kernel pipe mix their bytes.
//! pthread_atfork handlers, registered when the library is loaded, hold the
//! pool lock across fork (so the child never inherits it locked) and, in
//! the child, close the inherited idle pipes and start a new generation.

use super::{DISCARDED, GENERATION, IDLE, IN_USE, SHARED, SLOT};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Registers the fork handlers once. Called at load time (below), so that
/// they exist before any pipe can; `acquire` calls it too, for a static
/// link that left the constructor out. Two racing first calls both find
/// REGISTERED and only one registers.
pub(super) fn register_fork_handlers() {
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    if !REGISTERED.load(Relaxed) && !REGISTERED.swap(true, Relaxed) {
        // SAFETY: the handlers only touch statics that need no init.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_parent),
                Some(after_fork_child),
            )
        };
    }
}

/// Runs when the library is loaded (dynamic loader, dlopen, or program
/// start for a static link), before any other code of this crate: no pipe
/// can be pooled before the handlers exist, so there is no window in which
/// a fork() would hand the child a pipe the parent keeps using.
extern "C" fn register_at_load() {
    register_fork_handlers();
}

#[used]
#[link_section = ".init_array"]
static REGISTER_AT_LOAD: extern "C" fn() = register_at_load;

extern "C" fn before_fork() {
    // SAFETY: see Shared; unlocked again by one of the two handlers below.
    unsafe { libc::pthread_mutex_lock(SHARED.lock.get()) };
}

extern "C" fn after_fork_parent() {
    // SAFETY: locked by before_fork in this thread.
    unsafe { libc::pthread_mutex_unlock(SHARED.lock.get()) };
}

extern "C" fn after_fork_child() {
    GENERATION.fetch_add(1, Relaxed);
    // The child is single-threaded and before_fork holds the lock, so the
    // list is consistent. Close every inherited idle pipe (close(2) is
    // async-signal-safe; popping a Vec does not allocate), and this thread's
    // own slot pipe. Pipes lent by, or parked in the slots of, the parent's
    // other threads cannot be reached from here: they are never used in the
    // child (their generation is old), do not count as idle or in use, and
    // their fds close on exec (O_CLOEXEC).
    // SAFETY: exclusive access as argued above.
    let idle = unsafe { &mut *SHARED.idle.get() };
    let mut closed = 0;
    while let Some(p) = idle.pop() {
        drop(p);
        closed += 1;
    }
    if let Ok(Some(p)) = SLOT.try_with(|s| s.0.take()) {
        drop(p);
        closed += 1;
    }
    DISCARDED.fetch_add(closed, Relaxed);
    IDLE.store(0, Relaxed);
    IN_USE.store(0, Relaxed);
    // SAFETY: re-initialise rather than unlock: the owner recorded in the
    // mutex is the parent's thread.
    unsafe {
        *SHARED.lock.get() = libc::PTHREAD_MUTEX_INITIALIZER;
    }
}
