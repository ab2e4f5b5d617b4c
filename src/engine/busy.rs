//! The files of an engine's running relays, so that one connection is
//! never in two relays at once.
//!
//! Keyed by identity (st_dev, st_ino), not by fd number: a dup of a
//! relayed socket is the same connection. Claimed in the caller's thread
//! by `Engine::add` (both fds at once, or neither), released by the worker
//! when the relay ends, before its `done` runs. One short lock per add and
//! per end; never taken in a forked child (see engine.rs).

pub(crate) use crate::relay::Identity;
use std::collections::HashSet;
use std::sync::Mutex;

/// The identities of the fds of every running relay of one engine.
#[derive(Debug, Default)]
pub struct Busy {
    ids: Mutex<HashSet<Identity>>,
}

impl Busy {
    /// Claims both fds of a new relay: EEXIST (and nothing claimed) when
    /// either is already in a running relay.
    pub fn claim(&self, (a, b): (Identity, Identity)) -> Result<(), i32> {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        if ids.contains(&a) || ids.contains(&b) {
            return Err(libc::EEXIST);
        }
        ids.insert(a);
        ids.insert(b);
        Ok(())
    }

    /// Releases what `claim` took.
    pub fn release(&self, (a, b): (Identity, Identity)) {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        ids.remove(&a);
        ids.remove(&b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_claimed_once_until_released() {
        let busy = Busy::default();
        assert_eq!(busy.claim(((1, 1), (1, 2))), Ok(()));
        assert_eq!(busy.claim(((1, 2), (1, 3))), Err(libc::EEXIST));
        assert_eq!(busy.claim(((1, 3), (1, 1))), Err(libc::EEXIST));
        // The refused claim took nothing: (1, 3) is still free.
        assert_eq!(busy.claim(((1, 3), (1, 4))), Ok(()));
        busy.release(((1, 1), (1, 2)));
        assert_eq!(busy.claim(((1, 2), (1, 1))), Ok(()));
    }
}
