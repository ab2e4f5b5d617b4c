//! The engine's counters: one line per worker, summed by `stats`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one worker, on a cache line of their own (each worker
/// writes only its own; `stats` sums them).
#[repr(align(64))]
#[derive(Debug, Default)]
pub struct Counters {
    finished: AtomicU64,
    bytes: AtomicU64,
    pipes: AtomicU64,
}

impl Counters {
    pub(super) fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Relaxed);
    }
    /// `n` may be a wrapped negative delta: a worker's line only ever
    /// holds the sum of its own live relays' pipes, so it never goes below 0.
    pub(super) fn add_pipes(&self, n: u64) {
        self.pipes.fetch_add(n, Relaxed);
    }
    pub(super) fn finish_one(&self) {
        self.finished.fetch_add(1, Relaxed);
    }
    /// Adds this worker's line to `s` (each counter read atomically).
    pub(super) fn add_to(&self, s: &mut EngineStats) {
        s.finished += self.finished.load(Relaxed);
        s.bytes = s.bytes.wrapping_add(self.bytes.load(Relaxed));
        s.pipes_in_use = s.pipes_in_use.wrapping_add(self.pipes.load(Relaxed));
    }
}

/// Engine counters, as in `zcopy_engine_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Relays running now (added and not yet ended).
    pub active: u64,
    /// Relays ended since the engine started (their done was called or is
    /// being called).
    pub finished: u64,
    /// Bytes delivered, both directions, all relays, since start.
    pub bytes: u64,
    /// Pool pipes held by the engine's relays now (bytes in flight).
    pub pipes_in_use: u64,
}
