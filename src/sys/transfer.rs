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
/// A copy-on-write clone (FICLONE / FICLONERANGE): zcopy_clone, and
/// zcopy_copy_opts with ZCOPY_OPT_REFLINK_ALWAYS.
pub const ZCOPY_METHOD_CLONE: i32 = 5;

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
///
/// Layout (fixed, for FFIs that declare it by hand): 24 bytes, alignment 8;
/// `written` int64 at offset 0, `error` int32 at 8, `method` int32 at 12,
/// `handled` a one-byte bool (0 or 1) at 16, `reserved` 7 bytes at 17 that
/// are always 0 (so an FFI that maps `bool` as a 4-byte int, as Java's JNA
/// does, still reads the truth). Returned by value.
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
    /// Always 0: explicit padding, so that no stale byte reaches the caller.
    pub reserved: [u8; 7],
}

// The layout the header documents, checked at compile time.
const _: () = {
    assert!(std::mem::size_of::<Transfer>() == 24);
    assert!(std::mem::align_of::<Transfer>() == 8);
    assert!(std::mem::offset_of!(Transfer, written) == 0);
    assert!(std::mem::offset_of!(Transfer, error) == 8);
    assert!(std::mem::offset_of!(Transfer, method) == 12);
    assert!(std::mem::offset_of!(Transfer, handled) == 16);
    assert!(std::mem::offset_of!(Transfer, reserved) == 17);
};

/// The `error` of a call whose Rust side panicked, caught at the boundary:
/// an internal bug, not a kernel errno (no errno has this value). The call
/// may have moved `written` bytes; the library stays usable.
///
/// Defined here, below everything that reports it (the engine's workers
/// catch panics of their own), so that nothing imports from the C
/// boundary above it.
pub const ZCOPY_EPANIC: i32 = 7000;

impl Transfer {
    /// A finished transfer: `written` bytes, ended by `error` (0 for success).
    pub fn done(method: i32, written: i64, error: i32) -> Transfer {
        Transfer {
            written,
            error,
            method,
            handled: true,
            reserved: [0; 7],
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
            reserved: [0; 7],
        }
    }

    /// The same result with `earlier` bytes, moved before it in the same
    /// call, added: a mechanism that could not serve the pair after those
    /// bytes is an error with them counted (handled), as the header says.
    pub(crate) fn after(mut self, earlier: i64) -> Transfer {
        self.written += earlier;
        self.handled |= earlier > 0;
        self
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
        ZCOPY_METHOD_CLONE => c"clone",
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
