//! zcopy: Go's zero-copy machinery (splice through a pipe pool, sendfile,
//! copy_file_range) for Rust, and for every language that can call C.
//!
//! # Which call for which job
//!
//! | job | call |
//! | --- | --- |
//! | move bytes from one fd to another, best mechanism chosen | [`copy`] |
//! | the same, with a timeout, a cancel handle or no waiting | [`copy_with`] and [`Options`] |
//! | one mechanism on purpose | [`splice`], [`sendfile`], [`copy_file_range`] (and `_at`, `_with` forms) |
//! | a two-way proxy between two connections, in this thread | [`relay`] |
//! | thousands of proxied connections on a few threads | [`Engine`] |
//! | your own event loop (epoll, mio) moving one direction | [`Splicer`] |
//! | tokio (feature `tokio`) | `zcopy::tokio::copy_bidirectional`, `zcopy::tokio::copy` |
//! | the pipe pool's size and counters | [`pool`] |
//!
//! Every call takes borrowed fds ([`AsFd`](std::os::fd::AsFd): `&File`,
//! `&TcpStream`, `&UnixStream`, ...) and returns an [`std::io::Result`].
//! A transfer's error carries a [`TransferError`] (the bytes that reached
//! dst before it); a mechanism that cannot serve a pair returns
//! [`std::io::ErrorKind::Unsupported`] with a [`NotHandled`] and took
//! nothing, so the caller can fall back ([`copy`] falls back by itself).
//!
//! # Blocking and threads
//!
//! The transfer calls and [`relay`] block the calling thread until done,
//! sleeping in poll(2) while an fd is not ready (non-blocking fds are
//! fine; blocking ones are made non-blocking for the call and restored).
//! Every call is safe from any number of threads at once, each on its own
//! fds. SIGPIPE is blocked in the thread for a call, never handled
//! process-wide. [`Options::nowait`] makes a transfer return
//! `WouldBlock` instead of waiting; the [`Engine`] and the tokio functions
//! never block their caller.
//!
//! # What a timeout means
//!
//! [`Options::idle_timeout`] is an idle timeout, not a deadline: the call
//! ends with `TimedOut` once no byte has moved, either way, for that long;
//! every byte moved restarts the clock. A [`Canceller`] ends calls at
//! once from another thread.
//!
//! # Quick start
//!
//! ```
//! use std::io::Read;
//! use std::os::unix::net::UnixStream;
//! let path = std::env::temp_dir().join(format!("zcopy-quick-{}", std::process::id()));
//! std::fs::write(&path, b"zero copy")?;
//! let file = std::fs::File::open(&path)?;
//! let (sock, mut peer) = UnixStream::pair()?;
//! let done = zcopy::copy(&sock, &file, None)?;
//! println!("{} bytes by {}", done.bytes, done.method);
//! drop(sock);
//! let mut got = String::new();
//! peer.read_to_string(&mut got)?;
//! assert_eq!(got, "zero copy");
//! # std::fs::remove_file(path)?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # The rest
//!
//! The modules below the public API (the mechanisms, the engine's
//! internals, the C boundary) are `pub` but `#[doc(hidden)]`: the crate's
//! own CLI, benchmarks and tests use them. They are not part of the API
//! and may change in any release.
#![deny(missing_docs)]

// The C header describes the C boundary only: cbindgen must not see the
// Rust API's types (Engine, Splicer share the internal ones' names).
/// cbindgen:ignore
mod api;
pub use api::{
    clone_file, copy, copy_file_range, copy_file_range_at, copy_file_range_at_with,
    copy_file_range_with, copy_with, disable, disabled, pool, relay, relay_prefixed, sendfile,
    sendfile_at, sendfile_at_with, sendfile_with, splice, splice_with, Canceller, Copied, Engine,
    EngineStats, Method, NotHandled, Options, RelayCounts, RelayError, RelayId, Side, Splicer,
    TransferError, Want,
};

// The layers, lowest first: a module imports only from layers above it
// in this list (tests/architecture.rs reads every `use crate::` line).
#[doc(hidden)]
pub mod sys;
// The pool keeps its name inside `internal`: the public `pool` module
// (src/api/pool.rs) re-exports it, hidden.
#[doc(hidden)]
#[path = "."]
pub mod internal {
    pub mod pool;
}
#[doc(hidden)]
pub mod call;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod mech;
#[doc(hidden)]
pub mod relay;
#[doc(hidden)]
pub mod stream;
// (mod api: above, first, for cbindgen's sake.)
#[doc(hidden)]
pub mod ffi;
#[cfg(feature = "tokio")]
pub mod tokio;

// The internal modules' former paths (`zcopy::dispatch::copy`, ...), for
// the crate's own cli/, bench/ and tests/.
#[doc(hidden)]
pub use call::options;
#[doc(hidden)]
pub use mech::dispatch as copy;
#[doc(hidden)]
pub use mech::{clone, copy_file_range, dispatch, read_write, sendfile, sparse, splice};
#[doc(hidden)]
pub use stream::splicer;
#[doc(hidden)]
pub use sys::{disable, sigpipe, transfer};

#[doc(hidden)]
pub use options::{
    ZCOPY_OPT_CLOSE_BOTH, ZCOPY_OPT_EINTR, ZCOPY_OPT_NOWAIT, ZCOPY_OPT_REFLINK_ALWAYS,
    ZCOPY_OPT_REFLINK_NEVER,
};
#[doc(hidden)]
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
