//! What an engine knows of its running relays from any thread: which
//! files they use (so that one connection is never in two relays at once)
//! and, by relay id, their live byte counts and which worker runs them
//! (for zcopy_engine_relay_counts and zcopy_engine_cancel).
//!
//! Files are keyed by identity (st_dev, st_ino), not by fd number: a dup
//! of a relayed socket is the same connection. `Engine::add` claims both
//! files and registers the id at once, or nothing; the worker releases
//! both when the relay ends, before its `done` runs. One short lock per
//! add and per end; never taken in a forked child (see engine.rs).

pub(crate) use crate::relay::Identity;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// One running relay as other threads see it.
#[derive(Debug)]
pub struct Handle {
    /// The relay's id (never 0; unique in its engine).
    pub id: u64,
    /// The worker it was handed to.
    pub worker: usize,
    /// Bytes delivered a -> b and b -> a, as the worker last accounted
    /// them (after every step that moved bytes).
    counts: [AtomicI64; 2],
}

impl Handle {
    /// A handle with zero counts.
    pub fn new(id: u64, worker: usize) -> Handle {
        Handle {
            id,
            worker,
            counts: [AtomicI64::new(0), AtomicI64::new(0)],
        }
    }

    /// Stores the counts (the worker, after a step).
    pub fn set_counts(&self, (ab, ba): (i64, i64)) {
        self.counts[0].store(ab, Relaxed);
        self.counts[1].store(ba, Relaxed);
    }

    /// The counts as last stored; each grows monotonically.
    pub fn counts(&self) -> (i64, i64) {
        (self.counts[0].load(Relaxed), self.counts[1].load(Relaxed))
    }
}

#[derive(Debug, Default)]
struct Inner {
    files: HashSet<Identity>,
    relays: HashMap<u64, Arc<Handle>>,
}

/// The files and handles of every running relay of one engine.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

/// What a running relay holds in the registry, released when it ends.
#[derive(Debug, Clone)]
pub struct Claim {
    pub ids: (Identity, Identity),
    pub handle: Arc<Handle>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims both files of a new relay and registers its handle: EEXIST
    /// (and nothing claimed) when either file is in a running relay.
    pub fn claim(&self, ids: (Identity, Identity), handle: Arc<Handle>) -> Result<Claim, i32> {
        let mut inner = self.lock();
        if inner.files.contains(&ids.0) || inner.files.contains(&ids.1) {
            return Err(libc::EEXIST);
        }
        inner.files.insert(ids.0);
        inner.files.insert(ids.1);
        inner.relays.insert(handle.id, Arc::clone(&handle));
        Ok(Claim { ids, handle })
    }

    /// Releases what `claim` took.
    pub fn release(&self, claim: &Claim) {
        let mut inner = self.lock();
        inner.files.remove(&claim.ids.0);
        inner.files.remove(&claim.ids.1);
        inner.relays.remove(&claim.handle.id);
    }

    /// The handle of a running relay; ENOENT once it ended (or never was).
    pub fn handle(&self, id: u64) -> Result<Arc<Handle>, i32> {
        self.lock().relays.get(&id).cloned().ok_or(libc::ENOENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(id: u64) -> Arc<Handle> {
        Arc::new(Handle::new(id, 0))
    }

    #[test]
    fn a_file_is_claimed_once_until_released() {
        let r = Registry::default();
        let c1 = r.claim(((1, 1), (1, 2)), h(1)).unwrap();
        assert_eq!(r.claim(((1, 2), (1, 3)), h(2)).unwrap_err(), libc::EEXIST);
        assert_eq!(r.claim(((1, 3), (1, 1)), h(2)).unwrap_err(), libc::EEXIST);
        // The refused claims took nothing: (1, 3) is still free, id 2 unknown.
        assert_eq!(r.handle(2).unwrap_err(), libc::ENOENT);
        let c3 = r.claim(((1, 3), (1, 4)), h(3)).unwrap();
        assert_eq!(r.handle(1).unwrap().id, 1);
        r.release(&c1);
        assert_eq!(r.handle(1).unwrap_err(), libc::ENOENT);
        assert!(r.claim(((1, 2), (1, 1)), h(4)).is_ok());
        r.release(&c3);
    }

    #[test]
    fn counts_are_what_the_worker_stored() {
        let x = Handle::new(7, 1);
        assert_eq!(x.counts(), (0, 0));
        x.set_counts((10, 3));
        assert_eq!(x.counts(), (10, 3));
    }
}
