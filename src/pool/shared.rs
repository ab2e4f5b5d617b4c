//! The shared idle list behind its pthread mutex.
use super::Pipe;
use std::cell::UnsafeCell;

/// A pthread mutex around the shared idle list. A raw pthread mutex rather
/// than std's so that the fork handlers can hold it across fork() and
/// re-initialise it in the child.
pub(super) struct Shared {
    pub(super) lock: UnsafeCell<libc::pthread_mutex_t>,
    pub(super) idle: UnsafeCell<Vec<Pipe>>,
}

// SAFETY: `idle` is only touched with `lock` held (or in the single-threaded
// child after fork, with the lock held by the prepare handler).
unsafe impl Sync for Shared {}

/// A plain static (no lazy initialiser): a fork() in another thread while a
/// lazy init ran would leave the child waiting for it forever.
pub(super) static SHARED: Shared = Shared {
    lock: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
    idle: UnsafeCell::new(Vec::new()),
};

pub(super) struct Locked<'a>(&'a Shared);

impl Shared {
    pub(super) fn lock(&self) -> Locked<'_> {
        // SAFETY: the mutex is initialised and lives forever.
        unsafe { libc::pthread_mutex_lock(self.lock.get()) };
        Locked(self)
    }
}

impl Locked<'_> {
    pub(super) fn idle(&mut self) -> &mut Vec<Pipe> {
        // SAFETY: the lock is held for the life of self.
        unsafe { &mut *self.0.idle.get() }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // SAFETY: locked by this thread in Shared::lock.
        unsafe { libc::pthread_mutex_unlock(self.0.lock.get()) };
    }
}
