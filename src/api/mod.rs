//! The public Rust API: a thin facade over the internal mechanisms, in
//! Rust's habits (borrowed fds, `io::Result`, enums, `Duration`, a
//! builder). Nothing here holds logic of its own beyond converting
//! arguments and results.

mod copy;
mod copy_at;
mod engine;
mod error;
mod options;
pub mod pool;
mod proxy;
mod relay;
mod splicer;
mod switches;

pub use copy::{
    copy, copy_file_range, copy_file_range_with, copy_with, sendfile, sendfile_with, splice,
    splice_with, Copied,
};
pub use copy_at::{copy_file_range_at, copy_file_range_at_with, sendfile_at, sendfile_at_with};
pub use engine::{Engine, EngineStats};
pub use error::{NotHandled, TransferError};
pub use options::{Canceller, Options};
pub use proxy::{relay_prefixed, RelayId};
pub use relay::{relay, RelayCounts, RelayError, Side};
pub use splicer::{Splicer, Want};
pub use switches::{clone_file, disable, disabled};

use std::fmt;

/// The kernel mechanism that moved the bytes (or was running when an
/// error ended the call).
///
/// ```
/// assert_eq!(zcopy::Method::Splice.name(), "splice");
/// assert_eq!(zcopy::Method::CopyFileRange.to_string(), "copy_file_range");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Nothing ran (a call asked to move 0 bytes, or refused its
    /// arguments before choosing).
    None,
    /// splice(2), directly or through a pooled pipe.
    Splice,
    /// sendfile(2).
    Sendfile,
    /// copy_file_range(2).
    CopyFileRange,
    /// A read(2)/write(2) loop through a user-space buffer.
    ReadWrite,
    /// A copy-on-write clone (FICLONE / FICLONERANGE): extents shared.
    Clone,
}

impl Method {
    /// Its name, as the C library's zcopy_method_name gives it.
    ///
    /// ```
    /// assert_eq!(zcopy::Method::ReadWrite.name(), "read_write");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Splice => "splice",
            Method::Sendfile => "sendfile",
            Method::CopyFileRange => "copy_file_range",
            Method::ReadWrite => "read_write",
            Method::Clone => "clone",
        }
    }

    pub(crate) fn from_raw(m: i32) -> Method {
        match m {
            crate::ZCOPY_METHOD_SPLICE => Method::Splice,
            crate::ZCOPY_METHOD_SENDFILE => Method::Sendfile,
            crate::ZCOPY_METHOD_COPY_FILE_RANGE => Method::CopyFileRange,
            crate::ZCOPY_METHOD_READ_WRITE => Method::ReadWrite,
            crate::ZCOPY_METHOD_CLONE => Method::Clone,
            _ => Method::None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// What the docs promise about threads, checked at compile time.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Engine>();
    send_sync::<Options>();
    send_sync::<Canceller>();
    send::<Splicer>();
};
