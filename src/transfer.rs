//! The outcome of one transfer, shared by every mechanism and by the C ABI
//! (it is `zcopy_result` in the header).

/// Which kernel mechanism moved the bytes (or failed). Values of
/// `zcopy_result.method`.
pub const ZCOPY_METHOD_NONE: i32 = 0;
/// splice(2), directly or through a pooled pipe.
pub const ZCOPY_METHOD_SPLICE: i32 = 1;
/// sendfile(2).
pub const ZCOPY_METHOD_SENDFILE: i32 = 2;
/// copy_file_range(2).
pub const ZCOPY_METHOD_COPY_FILE_RANGE: i32 = 3;
/// A plain read(2)/write(2) loop through a user-space buffer.
pub const ZCOPY_METHOD_READ_WRITE: i32 = 4;

/// "Until end of file" for `remain`: INT64_MAX.
pub const ZCOPY_ALL: i64 = i64::MAX;

/// The result of a transfer.
///
/// `written` counts the bytes that reached `dst`, also when `error` is not 0.
/// `error` is 0, or the errno value that ended the transfer. `method` is the
/// `ZCOPY_METHOD_*` that moved the bytes (or failed). `handled` is false only
/// when the mechanism cannot serve this pair of fds and consumed nothing from
/// `src`: the caller should fall back to another mechanism; `error` then
/// carries the reason when a system call gave one, else 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Bytes that reached dst, also when `error` is not 0.
    pub written: i64,
    /// 0, or the errno value that ended the transfer.
    pub error: i32,
    /// The ZCOPY_METHOD_* that moved the bytes, or failed.
    pub method: i32,
    /// false: this mechanism cannot serve this fd pair and consumed nothing
    /// from src; the caller should fall back.
    pub handled: bool,
}

impl Transfer {
    /// A finished transfer: `written` bytes, ended by `error` (0 for success).
    pub fn done(method: i32, written: i64, error: i32) -> Transfer {
        Transfer {
            written,
            error,
            method,
            handled: true,
        }
    }

    /// The mechanism cannot serve these fds and consumed nothing from src.
    /// `reason` is the errno that told us so, or 0 when no call failed.
    pub fn unhandled(method: i32, reason: i32) -> Transfer {
        Transfer {
            written: 0,
            error: reason,
            method,
            handled: false,
        }
    }

    /// True when the transfer ended without an error.
    pub fn ok(&self) -> bool {
        self.handled && self.error == 0
    }
}

/// The name of a `ZCOPY_METHOD_*` value, or "unknown" (NUL-terminated, so
/// the C boundary can hand it out as it is).
pub fn method_name(method: i32) -> &'static std::ffi::CStr {
    match method {
        ZCOPY_METHOD_NONE => c"none",
        ZCOPY_METHOD_SPLICE => c"splice",
        ZCOPY_METHOD_SENDFILE => c"sendfile",
        ZCOPY_METHOD_COPY_FILE_RANGE => c"copy_file_range",
        ZCOPY_METHOD_READ_WRITE => c"read_write",
        _ => c"unknown",
    }
}

/// Checks shared by every entry point: a negative fd is EBADF, a negative
/// `remain` is EINVAL (both handled: the caller made a mistake, and falling
/// back would not fix it).
pub fn check_args(method: i32, dst: i32, src: i32, remain: i64) -> Option<Transfer> {
    if dst < 0 || src < 0 {
        return Some(Transfer::done(method, 0, libc::EBADF));
    }
    if remain < 0 {
        return Some(Transfer::done(method, 0, libc::EINVAL));
    }
    None
}
