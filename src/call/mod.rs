//! One blocking call on a (dst, src) pair: its options and `Control`
//! (idle clock, cancel fd, EINTR, NOWAIT), the waits, the fds made
//! non-blocking for it, what its loop reports (`Outcome`), and the bytes
//! it keeps across an interrupted call (`inflight`).
//!
//! | file | what |
//! | --- | --- |
//! | options.rs, control.rs | `zcopy_options` and the `Control` every wait goes through |
//! | wait.rs | one poll(2) per wait, bounded |
//! | nonblock.rs | a blocking fd made non-blocking for one call |
//! | outcome.rs | `Outcome { Ended, Error, Fallback }` |
//! | runner.rs | the one call runner: checks, SIGPIPE guard, resume, body, keep or drop what it held |
//! | deliver.rs | reading and writing while waiting: the write loop, a pipe's bytes to dst, the byte past an urgent mark |
//! | inflight.rs | bytes kept per thread for the next call on the pair |

pub mod control;
pub mod deliver;
pub mod inflight;
pub mod nonblock;
pub mod options;
pub mod outcome;
pub mod runner;
pub mod wait;
