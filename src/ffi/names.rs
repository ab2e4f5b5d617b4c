//! Names and versions: static strings, nothing allocated.

use super::{boundary, Value};
use crate::sys::transfer::method_name;
use std::ffi::c_char;

/// What zcopy_version points to: the version, NUL-terminated.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version, e.g. "0.1.0": a static NUL-terminated string,
/// never to be freed. Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn zcopy_version() -> *const c_char {
    boundary(Value(VERSION.as_ptr().cast()), || VERSION.as_ptr().cast())
}

/// The name of a ZCOPY_METHOD_* value: "none", "splice", "sendfile",
/// "copy_file_range", "read_write", "clone"; "unknown" for any other value. A static
/// NUL-terminated string, never to be freed. Thread safety: safe from any
/// thread.
#[no_mangle]
pub extern "C" fn zcopy_method_name(method: i32) -> *const c_char {
    boundary(Value(c"unknown".as_ptr()), || method_name(method).as_ptr())
}
