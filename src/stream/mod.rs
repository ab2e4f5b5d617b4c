//! Bytes in flight between two system calls, on non-blocking fds that
//! are never waited on here: the one place a byte taken from src may rest
//! before it reaches dst (a pooled pipe or a buffer: `Held`). A waiting
//! call (`call`) and an event loop (the relay, the engine, tokio) step
//! these types and decide what to wait for.
//!
//! | file | what |
//! | --- | --- |
//! | held.rs | `Held`: what was taken and not yet delivered |
//! | direction/ | one direction of a relay (copy small, splice bulk) |
//! | splicer.rs | the splicer for event loops (a pooled pipe kept across steps) |

pub mod direction;
pub mod held;
pub mod splicer;

pub use direction::{Direction, Flow, ReadHints, Want};
pub use held::Held;
