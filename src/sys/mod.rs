//! The lowest layer: what the kernel offers and this process may use,
//! with no state of a call. Nothing here waits, holds bytes or imports
//! from another layer.
//!
//! | file | what |
//! | --- | --- |
//! | fd.rs | errno, fstat, F_GETFL, raw splice(2) |
//! | io.rs | the thread's copy buffer and the one non-waiting write loop |
//! | urgent.rs | a TCP socket's urgent mark: ask for it, step over it |
//! | transfer.rs | `Transfer` (the C `zcopy_result`), the method ids, the argument checks |
//! | disable.rs | the kill switch |
//! | probe.rs, kernel.rs | which mechanisms this process may use; the kernel's version |
//! | clock.rs | the two monotonic clocks |
//! | sigpipe.rs | SIGPIPE blocked in the calling thread for one call |

pub mod clock;
pub mod disable;
mod fd;
pub mod io;
pub mod kernel;
pub mod probe;
pub mod sigpipe;
pub mod transfer;
pub mod urgent;

pub use fd::*;
