//! The C boundary for the kill switch (disable.rs).

use super::{boundary, Value};

/// Turns mechanisms off (or back on) for the whole process: `mask` replaces
/// the mask in force. Bits: ZCOPY_DISABLE_SPLICE (1), ZCOPY_DISABLE_SENDFILE
/// (2), ZCOPY_DISABLE_COPY_FILE_RANGE (4); others are ignored; 0 turns
/// everything back on.
///
/// The mask starts from the environment variable ZCOPY_DISABLE, read once
/// when the library is loaded: names separated by commas (`splice`,
/// `sendfile`, `copy_file_range`, or `all`), case and blanks ignored,
/// unknown names ignored. Example: `ZCOPY_DISABLE=splice,sendfile`.
///
/// While a mechanism is off, every call takes the next path of its
/// dispatch row instead, read/write last, and its result's `method` says
/// which path moved the bytes (`handled` true):
/// - zcopy_copy(_opts): the row without that mechanism (file -> file:
///   copy_file_range, sendfile, read/write; file -> socket: sendfile,
///   read/write; socket or pipe pairs: splice, read/write).
/// - zcopy_splice(_opts): as zcopy_copy for the pair (read/write, or
///   sendfile from a file).
/// - zcopy_sendfile(_at)(_opts), zcopy_sendfile_hdr: read/write (pread(2)
///   at the offset for the _at forms: src's position is still left alone).
/// - zcopy_copy_file_range(_at)(_opts): sendfile then read/write without
///   offsets; pread(2)/pwrite(2) with them.
/// - zcopy_relay and the engine: every direction copies through user
///   space instead of splicing (bytes already in a pipe are delivered).
/// - zcopy_splicer_step: `handled` false, `error` ENOSYS, nothing taken
///   (as if splice(2) were missing), once it holds nothing.
///
/// A call already running keeps the mechanism it started with; the change
/// applies from the next call (or the next step of a relay).
///
/// Returns the mask now in force (`mask` without unknown bits).
///
/// Thread safety: safe from any thread at any time (one atomic store).
/// Never blocks.
#[no_mangle]
pub extern "C" fn zcopy_disable(mask: u32) -> u32 {
    boundary(Value(0), || crate::sys::disable::set(mask))
}

/// The mask of mechanisms turned off now (ZCOPY_DISABLE_* bits): from
/// ZCOPY_DISABLE at load, or the last zcopy_disable.
///
/// Thread safety: safe from any thread. Never blocks.
#[no_mangle]
pub extern "C" fn zcopy_disabled() -> u32 {
    boundary(Value(0), crate::sys::disable::disabled)
}
