//! Idle timeouts of one worker: a min-heap of (deadline, token), kept lazy.
//!
//! Invariant: every live relay with an idle timeout has exactly one entry
//! in the heap, and that entry's deadline is at or before the relay's real
//! deadline. A relay that moves bytes only moves its own deadline field
//! (no heap operation on the hot path); when its entry comes due, the
//! worker compares with the real deadline and either ends the relay
//! (ETIMEDOUT) or pushes the entry again at the real deadline. Entries of
//! relays that ended stay until they come due or a compaction removes them,
//! so the heap never holds more than about twice the live relays.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The heap of idle deadlines (monotonic ns) with the relay tokens they
/// belong to.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(i64, u64)>>,
}

impl Timers {
    /// Adds an entry.
    pub fn push(&mut self, deadline: i64, token: u64) {
        self.heap.push(Reverse((deadline, token)));
    }

    /// The earliest deadline, if any.
    pub fn next(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse((d, _))| *d)
    }

    /// Takes the earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: i64) -> Option<(i64, u64)> {
        match self.heap.peek() {
            Some(Reverse((d, _))) if *d <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Entries held (live and stale).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops the entries whose token `live` rejects (relays that ended).
    pub fn retain(&mut self, mut live: impl FnMut(u64) -> bool) {
        self.heap.retain(|Reverse((_, t))| live(*t));
    }
}

/// epoll_wait's timeout in milliseconds for a deadline (monotonic ns),
/// rounded up so that the worker never wakes before it (waking a little
/// late is allowed, early would only loop); -1 when there is none.
pub fn timeout_ms(deadline: Option<i64>, now: i64) -> i32 {
    match deadline {
        None => -1,
        Some(d) => (((d - now).max(0) + 999_999) / 1_000_000).min(i32::MAX as i64) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_entries_come_out_in_deadline_order() {
        let mut t = Timers::default();
        t.push(30, 3);
        t.push(10, 1);
        t.push(20, 2);
        assert_eq!(t.next(), Some(10));
        assert_eq!(t.pop_due(5), None);
        assert_eq!(t.pop_due(25), Some((10, 1)));
        assert_eq!(t.pop_due(25), Some((20, 2)));
        assert_eq!(t.pop_due(25), None);
        t.retain(|tok| tok != 3);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn timeouts_round_up() {
        assert_eq!(timeout_ms(None, 0), -1);
        assert_eq!(timeout_ms(Some(1), 0), 1);
        assert_eq!(timeout_ms(Some(1_000_000), 0), 1);
        assert_eq!(timeout_ms(Some(1_000_001), 0), 2);
        assert_eq!(timeout_ms(Some(5), 10), 0);
    }
}
