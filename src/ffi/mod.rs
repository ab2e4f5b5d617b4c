//! The C boundary. Every export is one call to [`boundary`]: inside it the
//! export checks its pointers (NULL), turns its arguments into safe Rust
//! and calls the plain-Rust function; it has no logic of its own.
//! `boundary` is the only `catch_unwind` of the C boundary
//! (tests/ffi_boundary.rs reads the sources to keep it so), so no panic
//! crosses into C, and its [`Kind`] decides what C gets back. The exports
//! live in one file per domain below; this file holds what they share.
//!
//! # One convention per kind of function
//!
//! (Mirrored in the header's top comment, cbindgen.toml.) "errno" is the
//! calling thread's errno when the export returns; a failure always sets
//! it to the reason, so an FFI that reads errno after any call (cgo's
//! `r, err := C.f()`) never sees a stale one from inside.
//!
//! - Transfers ([`Transfers`]): zcopy_copy, zcopy_splice, zcopy_sendfile,
//!   zcopy_copy_file_range, their `_at`, `_opts` and `_at_opts` forms,
//!   zcopy_sendfile_hdr, zcopy_clone, zcopy_splicer_step. A zcopy_result
//!   by value; failure: `error` != 0 (`handled` false: nothing consumed,
//!   fall back). errno == `error` on every return, 0 on success. Panic:
//!   `error` ZCOPY_EPANIC, `written` 0, `handled` true, `method` the
//!   call's own.
//! - Relays ([`Relays`]): zcopy_relay, zcopy_relay_prefixed. A
//!   zcopy_relay_result by value: `error` and `error_fd` say what ended
//!   it, the counts what moved before. errno == `error` on every return.
//!   Panic: `error` ZCOPY_EPANIC, `error_fd` -1, counts 0.
//! - Constructors ([`Handle`]): zcopy_splicer_new, zcopy_engine_new. The
//!   handle, or NULL with errno the reason. Panic: NULL, errno
//!   ZCOPY_EPANIC.
//! - Statuses ([`Status`]): zcopy_engine_add, zcopy_engine_add_prefixed,
//!   zcopy_engine_relay_counts, zcopy_engine_cancel, zcopy_pool_configure.
//!   0, or the errno value itself (what the header documents for all
//!   five, so not -1), errno set to it too; errno left alone on success.
//!   Panic: ZCOPY_EPANIC.
//! - Counts ([`Count`]): zcopy_held, zcopy_held_discard. The count, >= 0
//!   (errno left alone), or -1 with errno the reason. Panic: -1, errno
//!   ZCOPY_EPANIC.
//! - Values ([`Value`]): zcopy_disable, zcopy_disabled, zcopy_pool_drain,
//!   zcopy_splicer_pending, zcopy_splicer_wants, zcopy_splicer_eof,
//!   zcopy_version, zcopy_method_name. They cannot fail: the value, errno
//!   left alone (a NULL splicer answers 0 / false, as documented). Panic:
//!   0 / false ("unknown" for zcopy_method_name), errno ZCOPY_EPANIC.
//! - Void ([`Void`]): zcopy_options_init, zcopy_pool_get_stats,
//!   zcopy_engine_get_stats, zcopy_splicer_free, zcopy_engine_free.
//!   Nothing returned; a NULL pointer does nothing; errno left alone.
//!   Panic: nothing more written, errno ZCOPY_EPANIC.
//!
//! Documented exceptions, kept as the header states them:
//! - zcopy_engine_add_ex and zcopy_engine_add_prefixed_ex ([`IdOrError`])
//!   return the relay's id (>= 1) or 0, the errno going to `*error` (NULL:
//!   not reported) as well as to errno: an id is a uint64_t, so neither a
//!   status nor -1 can carry it. Panic: 0, `*error` and errno
//!   ZCOPY_EPANIC.
//! - zcopy_splicer_step with a NULL splicer is a transfer failing with
//!   EINVAL, where the splicer's queries answer 0 / false and
//!   zcopy_splicer_free does nothing: a step is a transfer, which reports
//!   every mistake in its result; a query has no error channel.
//!
//! Offsets, one rule for every positional call (`_at`, `_at_opts`,
//! zcopy_sendfile_hdr): NULL uses and advances the fd's own file
//! position; otherwise `*offset` is read before the call and written back
//! after it, advanced by the bytes moved ([`offset_in`], [`offset_out`]),
//! and a negative one is EINVAL.

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

// What every export shares: the boundary, its kinds, the offset rule.
mod kind;

#[cfg(test)]
mod tests;

pub(crate) use kind::{Count, Handle, IdOrError, Relays, Status, Transfers, Value, Void};

pub use crate::sys::transfer::ZCOPY_EPANIC;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A kind of export (see the table at the top): what its Rust side
/// answers (`Body`), what C gets back (`Out`), and how one becomes the
/// other, errno included; and what C gets after a panic.
pub(crate) trait Kind {
    /// What the export's closure returns.
    type Body;
    /// What the export returns to C.
    type Out;
    /// The C return value for the closure's answer; sets errno as the
    /// table says.
    fn out(self, body: Self::Body) -> Self::Out;
    /// The C return value after a panic inside the closure; sets errno to
    /// ZCOPY_EPANIC.
    fn panicked(self) -> Self::Out;
}

/// The panic boundary every export goes through: runs `f` (the export's
/// whole body: pointer checks, conversions, the call inside) and turns
/// its answer, or a panic, into what C gets, by `kind`. The one
/// `catch_unwind` of the C boundary: a panic never unwinds into C, and the
/// guards inside (fd flags, the signal mask) have been restored by the
/// unwinding before this returns.
pub(crate) fn boundary<K: Kind>(kind: K, f: impl FnOnce() -> K::Body) -> K::Out {
    // AssertUnwindSafe: what a panic may leave half-updated is the
    // library's own state, whose owners are built to survive it (a pipe
    // that held bytes is closed, never pooled); the caller's pointers are
    // not touched after a panic.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(body) => kind.out(body),
        Err(_) => kind.panicked(),
    }
}

/// Sets the calling thread's errno.
pub(crate) fn set_errno(e: i32) {
    // SAFETY: __errno_location always returns this thread's errno.
    unsafe { *libc::__errno_location() = e };
}

/// Reads an offset argument by the one rule (see the top): NULL is None
/// (the fd's own file position); otherwise its value, read unaligned. The
/// sign is checked by the caller or the call inside, in the order the
/// function's errors are documented.
///
/// # Safety
/// `p` must be NULL or valid for reads of an int64_t.
pub(crate) unsafe fn offset_in(p: *const i64) -> Option<i64> {
    // SAFETY: non-NULL, readable as the caller promises.
    (!p.is_null()).then(|| unsafe { p.read_unaligned() })
}

/// Writes an advanced offset back, where the caller gave one.
///
/// # Safety
/// `p` must be NULL or valid for writes of an int64_t.
pub(crate) unsafe fn offset_out(p: *mut i64, v: Option<i64>) {
    if let (false, Some(v)) = (p.is_null(), v) {
        // SAFETY: non-NULL, writable as the caller promises.
        unsafe { p.write_unaligned(v) };
    }
}
