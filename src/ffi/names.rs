//! Names and versions: static strings, nothing allocated.

use crate::sys::transfer::method_name;
use std::ffi::c_char;

/// The library's version, e.g. "0.1.0": a static NUL-terminated string,
/// never to be freed. Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn zcopy_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr() as *const c_char
}

/// The name of a ZCOPY_METHOD_* value: "none", "splice", "sendfile",
/// "copy_file_range", "read_write"; "unknown" for any other value. A static
/// NUL-terminated string, never to be freed. Thread safety: safe from any
/// thread.
#[no_mangle]
pub extern "C" fn zcopy_method_name(method: i32) -> *const c_char {
    method_name(method).as_ptr()
}
