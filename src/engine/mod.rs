//! The relay engine: thousands of relays (zcopy_relay's semantics) driven
//! by a few threads of the engine's own, each with an epoll loop.
//!
//! Layout:
//! - here: `Engine` (new, add, stats, drop) and the counters;
//! - engine/worker.rs: one thread's loop;
//! - engine/relay_job.rs: a `Relay` (src/relay) as a worker drives it;
//! - engine/job.rs, slots.rs, timers.rs, epoll.rs: the pieces.
//!
//! Design decisions:
//! - Relays go to the workers round robin; a relay stays on its worker for
//!   life, so a relay's state is touched by one thread only and needs no
//!   lock. `add` validates in the caller's thread (every argument error is
//!   its return value), then hands the relay over through the worker's
//!   inbox (a mutex and an eventfd).
//! - Workers block every signal (the mask is inherited at spawn), so the
//!   per-step SIGPIPE guard of the plain calls is not needed there.
//! - Sockets are registered level-triggered for what the relay's
//!   directions wait for (its `Interest`, re-armed with epoll_ctl only when
//!   it changes), and the relay runs in level mode: a round trip costs one
//!   epoll_wait (shared by the connections ready together) and two splices
//!   per direction, no EAGAIN probe (see engine/epoll.rs, relay_job.rs).
//! - Pipes come from the pool only while bytes are in flight (the relay's
//!   rule), so idle relays hold none; `pipes_in_use` counts them.
//! - The idle timeout is the worker's: a deadline per relay, moved when
//!   bytes move, and a lazy heap (timers.rs) that sets epoll_wait's
//!   timeout. A cancel fd is dup'ed and the dup watched in epoll (one fd
//!   may cancel many relays; epoll watches a file once per fd number).
//! - One file, one relay: the identities (st_dev, st_ino) of the fds of
//!   every running relay are kept in one set per engine (registry.rs), so an
//!   fd already relayed, a dup of it, or a pair added again reversed is
//!   refused with EEXIST in the caller's thread, and the running relay is
//!   left alone. A worker takes a relay's identities out before its
//!   `done` runs, so `done` may hand the same fds to a new relay.
//! - fork(): the threads exist only in the parent. An engine remembers
//!   the pool's fork generation when it is made; in a child, add refuses
//!   with ESTALE and drop only closes the child's copies of the engine's
//!   epoll and eventfd fds (no lock is taken, no thread is woken or
//!   joined: a lock may have been held by a parent thread at the fork).

mod add;
mod epoll;
mod job;
mod registry;
mod relay_job;
mod slots;
mod stats;
mod timers;
mod worker;

pub use job::RelayResult;
use stats::Counters;
pub use stats::EngineStats;

use registry::Registry;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use worker::{Inbox, Shared};

/// The errno a relay ends with when a panic inside the engine ended it
/// (ZCOPY_EPANIC).
pub const EPANIC: i32 = crate::sys::transfer::ZCOPY_EPANIC;

/// Most threads an engine may have.
pub const MAX_THREADS: u32 = 1024;

/// A relay's callback, called once from an engine thread when it ends.
pub type Done = Box<dyn FnOnce(RelayResult) + Send + 'static>;

struct Thread {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    /// The worker's epoll fd (the worker owns it): closed by a child's
    /// drop, where the worker does not exist.
    epoll_fd: i32,
}

/// A set of worker threads relaying pairs of fds.
pub struct Engine {
    threads: Vec<Thread>,
    next: AtomicUsize,
    added: AtomicU64,
    /// The files and handles of the running relays.
    registry: Arc<Registry>,
    /// The next relay id (ids start at 1; 0 is the C API's failure).
    next_id: AtomicU64,
    /// An epoll set of the caller's side, used only to ask whether a
    /// character device can be watched at all (/dev/null cannot: EPERM),
    /// so that add answers it synchronously.
    probe: epoll::Epoll,
    /// The pool's fork generation when the engine was made.
    generation: u64,
}

impl Engine {
    /// Starts `threads` workers (0: one per CPU the process may run on).
    /// EINVAL above MAX_THREADS; EMFILE/ENFILE/ENOMEM when an epoll fd,
    /// eventfd or thread cannot be made (then nothing is left running).
    pub fn new(threads: u32) -> Result<Engine, i32> {
        if threads > MAX_THREADS {
            return Err(libc::EINVAL);
        }
        let n = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n as usize,
        };
        let mut engine = Engine {
            threads: Vec::with_capacity(n),
            next: AtomicUsize::new(0),
            added: AtomicU64::new(0),
            registry: Arc::new(Registry::default()),
            next_id: AtomicU64::new(1),
            probe: epoll::Epoll::new()?,
            generation: crate::internal::pool::fork_generation(),
        };
        // Spawned with every signal blocked: the threads inherit the mask,
        // so no signal can reach one before it runs.
        let old = epoll::block_all_signals();
        let r = (0..n).try_for_each(|i| engine.spawn(i));
        epoll::restore_signals(&old);
        r.map(|()| engine)
    }

    fn spawn(&mut self, i: usize) -> Result<(), i32> {
        let ep = epoll::Epoll::new()?;
        let waker = epoll::Waker::new()?;
        ep.add(waker.fd(), epoll::READ_EVENTS, slots::TAG_WAKE)?;
        let epoll_fd = ep.fd();
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            waker,
            counters: Counters::default(),
            registry: Arc::clone(&self.registry),
        });
        let s = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name(format!("zcopy-engine-{i}"))
            .spawn(move || worker::run(s, ep))
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EAGAIN))?;
        self.threads.push(Thread {
            shared,
            handle: Some(handle),
            epoll_fd,
        });
        Ok(())
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// True in a child forked after the engine was made: its threads
    /// exist only in the parent.
    fn inherited(&self) -> bool {
        self.generation != crate::internal::pool::fork_generation()
    }

    /// The counters (each read atomically; `finished` is read before the
    /// number added, so `active` is never below the truth of a moment).
    pub fn stats(&self) -> EngineStats {
        let mut s = EngineStats::default();
        for t in &self.threads {
            t.shared.counters.add_to(&mut s);
        }
        s.active = self.added.load(Relaxed).saturating_sub(s.finished);
        s
    }
}

impl Drop for Engine {
    /// Stops every worker (each ends its relays with ECANCELED, calling
    /// their done) and joins them. Called from inside a done callback (an
    /// engine thread), that thread is not joined: it finishes its own
    /// relays after the callback returns and exits by itself.
    fn drop(&mut self) {
        if self.inherited() {
            // A child after fork(): the workers are the parent's. Their
            // locks may have been held at the fork and their threads
            // cannot be joined; close the child's copies of their fds
            // and leave the rest as the parent's snapshot.
            for t in self.threads.drain(..) {
                // SAFETY: fds this engine made, inherited by the child;
                // no thread of the child uses them.
                unsafe {
                    libc::close(t.epoll_fd);
                    libc::close(t.shared.waker.fd());
                }
                std::mem::forget(t);
            }
            return;
        }
        for t in &self.threads {
            t.shared
                .inbox
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .stop = true;
            t.shared.waker.wake();
        }
        let me = std::thread::current().id();
        for t in &mut self.threads {
            if let Some(h) = t.handle.take() {
                if h.thread().id() != me {
                    let _ = h.join();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
