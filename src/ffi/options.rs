//! The C boundary for `zcopy_options`.

use super::{boundary, Void};
use crate::call::options::{Options, ZCOPY_OPTIONS_V1_SIZE, ZCOPY_OPTIONS_V2_SIZE};

/// Fills `opts` with the defaults: size 40 (sizeof(zcopy_options), version
/// 2), flags 0, no idle timeout, cancel_fd -1, reserved 0, both rates 0
/// (no limit). Call it before setting the fields you need, so that a later
/// version's new fields get their defaults. It writes all 40 bytes: a
/// program built against a version 1 header (a 24-byte struct) fills its
/// struct itself, with `size` 24.
///
/// - `opts`: the struct to fill; NULL does nothing.
///
/// Thread safety: writes only `*opts`. Never blocks.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_options_init(opts: *mut Options) {
    boundary(Void, || {
        if opts.is_null() {
            return;
        }
        // SAFETY: checked non-NULL; the caller promises room for the struct.
        // write() does not read or drop the uninitialised old value.
        unsafe { opts.write(Options::default()) };
    })
}

/// Reads a caller's zcopy_options by its version: NULL is None; `size` 24
/// (version 1) reads 24 bytes and leaves the rates 0; `size` 40 reads all
/// 40; any other size reads 24 bytes and keeps that size, which
/// validation then refuses (EINVAL). Never reads past what the caller's
/// `size` says it gave. A copy, read unaligned, so that nothing aliases
/// the caller's struct during the call.
///
/// # Safety
/// `opts` is NULL or points to at least 24 readable bytes, and to 40 when
/// its `size` is 40.
pub(crate) unsafe fn read_options(opts: *const Options) -> Option<Options> {
    if opts.is_null() {
        return None;
    }
    // SAFETY: the caller's promise: at least the version 1 struct is readable.
    let size = unsafe { opts.cast::<u32>().read_unaligned() };
    if size == ZCOPY_OPTIONS_V2_SIZE {
        // SAFETY: size 40 promises the whole struct.
        return Some(unsafe { opts.read_unaligned() });
    }
    let mut o = Options::default();
    // SAFETY: 24 bytes readable (above) into a struct of 40; the rates
    // keep their defaults (0).
    unsafe {
        std::ptr::copy_nonoverlapping(
            opts.cast::<u8>(),
            (&mut o as *mut Options).cast::<u8>(),
            ZCOPY_OPTIONS_V1_SIZE as usize,
        )
    };
    Some(o)
}
