//! The C boundary of the relay engine (src/engine/mod.rs).

use super::{boundary, Handle, Status, Void};
use crate::call::options::Options;
use crate::engine::{Engine, EngineStats, RelayResult};
use std::ffi::{c_int, c_void};

/// The callback of zcopy_engine_add: called exactly once per relay, from
/// an engine thread, when the relay ends, with the caller's `ctx` and the
/// relay's result (as zcopy_relay's: bytes each way, error, error_fd).
pub type RelayDoneFn = Option<unsafe extern "C" fn(ctx: *mut c_void, result: RelayResult)>;

/// The caller's context pointer, carried to an engine thread. The library
/// never dereferences it.
struct Ctx(*mut c_void);

// SAFETY: only handed back to the caller's callback, which zcopy_engine_add
// documents as running on an engine thread.
unsafe impl Send for Ctx {}

/// Starts a relay engine: `threads` threads of its own, each running an
/// epoll loop over the relays it is given.
///
/// - `threads`: how many threads; 0 means one per CPU the process may run
///   on (sched_getaffinity). At most 1024.
///
/// Returns the engine (release it with zcopy_engine_free), or NULL with
/// errno set: EINVAL (`threads` above 1024), EMFILE/ENFILE (no fd for an
/// epoll instance or eventfd), EAGAIN/ENOMEM (no thread could be
/// started; none is left running).
///
/// The engine's threads block every signal, so no signal handler runs on
/// them and SIGPIPE from a peer that went away never kills the process.
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn zcopy_engine_new(threads: u32) -> *mut Engine {
    boundary(Handle::new(), || Engine::new(threads))
}

/// Hands a pair of connected fds to the engine, which relays between them
/// with zcopy_relay's semantics until both directions are done: bytes
/// from `a_fd` go to `b_fd` and from `b_fd` to `a_fd` at the same time;
/// a direction whose source reaches EOF shuts down its destination's write
/// side (half-close) and the other goes on; ZCOPY_OPT_CLOSE_BOTH ends both
/// at the first EOF; a hard error on either fd (reset, EPIPE) ends both and
/// is reported with the fd it came from; `opts->idle_timeout_ms` ends the
/// relay with ETIMEDOUT after that long without a byte in either
/// direction; a readable `opts->cancel_fd` ends it with ECANCELED
/// (ZCOPY_OPT_EINTR has no effect: engine threads take no signals).
///
/// - `e`: the engine.
/// - `a_fd`, `b_fd`: two fds epoll can watch (stream sockets, pipes,
///   ttys) naming two different files, neither in a relay of this engine
///   that is still running, blocking or not: they are switched to O_NONBLOCK while the
///   relay runs and get their flags back before `done` is called. The
///   engine never closes them (`done` usually does). Do not read, write
///   or close them while the relay runs.
/// - `opts`: NULL for the defaults, or options filled with
///   zcopy_options_init. The cancel fd is dup'ed (one fd more per relay
///   while it runs) so that one fd can cancel any number of relays.
/// - `done`: called exactly once, from an engine thread, when the relay
///   ends: after the fds were unregistered, their flags restored and
///   their claim released, so it may close them, and it may call
///   zcopy_engine_add again (with the same fds too). It must not block
///   for long (the thread serves other relays). It may call
///   zcopy_engine_free for its own engine (see there). NULL is allowed:
///   the relay runs and ends unobserved (zcopy_engine_get_stats still
///   counts it).
/// - `ctx`: passed to `done` untouched.
///
/// Returns 0 when the relay was handed over (then `done` will be called),
/// or an errno and nothing started (`done` will not be called), the
/// running relays left alone: EINVAL (`e` NULL, `a_fd` and `b_fd` one
/// file (equal, or a dup), a socket that is not SOCK_STREAM (UDP, unix
/// SOCK_DGRAM or SOCK_SEQPACKET: a relay would cut its messages), or
/// `opts` invalid: see zcopy_options), EBADF (an fd negative or not open,
/// or `opts->cancel_fd` not open), EPERM (an fd epoll cannot watch: a
/// regular file, a directory, a device without poll such as /dev/null),
/// EEXIST (`a_fd` or `b_fd`, or a dup of either, is in a relay of this
/// engine that has not ended: one connection is never relayed twice),
/// EMFILE (no fd left to dup the cancel fd), ECANCELED (the engine is
/// being freed: an add from a done callback during zcopy_engine_free),
/// ESTALE (called in a child process on an engine made before fork():
/// the engine's threads exist only in the parent).
/// Failures only the engine thread sees (epoll_ctl's ENOMEM or ENOSPC)
/// come through `done` with `error` set.
///
/// Thread safety: safe from any thread at once, and from inside `done`.
/// Never blocks (one short lock).
///
/// # Safety
/// `e` is NULL or a live engine; `opts` is NULL or points to a readable
/// zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_add(
    e: *mut Engine,
    a_fd: c_int,
    b_fd: c_int,
    opts: *const Options,
    done: RelayDoneFn,
    ctx: *mut c_void,
) -> i32 {
    boundary(Status, || {
        // SAFETY: the caller promises NULL or a live engine (shared use:
        // add takes &self, safe from many threads).
        let engine = unsafe { e.as_ref() }.ok_or(libc::EINVAL)?;
        // SAFETY: NULL or a readable zcopy_options (version 1 or 2), as
        // promised.
        let opts = unsafe { super::read_options(opts) };
        engine.add(a_fd, b_fd, opts.as_ref(), callback(done, ctx))
    })
}

