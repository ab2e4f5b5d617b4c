//! zcopy: Go's zero-copy machinery (splice through a pipe pool, sendfile,
//! copy_file_range) for every language that can call C.
//!
//! The real logic lives in plain Rust, one module per mechanism; `ffi` is
//! the thin C boundary over it. Rust callers can use the mechanism modules
//! directly; the rest is internal.

pub mod clone;
pub mod control;
pub mod copy_file_range;
pub mod disable;
pub mod dispatch;
pub mod engine;
pub mod ffi;
mod inflight;
mod kernel;
mod nonblock;
pub mod options;
mod outcome;
mod pipe;
pub mod pool;
mod positional;
mod probe;
pub mod read_write;
pub mod relay;
pub mod sendfile;
mod sendfile_hdr;
pub mod sigpipe;
pub mod sparse;
pub mod splice;
pub mod splicer;
pub mod sys;
pub mod transfer;
mod urgent;
mod wait;

/// The dispatch's former name: `zcopy::dispatch::copy` is `dispatch::copy`.
pub use dispatch as copy;

pub use options::{
    Options, ZCOPY_OPT_CLOSE_BOTH, ZCOPY_OPT_EINTR, ZCOPY_OPT_NOWAIT, ZCOPY_OPT_REFLINK_ALWAYS,
    ZCOPY_OPT_REFLINK_NEVER,
};
pub use transfer::{
    method_name, Transfer, ZCOPY_ALL, ZCOPY_METHOD_CLONE, ZCOPY_METHOD_COPY_FILE_RANGE,
    ZCOPY_METHOD_NONE, ZCOPY_METHOD_READ_WRITE, ZCOPY_METHOD_SENDFILE, ZCOPY_METHOD_SPLICE,
};

/// The crate's version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// include/zcopy.h as this build generated it (build.rs writes it to
/// OUT_DIR, never into the source tree): tests/header.rs compares the
/// committed copy with it, and `make header` refreshes that copy.
#[doc(hidden)]
pub const GENERATED_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/zcopy.h"));
