//! One engine thread: an epoll loop over the relays it was given.
//!
//! Loop invariant (at the head of each turn): every live relay is either
//! registered for what its directions wait for (its last step said Wait),
//! or queued in `run` (new, had an event, or stopped for its budget);
//! every relay with an idle timeout has one entry in `timers` (see
//! timers.rs). A relay leaves the loop only through `end`, which unregisters
//! its fds *before* `done` runs: the callback usually closes them, and a
//! closed fd number may come back at once for another relay.

use super::epoll::{relay_events, Epoll, Waker, READ_EVENTS};
use super::job::{ready_bits, Job, Ready, Step, ALL};
use super::registry::{Claim, Registry};
use super::slots::{Slots, Token, TAG_A, TAG_B, TAG_CANCEL, TAG_WAKE};
use super::timers::{timeout_ms, Timers};
use super::{Counters, Done, EPANIC};
use crate::call::control::now_ns;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

mod ending;
mod throttle;

/// A relay on its way from `add` to a worker.
pub struct NewRelay {
    /// The relay.
    pub job: Box<dyn Job>,
    /// Idle timeout in ns; 0: none.
    pub idle_ns: i64,
    /// The engine's own dup of the cancel fd (closed when the relay ends).
    pub cancel: Option<i32>,
    /// The callback.
    pub done: Option<Done>,
    /// Its files and handle in the engine's registry (None: nothing
    /// claimed, as for the jobs of the engine's own tests).
    pub claim: Option<Claim>,
}

/// What `add` (any thread) shares with one worker.
pub struct Shared {
    /// New relays and the stop flag.
    pub inbox: Mutex<Inbox>,
    /// Wakes the worker from epoll_wait.
    pub waker: Waker,
    /// This worker's counters.
    pub counters: Counters,
    /// The engine's files and handles of running relays.
    pub registry: Arc<Registry>,
}

/// The part of `Shared` behind the lock.
#[derive(Default)]
pub struct Inbox {
    /// Relays not yet adopted.
    pub jobs: Vec<NewRelay>,
    /// Set once by the engine's drop: end everything and exit.
    pub stop: bool,
    /// Ids of relays to end with ECANCELED (zcopy_engine_cancel).
    pub cancels: Vec<u64>,
}

/// A relay the worker owns.
pub struct Live {
    job: Option<Box<dyn Job>>,
    done: Option<Done>,
    a: i32,
    b: i32,
    cancel: Option<i32>,
    idle_ns: i64,
    /// The real idle deadline (monotonic ns); moves only when bytes move.
    deadline: i64,
    /// Bytes and pipes as last accounted in the counters.
    bytes: u64,
    pipes: u64,
    /// Events seen since the last step.
    ready: Ready,
    /// The epoll registrations of a and b now (see epoll::relay_events).
    armed: [u32; 2],
    /// Already in `run`.
    queued: bool,
    /// What to release from the engine's registry when it ends.
    claim: Option<Claim>,
}

/// Events taken from the kernel per epoll_wait.
const BATCH: usize = 256;

/// The worker's own state.
struct Worker {
    shared: Arc<Shared>,
    epoll: Epoll,
    slots: Slots<Live>,
    timers: Timers,
    /// Relays to step this turn, and the next turn's (budget stops).
    run: Vec<Token>,
    next_run: Vec<Token>,
    /// Live relays with an idle timeout (to bound stale timer entries).
    timed: usize,
    /// Live relays by id, for the engine's cancel.
    by_id: HashMap<u64, Token>,
    /// When relays held back by a rate limit are to be stepped again
    /// (throttle.rs); stale entries only cost a spare step.
    wakes: Timers,
}

