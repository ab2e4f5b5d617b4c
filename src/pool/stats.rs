//! The pool's counters (relaxed atomics, each read on its own) and the
//! `PoolStats` snapshot the C boundary hands out.
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of the global pipe pool (`zcopy_pool_stats` in the header).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Pipes parked in the pool now (the shared list and each thread's own
    /// slot).
    pub idle: u64,
    /// Pipes lent to calls (and to splicers) now.
    pub in_use: u64,
    /// Pipes created since start.
    pub created: u64,
    /// Times a call got an idle pipe instead of a new one.
    pub reused: u64,
    /// Pipes closed because they held data, overflowed the idle cap, or
    /// were inherited across fork(). (A pipe smaller than pipe_size, one
    /// the kernel refused to grow, is kept and lent at its real size.)
    pub discarded: u64,
}

pub(super) static IDLE: AtomicU64 = AtomicU64::new(0);
pub(super) static IN_USE: AtomicU64 = AtomicU64::new(0);
pub(super) static CREATED: AtomicU64 = AtomicU64::new(0);
pub(super) static REUSED: AtomicU64 = AtomicU64::new(0);
pub(super) static DISCARDED: AtomicU64 = AtomicU64::new(0);

/// A snapshot of the counters (each read atomically; the set is not one
/// atomic snapshot while other threads work).
pub fn stats() -> PoolStats {
    PoolStats {
        idle: IDLE.load(Relaxed),
        in_use: IN_USE.load(Relaxed),
        created: CREATED.load(Relaxed),
        reused: REUSED.load(Relaxed),
        discarded: DISCARDED.load(Relaxed),
    }
}
