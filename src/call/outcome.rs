//! What a mechanism's loop reports, as Rust std's kernel_copy does with its
//! `CopyResult`: the mechanism itself decides whether the next one down the
//! dispatch row may take over. The C struct `zcopy_result` (`Transfer`) is
//! made from it only at the boundary.

use crate::call::control::Control;
use crate::sys::transfer::Transfer;

/// The end of one mechanism's loop. `written` counts bytes that reached
/// dst in every variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `remain` bytes moved, or src reached end of file.
    Ended(i64),
    /// An error ended the transfer; another mechanism would not do better.
    Error(i64, i32),
    /// This mechanism cannot serve the pair (the errno that said so, or 0).
    /// Both positions have advanced by exactly `written`, so the next
    /// mechanism can continue from there.
    Fallback(i64, i32),
}

impl Outcome {
    /// Bytes that reached dst.
    pub(crate) fn written(self) -> i64 {
        match self {
            Outcome::Ended(n) | Outcome::Error(n, _) | Outcome::Fallback(n, _) => n,
        }
    }

    /// The errno carried (0 for Ended).
    pub(crate) fn errno(self) -> i32 {
        match self {
            Outcome::Ended(_) => 0,
            Outcome::Error(_, e) | Outcome::Fallback(_, e) => e,
        }
    }

    /// The same outcome with `earlier` bytes, moved before it, added.
    pub(crate) fn after(self, earlier: i64) -> Outcome {
        match self {
            Outcome::Ended(n) => Outcome::Ended(n + earlier),
            Outcome::Error(n, e) => Outcome::Error(n + earlier, e),
            Outcome::Fallback(n, e) => Outcome::Fallback(n + earlier, e),
        }
    }

    /// The head of a mechanism's round: Ended when nothing is left to move,
    /// Error when the call's Control (cancel fd, idle clock) stops it, None
    /// to go on with the round.
    pub(crate) fn before_round(ctl: &mut Control, remain: i64, written: i64) -> Option<Outcome> {
        if remain <= 0 {
            return Some(Outcome::Ended(written));
        }
        ctl.check().err().map(|e| Outcome::Error(written, e))
    }

    /// The C result. A fallback with nothing moved is `handled` false (the
    /// caller should use another mechanism); after some bytes it is an
    /// error with those bytes counted, as the header documents.
    pub(crate) fn into_transfer(self, method: i32) -> Transfer {
        match self {
            Outcome::Ended(n) => Transfer::done(method, n, 0),
            Outcome::Error(n, e) => Transfer::done(method, n, e),
            Outcome::Fallback(0, e) => Transfer::unhandled(method, e),
            Outcome::Fallback(n, e) => Transfer::done(method, n, e),
        }
    }
}