/// The thread's body. Returns when the engine stops (every relay ended with
/// ECANCELED) or, should epoll_wait itself fail, after ending every relay
/// with that errno. A panic outside a step (a bug in the loop itself) ends
/// the worker's relays with ZCOPY_EPANIC and the loop starts over, so the
/// engine keeps serving and no relay is left without its done.
pub fn run(shared: Arc<Shared>, epoll: Epoll) {
    let mut w = Worker {
        shared,
        epoll,
        slots: Slots::default(),
        timers: Timers::default(),
        run: Vec::new(),
        next_run: Vec::new(),
        timed: 0,
        by_id: HashMap::new(),
        wakes: Timers::default(),
    };
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; BATCH];
    loop {
        match catch_unwind(AssertUnwindSafe(|| w.turns(&mut events))) {
            Ok(reason) => {
                let _ = catch_unwind(AssertUnwindSafe(|| w.end_all(reason)));
                return;
            }
            Err(_) => {
                let recovered = catch_unwind(AssertUnwindSafe(|| {
                    w.end_live(EPANIC);
                    w.run.clear();
                    w.next_run.clear();
                }));
                if recovered.is_err() {
                    // Nothing sane is left: refuse new relays (add gives
                    // ECANCELED) rather than queue them for a dead loop.
                    let _ = catch_unwind(AssertUnwindSafe(|| w.end_all(EPANIC)));
                    return;
                }
            }
        }
    }
}

impl Worker {
    /// The loop; returns why it stopped (ECANCELED: the engine stops;
    /// else epoll_wait's errno).
    fn turns(&mut self, events: &mut [libc::epoll_event]) -> i32 {
        loop {
            let timeout = if self.run.is_empty() {
                timeout_ms(self.next_deadline(), now_ns())
            } else {
                0
            };
            let n = match self.epoll.wait(events, timeout) {
                Ok(n) => n,
                Err(e) => return e,
            };
            for ev in &events[..n] {
                self.event(ev.u64, ev.events);
            }
            if self.adopt() {
                return libc::ECANCELED;
            }
            self.wake_due();
            self.step_all();
            self.expire();
        }
    }

    /// One epoll event: the waker, a cancel fd, or a relay fd ready.
    fn event(&mut self, token: u64, events: u32) {
        let t = Token(token);
        if t.tag() == TAG_WAKE {
            // Drained before the inbox is looked at, so an add that comes
            // after the look wakes the next epoll_wait.
            self.shared.waker.drain();
            return;
        }
        let Some(live) = self.slots.get_mut(t) else {
            return; // ended earlier in this batch
        };
        if t.tag() == TAG_CANCEL {
            self.end(t.slot(), libc::ECANCELED, -1);
            return;
        }
        live.ready |= ready_bits(if t.tag() == TAG_A { 0 } else { 1 }, events);
        if !live.queued {
            live.queued = true;
            self.run.push(t.slot());
        }
    }

    /// Takes the new relays from the inbox and registers them. Returns true
    /// when the engine is stopping.
    fn adopt(&mut self) -> bool {
        let (jobs, cancels, stop) = {
            let mut inbox = self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
            (
                std::mem::take(&mut inbox.jobs),
                std::mem::take(&mut inbox.cancels),
                inbox.stop,
            )
        };
        for nr in jobs {
            self.adopt_one(nr);
        }
        // After the adoptions: a relay cancelled right after its add is
        // already live here.
        for id in cancels {
            if let Some(&t) = self.by_id.get(&id) {
                self.end(t, libc::ECANCELED, -1);
            }
        }
        stop
    }

    fn adopt_one(&mut self, nr: NewRelay) {
        let (a, b) = nr.job.fds();
        let now = now_ns();
        let live = Live {
            job: Some(nr.job),
            done: nr.done,
            a,
            b,
            cancel: nr.cancel,
            idle_ns: nr.idle_ns,
            deadline: now.saturating_add(nr.idle_ns),
            bytes: 0,
            pipes: 0,
            ready: ALL,
            queued: true,
            armed: [relay_events(libc::POLLIN); 2],
            claim: nr.claim,
        };
        let id = live.claim.as_ref().map(|c| c.handle.id);
        let t = self.slots.insert(live);
        if let Some(id) = id {
            self.by_id.insert(id, t);
        }
        let mut failed = None;
        // Both directions start by reading; the first step (this turn)
        // says what they really wait for.
        let events = relay_events(libc::POLLIN);
        for (fd, tag) in [(a, TAG_A), (b, TAG_B)] {
            if let Err(e) = self.epoll.add(fd, events, t.with_tag(tag).0) {
                failed = Some((e, fd));
                break;
            }
        }
        if failed.is_none() {
            if let Some(c) = nr.cancel {
                if let Err(e) = self.epoll.add(c, READ_EVENTS, t.with_tag(TAG_CANCEL).0) {
                    failed = Some((e, -1));
                }
            }
        }
        if nr.idle_ns > 0 {
            self.timed += 1;
            self.timers.push(now.saturating_add(nr.idle_ns), t.0);
        }
        match failed {
            // The first step happens in this turn: bytes may already wait.
            None => self.run.push(t),
            Some((e, fd)) => self.end(t, e, fd),
        }
    }

