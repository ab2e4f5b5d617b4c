//! The part of zcopy's C ABI the benchmark calls, declared here from
//! include/zcopy.h rather than taken from the crate's Rust modules: the
//! benchmark measures what a C caller gets, and the ABI is the contract that
//! stays put while the modules behind it move. The symbols come from the
//! zcopy rlib this crate links (`use zcopy as _` in main.rs). The one Rust
//! API used besides it is `zcopy::pool::{acquire, release}`, for the
//! variants that time the pool without the rest of a call (the C ABI has
//! no way to lend a pooled pipe's fds).

/// `zcopy_result`: 24 bytes, fields at offsets 0, 8, 12 and 16.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ZResult {
    pub written: i64,
    pub error: i32,
    pub method: i32,
    pub handled: bool,
}

/// `zcopy_pool_stats`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolStats {
    pub idle: u64,
    pub in_use: u64,
    pub created: u64,
    pub reused: u64,
    pub discarded: u64,
}

/// `ZCOPY_METHOD_READ_WRITE`.
pub const METHOD_READ_WRITE: i32 = 4;

/// `ZCOPY_ALL`: move until end of file.
pub const ALL: i64 = i64::MAX;

mod raw {
    use super::{PoolStats, ZResult};
    extern "C" {
        pub fn zcopy_splice(dst: i32, src: i32, remain: i64) -> ZResult;
        pub fn zcopy_sendfile(dst: i32, src: i32, remain: i64) -> ZResult;
        pub fn zcopy_copy_file_range(dst: i32, src: i32, remain: i64) -> ZResult;
        pub fn zcopy_copy(dst: i32, src: i32, remain: i64) -> ZResult;
        pub fn zcopy_pool_drain() -> u64;
        pub fn zcopy_pool_get_stats(out: *mut PoolStats);
        pub fn zcopy_version() -> *const libc::c_char;
    }
}

// The transfer calls take plain ints and check them (a bad fd is EBADF, a
// bad length EINVAL), so they are safe to call with any values.

pub fn splice(dst: i32, src: i32, remain: i64) -> ZResult {
    // SAFETY: see above.
    unsafe { raw::zcopy_splice(dst, src, remain) }
}

pub fn sendfile(dst: i32, src: i32, remain: i64) -> ZResult {
    // SAFETY: see above.
    unsafe { raw::zcopy_sendfile(dst, src, remain) }
}

pub fn copy_file_range(dst: i32, src: i32, remain: i64) -> ZResult {
    // SAFETY: see above.
    unsafe { raw::zcopy_copy_file_range(dst, src, remain) }
}

pub fn copy(dst: i32, src: i32, remain: i64) -> ZResult {
    // SAFETY: see above.
    unsafe { raw::zcopy_copy(dst, src, remain) }
}

/// Closes the pool's idle pipes; returns how many.
pub fn pool_drain() -> u64 {
    // SAFETY: no arguments.
    unsafe { raw::zcopy_pool_drain() }
}

/// The pool's counters now.
pub fn pool_stats() -> PoolStats {
    let mut s = PoolStats::default();
    // SAFETY: s is a writable zcopy_pool_stats.
    unsafe { raw::zcopy_pool_get_stats(&mut s) };
    s
}

/// The library's version string.
pub fn version() -> String {
    // SAFETY: zcopy_version returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(raw::zcopy_version()) }
        .to_string_lossy()
        .into_owned()
}
