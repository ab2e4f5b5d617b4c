//! Keeping a relay across an EINTR return (ZCOPY_OPT_EINTR), so that
//! calling zcopy_relay again with the same fds continues both directions
//! with no byte lost: the bytes one direction held when the signal came
//! are still in its pipe.
//!
//! One relay per thread is kept, keyed by the two fd numbers and what they
//! are (st_dev, st_ino: a closed fd whose number was reused by another
//! socket does not match). It is discarded (held bytes closed with their
//! pipe) by: a zcopy_relay call on that thread with other fds, the fds no
//! longer being the same files, the thread's exit, or the call ending any
//! way other than EINTR.

use super::pair::Identity;
use super::Relay;
use std::cell::RefCell;

/// The saved relay and what its fds were.
struct Saved {
    ids: (Identity, Identity),
    relay: Relay,
}

thread_local! {
    static SAVED: RefCell<Option<Saved>> = const { RefCell::new(None) };
}

/// The relay saved for exactly these fds on this thread, if any; any other
/// saved relay is discarded.
pub fn take(a: i32, b: i32, ids: (Identity, Identity)) -> Option<Relay> {
    let saved = SAVED.try_with(|s| s.borrow_mut().take()).ok().flatten()?;
    if saved.relay.fds() == (a, b) && saved.ids == ids {
        Some(saved.relay)
    } else {
        // Dropped here: its held bytes are closed with their pipes.
        None
    }
}

/// Keeps `relay` for the next call on this thread (a thread that is
/// exiting cannot keep it: it is dropped).
pub fn save(relay: Relay, ids: (Identity, Identity)) {
    let _ = SAVED.try_with(|s| *s.borrow_mut() = Some(Saved { ids, relay }));
}

/// Drops the relay kept on this thread for the fds `x` and `y` (as a and
/// b in either order), with the bytes it held in flight (their pipes are
/// closed); returns how many bytes that was. Any other kept relay stays.
pub fn discard(x: i32, y: i32) -> i64 {
    SAVED
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let ours = s
                .as_ref()
                .is_some_and(|k| k.relay.fds() == (x, y) || k.relay.fds() == (y, x));
            if !ours {
                return 0;
            }
            s.take().map_or(0, |k| k.relay.held())
        })
        .unwrap_or(0)
}
