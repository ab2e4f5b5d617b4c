//! The global pipe pool that splice borrows its pipes from: its size, its
//! counters, and closing its idle pipes.
//!
//! ```
//! zcopy::pool::configure(64, 1 << 20)?;
//! let s = zcopy::pool::stats();
//! assert!(s.created >= s.idle);
//! zcopy::pool::drain();
//! # Ok::<(), std::io::Error>(())
//! ```

// The internal pool, for crate code and the crate's own tools (cli/,
// bench/, tests/), which name it `zcopy::pool::...` too: the three public
// functions below shadow the internal ones of the same name.
#[doc(hidden)]
pub use crate::internal::pool::*;
// Defined in a private module, so rustdoc would show it despite the
// hidden glob: hidden by name.
#[doc(hidden)]
pub use crate::internal::pool::Pipe;

pub use crate::internal::pool::PoolStats;

use std::io;

/// Sets the pool's idle cap (pipes kept for reuse) and the size new pipes
/// ask the kernel for (F_SETPIPE_SZ); 0 keeps that value as it is.
/// `InvalidInput` for a size below 4096 or above 1 GiB, or an idle cap
/// above 65 536.
///
/// ```
/// zcopy::pool::configure(32, 0)?;
/// assert!(zcopy::pool::configure(1, 1).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn configure(max_idle: u64, pipe_size: u64) -> io::Result<()> {
    crate::internal::pool::configure(max_idle, pipe_size).map_err(io::Error::from_raw_os_error)
}

/// A snapshot of the pool's counters (each read atomically).
///
/// ```
/// let s = zcopy::pool::stats();
/// assert!(s.created >= s.reused.min(s.created));
/// ```
pub fn stats() -> PoolStats {
    crate::internal::pool::stats()
}

/// Closes the pool's idle pipes (the shared list and the calling thread's
/// own slot) and returns how many were closed. Pipes lent to running
/// calls, and idle ones in other live threads' slots, stay.
///
/// ```
/// let _closed: u64 = zcopy::pool::drain();
/// ```
pub fn drain() -> u64 {
    crate::internal::pool::drain()
}
