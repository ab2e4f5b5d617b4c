//! How a relay leaves a worker: its last bytes counted, its fds
//! unregistered before `done` runs (the callback usually closes them, and
//! a closed fd number may come back at once for another relay), its job
//! dropped (flags restored, pipes back to the pool), then `done`, once,
//! guarded.

use super::Worker;
use crate::engine::job::{Job, RelayResult};
use crate::engine::slots::Token;
use crate::engine::EPANIC;
use std::panic::{catch_unwind, AssertUnwindSafe};

impl Worker {
    /// Ends a relay early with `error` (see `end_with`).
    pub(super) fn end(&mut self, t: Token, error: i32, error_fd: i32) {
        self.end_with(t, Err((error, error_fd)));
    }

    /// Ends a relay: accounts its last bytes, unregisters its fds, closes
    /// the cancel dup, drops the job (its fds get their flags back, its
    /// pipes go back to the pool), then calls `done` once, guarded.
    pub(super) fn end_with(&mut self, t: Token, how: Result<RelayResult, (i32, i32)>) {
        self.account(t);
        let Some(mut live) = self.slots.remove(t) else {
            return;
        };
        self.epoll.delete(live.a);
        self.epoll.delete(live.b);
        if let Some(c) = live.cancel.take() {
            self.epoll.delete(c);
            // SAFETY: the engine's own dup, closed only here.
            unsafe { libc::close(c) };
        }
        if live.idle_ns > 0 {
            self.timed -= 1;
        }
        let job = live.job.take().expect("a live relay has its job");
        let result = finish(job, how);
        // The files are free again before `done`, which may relay them anew.
        if let Some(c) = live.claim.take() {
            self.by_id.remove(&c.handle.id);
            c.handle.set_counts((result.a_to_b, result.b_to_a));
            self.shared.registry.release(&c);
        }
        let counters = &self.shared.counters;
        counters.add_pipes(0u64.wrapping_sub(live.pipes));
        counters.finish_one();
        if let Some(done) = live.done.take() {
            // A panicking Rust callback must not take the worker down; a C
            // callback cannot unwind into Rust.
            let _ = catch_unwind(AssertUnwindSafe(move || done(result)));
        }
    }

    /// Ends every adopted relay with `error`.
    pub(super) fn end_live(&mut self, error: i32) {
        for t in self.slots.tokens() {
            self.end(t, error, -1);
        }
    }

    /// The engine is stopping (or epoll failed): ends every relay, adopted
    /// or still in the inbox, with `error`, and refuses new ones.
    pub(super) fn end_all(&mut self, error: i32) {
        self.end_live(error);
        loop {
            // A done callback may add again; such adds see `stop` and fail,
            // but one that raced ahead of it is still ended here.
            let jobs = {
                let mut inbox = self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
                inbox.stop = true;
                std::mem::take(&mut inbox.jobs)
            };
            if jobs.is_empty() {
                break;
            }
            for mut nr in jobs {
                if let Some(c) = nr.cancel.take() {
                    // SAFETY: the engine's own dup.
                    unsafe { libc::close(c) };
                }
                let result = finish(nr.job, Err((error, -1)));
                if let Some(c) = nr.claim.take() {
                    self.shared.registry.release(&c);
                }
                self.shared.counters.finish_one();
                if let Some(done) = nr.done.take() {
                    let _ = catch_unwind(AssertUnwindSafe(move || done(result)));
                }
            }
        }
    }
}

/// The result of a relay: the step's own, or `finish` with an early error.
/// A panic in finish gives ZCOPY_EPANIC with no byte counts (the job's
/// state is unknown after a panic).
fn finish(job: Box<dyn Job>, how: Result<RelayResult, (i32, i32)>) -> RelayResult {
    match how {
        Ok(r) => {
            // Dropping restores the fds' flags and returns the pipes.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(job)));
            r
        }
        Err((error, fd)) => catch_unwind(AssertUnwindSafe(move || job.finish(error, fd)))
            .unwrap_or(RelayResult {
                a_to_b: 0,
                b_to_a: 0,
                error: EPANIC,
                error_fd: -1,
            }),
    }
}
