//! The C boundary. Every exported function checks its arguments, turns
//! them into safe Rust at once, and calls the plain-Rust logic inside
//! `catch_unwind`, so that no panic ever crosses into C. The exports live
//! in one file per domain below; this file holds what they share.

// cbindgen writes the header in the order it meets these modules, and
// rustfmt sorts a run of `mod` lines: one group per step of a user's
// reading order keeps the header in that order (transfers, their options,
// files, the switches, the splicer, the relay, the engine, the pool, names).

// The four transfers and zcopy_copy; then with options and positions.
mod transfer;

mod transfer_opts;

mod options;

mod held;

// Files: header + file + trailer, clones.
mod sendfile_hdr;

mod clone;

// The kill switch.
mod disable;

// For event loops.
mod splicer;

// Two-way relays, one call or many on the engine's threads.
mod relay;

mod engine;

mod engine_relay;

// The pool and the names.
mod pool;

mod names;

pub use clone::*;
pub use disable::*;
pub use engine::*;
pub use engine_relay::*;
pub use held::*;
pub use names::*;
pub use options::*;
pub use pool::*;
pub use relay::*;
pub use sendfile_hdr::*;
pub use splicer::*;
pub use transfer::*;
pub use transfer_opts::*;

use crate::sys::transfer::Transfer;
pub use crate::sys::transfer::ZCOPY_EPANIC;
pub(crate) use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into a ZCOPY_EPANIC result, and leaves errno
/// equal to the result's `error` (0 on success), for FFIs that read errno
/// after the call (cgo's `r, err := C.f()`): no stale EAGAIN from inside.
pub(crate) fn guarded(method: i32, f: impl FnOnce() -> Transfer) -> Transfer {
    let t = catch_unwind(AssertUnwindSafe(f)).unwrap_or(Transfer::done(method, 0, ZCOPY_EPANIC));
    set_errno(t.error);
    t
}

/// Sets the calling thread's errno.
pub(crate) fn set_errno(e: i32) {
    // SAFETY: __errno_location always returns this thread's errno.
    unsafe { *libc::__errno_location() = e };
}

/// Runs `f` for an export that returns a number rather than a
/// zcopy_result: Ok(v) is returned as is (errno left alone), Err(e)
/// returns `failed` with errno e, a panic returns `failed` with errno
/// ZCOPY_EPANIC.
pub(crate) fn guarded_value<T>(failed: T, f: impl FnOnce() -> Result<T, i32>) -> T {
    match catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(ZCOPY_EPANIC)) {
        Ok(v) => v,
        Err(e) => {
            set_errno(e);
            failed
        }
    }
}
