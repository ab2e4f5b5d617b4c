//! The pipe pool exports: counters, drain, configuration.

use super::{boundary, Status, Value, Void};
use crate::internal::pool::{self, PoolStats};

/// The C name of the counters (`zcopy_pool_stats` in the header).
pub use crate::internal::pool::PoolStats as ZcopyPoolStats;

/// Fills `*out` with the pool's counters. Each counter is read atomically;
/// while other threads are transferring, the five are not one snapshot.
///
/// - `out`: where to write; NULL does nothing.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one zcopy_pool_stats.
#[no_mangle]
pub unsafe extern "C" fn zcopy_pool_get_stats(out: *mut PoolStats) {
    boundary(Void, || {
        if out.is_null() {
            return;
        }
        let s = pool::stats();
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { out.write(s) };
    })
}

/// Closes the pool's idle pipes: the shared list and the calling thread's
/// own idle pipe. Pipes lent out are not touched; idle pipes kept by other
/// live threads go back to the shared list when those threads exit.
///
/// Returns how many pipes were closed.
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn zcopy_pool_drain() -> u64 {
    boundary(Value(0), pool::drain)
}

/// Configures the global pipe pool.
///
/// - `max_idle`: the most idle pipes kept (default 16); pipes returned past
///   it are closed. 0 keeps the current value; at most 65536.
/// - `pipe_size`: the size new pipes are grown to with F_SETPIPE_SZ
///   (the kernel rounds it up to a power-of-two number of pages). 0 keeps
///   the current value; otherwise 4096 to 1 GiB. Changing it closes the
///   idle pipes of the old size. It is also the most bytes one splice
///   round moves. Default (never set): 1 MiB, except that a process without
///   CAP_SYS_RESOURCE or CAP_SYS_ADMIN sizes new pipes down (to 16 KiB at
///   least) once its pipes use half of /proc/sys/fs/pipe-user-pages-soft,
///   because past that limit the kernel makes every new pipe 8 KiB (see
///   docs/INTERNALS.md). A size set here is asked for every pipe, as is.
///   Either way a pipe the kernel refused to grow is kept and lent at its
///   real size, and grown again later when the kernel allows.
///
/// Returns 0, or EINVAL when a value is out of range (nothing changed), or
/// ZCOPY_EPANIC after an internal panic.
///
/// Thread safety: safe from any thread; calls in flight keep the pipes
/// they have.
#[no_mangle]
pub extern "C" fn zcopy_pool_configure(max_idle: u64, pipe_size: u64) -> i32 {
    boundary(Status, || pool::configure(max_idle, pipe_size))
}
