//! Relays held back by a rate limit: no event will come for a direction
//! that waits for time, so the worker keeps a second heap of wake-up
//! times and steps such a relay when its time comes.

use super::Worker;
use crate::call::control::now_ns;
use crate::engine::slots::Token;

impl Worker {
    /// After a step that said Wait: if the relay waits for its rate limit,
    /// when to step it again.
    pub(super) fn schedule_wake(&mut self, t: Token) {
        let at = self
            .slots
            .get(t)
            .and_then(|live| live.job.as_ref())
            .and_then(|job| job.throttled_until());
        if let Some(at) = at {
            self.wakes.push(at, t.0);
        }
    }

    /// Queues every relay whose wake-up time has come.
    pub(super) fn wake_due(&mut self) {
        if self.wakes.next().is_none() {
            return;
        }
        let now = now_ns();
        while let Some((_, tok)) = self.wakes.pop_due(now) {
            let t = Token(tok);
            if let Some(live) = self.slots.get_mut(t) {
                if !live.queued {
                    live.queued = true;
                    self.run.push(t);
                }
            }
        }
    }

    /// The earliest of the next idle deadline and the next wake-up.
    pub(super) fn next_deadline(&self) -> Option<i64> {
        match (self.timers.next(), self.wakes.next()) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    }
}
