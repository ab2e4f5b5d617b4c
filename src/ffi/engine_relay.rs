//! The C boundary of the engine's per-relay calls: adds with prefix bytes
//! or an id, and by id, the live counts and cancelling.

use super::engine::{callback, RelayDoneFn};
use super::relay::prefix;
use super::{boundary, IdOrError, Status};
use crate::call::options::Options;
use crate::engine::Engine;
use std::ffi::{c_int, c_void};

/// The shared body of the adds: Ok(id) or the errno. Runs inside the
/// exports' `boundary`.
///
/// # Safety
/// As the exports below promise for each pointer.
#[allow(clippy::too_many_arguments)]
unsafe fn add(
    e: *mut Engine,
    a_fd: c_int,
    b_fd: c_int,
    a_to_b: *const u8,
    a_to_b_len: usize,
    b_to_a: *const u8,
    b_to_a_len: usize,
    opts: *const Options,
    done: RelayDoneFn,
    ctx: *mut c_void,
) -> Result<u64, i32> {
    // SAFETY: NULL or a live engine as promised (add takes &self).
    let engine = unsafe { e.as_ref() }.ok_or(libc::EINVAL)?;
    // SAFETY: each pointer as promised; copied before the call returns.
    let ab = unsafe { prefix(a_to_b, a_to_b_len) }?.to_vec();
    // SAFETY: as above.
    let ba = unsafe { prefix(b_to_a, b_to_a_len) }?.to_vec();
    // SAFETY: NULL or a readable zcopy_options, told by its `size`.
    let opts = unsafe { super::read_options(opts) };
    engine.add_relay(a_fd, b_fd, (ab, ba), opts.as_ref(), callback(done, ctx))
}

/// zcopy_engine_add, with bytes the caller already read delivered first
/// in each direction: the `a_to_b_len` bytes at `a_to_b` go to `b_fd`
/// before anything read from `a_fd`, the `b_to_a_len` bytes at `b_to_a` to
/// `a_fd` before anything read from `b_fd`. They are copied at the call
/// (the buffers may be freed when it returns) and are relayed data in
/// every respect, as in zcopy_relay_prefixed: counted in their direction
/// as they are delivered, before that direction's half-close.
///
/// Arguments, `done`, errors and thread safety as zcopy_engine_add; also
/// EINVAL for a NULL pointer with a non-zero length.
///
/// # Safety
/// `e` is NULL or a live engine; `a_to_b` / `b_to_a` are NULL or point to
/// their length in readable bytes; `opts` is NULL or points to a readable
/// zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_add_prefixed(
    e: *mut Engine,
    a_fd: c_int,
    b_fd: c_int,
    a_to_b: *const u8,
    a_to_b_len: usize,
    b_to_a: *const u8,
    b_to_a_len: usize,
    opts: *const Options,
    done: RelayDoneFn,
    ctx: *mut c_void,
) -> i32 {
    boundary(Status, || {
        // SAFETY: the caller's promises, passed on.
        unsafe {
            add(
                e, a_fd, b_fd, a_to_b, a_to_b_len, b_to_a, b_to_a_len, opts, done, ctx,
            )
        }
        .map(drop)
    })
}

/// zcopy_engine_add that returns the relay's id, by which
/// zcopy_engine_relay_counts and zcopy_engine_cancel reach it while it
/// runs (one relay among thousands: live accounting, a per-connection kill).
///
/// Arguments, `done` and thread safety as zcopy_engine_add; `opts` may be
/// a version 2 zcopy_options with per-direction rate limits.
///
/// - `error`: where the errno goes when the add fails (zcopy_engine_add's
///   errors); set to 0 on success. NULL: not reported.
///
/// Returns the relay's id, >= 1 and unique within the engine (ids are
/// never reused), or 0 when nothing started (`done` will not be called).
///
/// # Safety
/// `e` is NULL or a live engine; `opts` is NULL or points to a readable
/// zcopy_options; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_add_ex(
    e: *mut Engine,
    a_fd: c_int,
    b_fd: c_int,
    opts: *const Options,
    done: RelayDoneFn,
    ctx: *mut c_void,
    error: *mut i32,
) -> u64 {
    // SAFETY: `error` is NULL or writable, as the caller promises.
    boundary(unsafe { IdOrError::new(error) }, || {
        // SAFETY: the caller's promises, passed on (no prefix).
        unsafe {
            add(
                e,
                a_fd,
                b_fd,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                opts,
                done,
                ctx,
            )
        }
    })
}