/// The caller's callback and context as the engine's `Done`.
pub(super) fn callback(done: RelayDoneFn, ctx: *mut c_void) -> Option<crate::engine::Done> {
    let ctx = Ctx(ctx);
    done.map(|f| -> crate::engine::Done {
        Box::new(move |r: RelayResult| {
            let ctx = ctx;
            // SAFETY: the caller's callback with the caller's ctx.
            unsafe { f(ctx.0, r) }
        })
    })
}

/// Reads the engine's counters into `*out`: relays running now, relays
/// ended since start, bytes delivered (both directions, all relays) and
/// pool pipes the engine's relays hold now (only relays with bytes in
/// flight hold one). Each counter is read atomically, the set is not one
/// snapshot while relays run; once every `done` has returned, active is
/// 0, finished counts every relay and pipes_in_use is 0.
///
/// - `e`: the engine; NULL does nothing.
/// - `out`: where to write; NULL does nothing.
///
/// Thread safety: safe from any thread, also from inside `done`. Never
/// blocks.
///
/// # Safety
/// `e` is NULL or a live engine; `out` is NULL or writable memory for one
/// zcopy_engine_stats.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_get_stats(e: *const Engine, out: *mut EngineStats) {
    boundary(Void, || {
        // SAFETY: the caller promises NULL or a live engine.
        let Some(engine) = (unsafe { e.as_ref() }) else {
            return;
        };
        if !out.is_null() {
            // SAFETY: checked non-NULL; writable as promised.
            unsafe { out.write(engine.stats()) };
        }
    })
}

/// Stops the engine: every relay still running ends with error ECANCELED
/// (its `done` is called, from an engine thread, before this returns; the
/// fds are not closed), then the engine's threads are joined and its
/// memory freed.
///
/// - `e`: the engine, or NULL (does nothing). It must not be used
///   afterwards, and no other thread may be inside zcopy_engine_add on it.
///
/// Blocking: until every `done` has returned and every thread exited.
/// It may be called from inside a `done` callback of the same engine:
/// then it does not wait for the calling thread, which ends its remaining
/// relays (calling their `done`) after the callback returns.
///
/// After fork(): in a child, an engine inherited from the parent is
/// inert. Freeing it there returns at once, closes only the child's copies
/// of the engine's own fds (its epoll and wake-up fds) and touches no lock
/// and no thread of the parent; the parent's relays and `done` callbacks
/// are unaffected. zcopy_engine_add on it answers ESTALE.
///
/// # Safety
/// `e` is NULL or a live engine from zcopy_engine_new, freed once.
#[no_mangle]
pub unsafe extern "C" fn zcopy_engine_free(e: *mut Engine) {
    boundary(Void, || {
        if e.is_null() {
            return;
        }
        // SAFETY: the caller hands back ownership of a Box made by _new.
        drop(unsafe { Box::from_raw(e) });
    })
}
