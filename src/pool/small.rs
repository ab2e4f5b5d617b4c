//! Whether the pool lends small pipes lately: what a relay direction asks
//! before it borrows one for a bulk take (relay/direction/mode.rs).
//!
//! A pipe below SMALL_PIPE is one the kernel would not grow (past
//! pipe-user-pages-soft every new pipe is 8 KiB and F_SETPIPE_SZ answers
//! EPERM), one the budget made small (16 KiB with thousands alive), or one
//! the user configured so. Through such a pipe every splice moves at most
//! a few pages and costs as much as a large one: a direction copies
//! instead. It cannot see the size without borrowing a pipe, so the pool
//! remembers when a small one last came back; for RETRY_NS after that the
//! answer is "small" without a borrow. Then the next direction borrows one
//! again (and gives it straight back if it is still small), and that
//! release is when the pool tries to grow it (its own grow is retried
//! after RETRY_NS too): so a process past the limit pays about one borrow
//! and one refused fcntl per RETRY_NS, and one whose user got back under
//! the limit returns to splicing within about two.
use super::budget::{coarse_ns, RETRY_NS};
use super::PIPE_SIZE;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// Pipes below this many bytes are small (the figures: mode.rs).
pub(crate) const SMALL_PIPE: u64 = 64 * 1024;

/// When a small pipe last came back to the pool (CLOCK_MONOTONIC_COARSE
/// ns); 0: since the last large one, none.
static SMALL_AT: AtomicI64 = AtomicI64::new(0);

/// An empty pipe of `capacity` bytes came back (after the pool's grow, if
/// it tried one).
pub(super) fn returned(capacity: u64) {
    if capacity < SMALL_PIPE {
        SMALL_AT.store(coarse_ns().max(1), Relaxed);
    } else if SMALL_AT.load(Relaxed) != 0 {
        SMALL_AT.store(0, Relaxed);
    }
}

/// True when a pipe borrowed now would be below SMALL_PIPE: the configured
/// size is (the kernel rounds a size up to a power of two pages, so 60 000
/// is 64 KiB and not small), or a small one came back in the last
/// RETRY_NS and no large one since. No system call.
pub(crate) fn lends_small() -> bool {
    let at = SMALL_AT.load(Relaxed);
    // The clock only matters once a small pipe came back.
    let now = if at != 0 { coarse_ns() } else { 0 };
    small_now(PIPE_SIZE.load(Relaxed), at, now)
}

/// The decision: configured size `size`, a small pipe back at `at` (0:
/// none since a large one), the time `now`.
fn small_now(size: u64, at: i64, now: i64) -> bool {
    size.next_power_of_two() < SMALL_PIPE || (at != 0 && now - at < RETRY_NS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table() {
        const MIB: u64 = 1 << 20;
        // (configured size, small pipe back at, now) -> small
        let rows = [
            (MIB, 0, 0, false),                // none small lately
            (MIB, 5, 5 + RETRY_NS - 1, true),  // one just came back
            (MIB, 5, 5 + RETRY_NS, false),     // long ago: borrow again
            (8192, 0, 0, true),                // configured small
            (60_000, 0, 0, false),             // the kernel makes it 64 KiB
            (SMALL_PIPE / 2 + 1, 0, 0, false), // rounded up to 64 KiB too
            (SMALL_PIPE / 2, 0, 0, true),      // 32 KiB
        ];
        for (size, at, now, want) in rows {
            assert_eq!(
                small_now(size, at, now),
                want,
                "size {size} at {at} now {now}"
            );
        }
    }
}