/// zcopy_engine_add_prefixed and zcopy_engine_add_ex in one: prefix bytes
/// delivered first in each direction, and the relay's id returned (0 and
/// `*error` set when nothing started). Arguments, `done` and errors as
/// those two.
///
/// # Safety
/// As zcopy_engine_add_prefixed; `error` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_add_prefixed_ex(
    e: *mut Engine,
    a_fd: c_int,
    b_fd: c_int,
    a_to_b: *const u8,
    a_to_b_len: usize,
    b_to_a: *const u8,
    b_to_a_len: usize,
    opts: *const Options,
    done: RelayDoneFn,
    ctx: *mut c_void,
    error: *mut i32,
) -> u64 {
    // SAFETY: `error` is NULL or writable, as the caller promises.
    boundary(unsafe { IdOrError::new(error) }, || {
        // SAFETY: the caller's promises, passed on.
        unsafe {
            add(
                e, a_fd, b_fd, a_to_b, a_to_b_len, b_to_a, b_to_a_len, opts, done, ctx,
            )
        }
    })
}

/// The bytes a running relay has delivered so far, read while it runs:
/// `*a_to_b` from a_fd to b_fd, `*b_to_a` the other way (prefix bytes
/// included as they are delivered). Each count grows monotonically; they
/// are updated by the relay's engine thread after every step that moved
/// bytes, so they lag the sockets by at most one step (4 MiB a direction).
///
/// - `e`: the engine; `id`: from zcopy_engine_add_ex.
/// - `a_to_b`, `b_to_a`: where to write; either may be NULL.
///
/// Returns 0, or ENOENT once the relay has ended (from the moment its
/// `done` may run; the final counts are in `done`'s result) or for an id
/// this engine never gave; EINVAL for a NULL engine; ESTALE in a child
/// after fork() on an engine made by the parent.
///
/// Thread safety: safe from any thread, also from inside `done`. Never
/// blocks (one short lock).
///
/// # Safety
/// `e` is NULL or a live engine; `a_to_b` and `b_to_a` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_relay_counts(
    e: *const Engine,
    id: u64,
    a_to_b: *mut i64,
    b_to_a: *mut i64,
) -> i32 {
    boundary(Status, || {
        // SAFETY: NULL or a live engine, as promised.
        let engine = unsafe { e.as_ref() }.ok_or(libc::EINVAL)?;
        let (ab, ba) = engine.counts(id)?;
        for (p, v) in [(a_to_b, ab), (b_to_a, ba)] {
            if !p.is_null() {
                // SAFETY: checked non-NULL; writable as promised.
                unsafe { p.write(v) };
            }
        }
        Ok(())
    })
}

/// Ends one running relay: its engine thread is woken and ends it on its
/// next turn (within a few milliseconds), with error ECANCELED and
/// error_fd -1 in `done`'s result, which carries the bytes delivered up to
/// then. Bytes in flight are discarded as for a cancel fd; the fds are not
/// closed.
///
/// - `e`: the engine; `id`: from zcopy_engine_add_ex.
///
/// Returns 0 when the relay was running (its `done` will report
/// ECANCELED, unless it ended another way first), ENOENT when it has
/// already ended or the id is unknown, EINVAL for a NULL engine, ESTALE in
/// a child after fork() on an engine made by the parent.
///
/// Thread safety: safe from any thread, also from inside `done`. Never
/// blocks (two short locks and a wake-up).
///
/// # Safety
/// `e` is NULL or a live engine.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_cancel(e: *mut Engine, id: u64) -> i32 {
    boundary(Status, || {
        // SAFETY: NULL or a live engine, as promised.
        unsafe { e.as_ref() }.ok_or(libc::EINVAL)?.cancel(id)
    })
}