    /// Steps every queued relay once, inside catch_unwind: a panic ends
    /// that relay with ZCOPY_EPANIC and nothing else.
    fn step_all(&mut self) {
        let mut run = std::mem::take(&mut self.run);
        for t in run.drain(..) {
            let Some(live) = self.slots.get_mut(t) else {
                continue;
            };
            live.queued = false;
            let ready = std::mem::take(&mut live.ready);
            let job = live.job.as_mut().expect("a live relay has its job");
            let step = catch_unwind(AssertUnwindSafe(|| job.step(ready)));
            match step {
                Ok(Step::Wait) => {
                    self.account(t);
                    self.rearm(t);
                    self.schedule_wake(t);
                }
                Ok(Step::Again) => {
                    self.account(t);
                    if let Some(live) = self.slots.get_mut(t) {
                        live.queued = true;
                    }
                    self.next_run.push(t);
                }
                Ok(Step::Done(r)) => self.end_with(t, Ok(r)),
                Err(_) => self.end(t, EPANIC, -1),
            }
        }
        // The budget stops go first next turn; new events join behind them.
        self.run = std::mem::take(&mut self.next_run);
        self.next_run = run;
    }

    /// Makes the relay's epoll registrations what its directions now wait
    /// for (an epoll_ctl only for an fd whose wait changed). A failure
    /// (ENOENT: the fd was closed under the relay; ENOMEM) ends the relay
    /// with that error on that fd.
    fn rearm(&mut self, t: Token) {
        let Some(live) = self.slots.get_mut(t) else {
            return;
        };
        let Some(job) = live.job.as_ref() else {
            return;
        };
        let (ia, ib) = job.interest();
        let mut failed = None;
        for (i, fd, tag, want) in [
            (0, live.a, TAG_A, relay_events(ia)),
            (1, live.b, TAG_B, relay_events(ib)),
        ] {
            if live.armed[i] != want {
                match self.epoll.modify(fd, want, t.with_tag(tag).0) {
                    Ok(()) => live.armed[i] = want,
                    Err(e) => {
                        failed = Some((e, fd));
                        break;
                    }
                }
            }
        }
        if let Some((e, fd)) = failed {
            self.end(t, e, fd);
        }
    }

    /// Moves the relay's byte and pipe counts into the worker's counters
    /// and restarts its idle clock when bytes moved.
    fn account(&mut self, t: Token) {
        let counters = &self.shared.counters;
        let Some(live) = self.slots.get_mut(t) else {
            return;
        };
        let Some(job) = live.job.as_ref() else {
            return;
        };
        let (bytes, pipes) = (job.bytes(), job.pipes());
        if bytes != live.bytes {
            if let Some(c) = &live.claim {
                c.handle.set_counts(job.counts());
            }
            counters.add_bytes(bytes.wrapping_sub(live.bytes));
            live.bytes = bytes;
            if live.idle_ns > 0 {
                live.deadline = now_ns().saturating_add(live.idle_ns);
            }
        }
        if pipes != live.pipes {
            counters.add_pipes(pipes.wrapping_sub(live.pipes));
            live.pipes = pipes;
        }
    }

    /// Ends relays whose idle deadline passed; re-arms the others.
    fn expire(&mut self) {
        let now = now_ns();
        while let Some((_, tok)) = self.timers.pop_due(now) {
            let t = Token(tok);
            let Some(live) = self.slots.get_mut(t) else {
                continue; // ended: a stale entry
            };
            if live.deadline <= now {
                self.end(t, libc::ETIMEDOUT, -1);
            } else {
                let d = live.deadline;
                self.timers.push(d, tok);
            }
        }
        if self.timers.len() > 2 * self.timed + 1024 {
            let slots = &self.slots;
            self.timers.retain(|tok| slots.get(Token(tok)).is_some());
        }
    }
}
