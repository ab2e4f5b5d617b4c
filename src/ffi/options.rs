//! The C boundary for `zcopy_options`.

use crate::options::Options;

/// Fills `opts` with the defaults: size 24 (sizeof(zcopy_options)), flags
/// 0, no idle timeout, cancel_fd -1, reserved 0. Call it before setting the
/// fields you need, so that a later version's new fields get their
/// defaults.
///
/// - `opts`: the struct to fill; NULL does nothing.
///
/// Thread safety: writes only `*opts`. Never blocks.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_options_init(opts: *mut Options) {
    if opts.is_null() {
        return;
    }
    // SAFETY: checked non-NULL; the caller promises room for the struct.
    // write() does not read or drop the uninitialised old value.
    unsafe { opts.write(Options::default()) };
}
