//! The kill switch: an operator or a program turns mechanisms off for the
//! whole process (a kernel with a splice bug, a filesystem whose
//! copy_file_range misbehaves), as HAProxy's `nosplice` does. Every call
//! then takes the next path of its dispatch row (read/write last), and the
//! relay and the engine copy instead of splicing.
//!
//! The mask comes from `ZCOPY_DISABLE` (comma-separated names: splice,
//! sendfile, copy_file_range), read once when the library is loaded, and
//! from `zcopy_disable`, which replaces it. One atomic holds it: a call
//! reads it once per mechanism it considers, with no lock, so a change
//! takes effect at the next call (a call already running finishes on the
//! mechanism it started with).

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// splice(2): zcopy_splice, the pooled and direct rows of zcopy_copy, the
/// relay's and the engine's splice takes, zcopy_splicer.
pub const ZCOPY_DISABLE_SPLICE: u32 = 1;
/// sendfile(2): zcopy_sendfile and zcopy_copy's file rows.
pub const ZCOPY_DISABLE_SENDFILE: u32 = 2;
/// copy_file_range(2): zcopy_copy_file_range and zcopy_copy's file -> file
/// row.
pub const ZCOPY_DISABLE_COPY_FILE_RANGE: u32 = 4;

/// Every mechanism bit; others are dropped.
const ALL: u32 = ZCOPY_DISABLE_SPLICE | ZCOPY_DISABLE_SENDFILE | ZCOPY_DISABLE_COPY_FILE_RANGE;

/// Set once the mask holds a decided value (from the environment or from
/// zcopy_disable); below it, the mechanism bits.
const DECIDED: u32 = 1 << 31;

static MASK: AtomicU32 = AtomicU32::new(0);

/// The mask named by a ZCOPY_DISABLE value: names separated by commas,
/// blanks around them ignored, case ignored; unknown names are ignored
/// (a typo must not stop a program from starting).
pub fn parse(value: &str) -> u32 {
    value
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .map(|n| match n.as_str() {
            "splice" => ZCOPY_DISABLE_SPLICE,
            "sendfile" => ZCOPY_DISABLE_SENDFILE,
            "copy_file_range" => ZCOPY_DISABLE_COPY_FILE_RANGE,
            "all" => ALL,
            _ => 0,
        })
        .fold(0, |m, b| m | b)
}

/// Reads ZCOPY_DISABLE into the mask unless one is decided already.
fn decide_from_env() -> u32 {
    // getenv, not std::env: this runs from the loader's constructor too,
    // where nothing of std's runtime may be assumed.
    // SAFETY: a NUL-terminated name; the result is NULL or a C string.
    let p = unsafe { libc::getenv(c"ZCOPY_DISABLE".as_ptr()) };
    let mask = if p.is_null() {
        0
    } else {
        // SAFETY: getenv returned a NUL-terminated string.
        parse(&unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy())
    };
    // A zcopy_disable that ran first wins.
    match MASK.compare_exchange(0, mask | DECIDED, Relaxed, Relaxed) {
        Ok(_) => mask,
        Err(now) => now & ALL,
    }
}

/// The mechanisms turned off now.
#[inline]
pub fn disabled() -> u32 {
    match MASK.load(Relaxed) {
        m if m & DECIDED != 0 => m & ALL,
        // A static link whose constructor was left out: decide now.
        _ => decide_from_env(),
    }
}

/// Replaces the mask (unknown bits dropped) and returns the one now in
/// force.
pub fn set(mask: u32) -> u32 {
    let mask = mask & ALL;
    MASK.store(mask | DECIDED, Relaxed);
    mask
}

/// True when splice is turned off.
#[inline]
pub fn splice_off() -> bool {
    disabled() & ZCOPY_DISABLE_SPLICE != 0
}

/// True when sendfile is turned off.
#[inline]
pub fn sendfile_off() -> bool {
    disabled() & ZCOPY_DISABLE_SENDFILE != 0
}

/// True when copy_file_range is turned off.
#[inline]
pub fn copy_file_range_off() -> bool {
    disabled() & ZCOPY_DISABLE_COPY_FILE_RANGE != 0
}

extern "C" fn read_at_load() {
    decide_from_env();
}

#[used]
#[link_section = ".init_array"]
static READ_AT_LOAD: extern "C" fn() = read_at_load;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_bits() {
        assert_eq!(parse(""), 0);
        assert_eq!(parse("splice"), ZCOPY_DISABLE_SPLICE);
        assert_eq!(
            parse(" Sendfile , copy_file_range"),
            ZCOPY_DISABLE_SENDFILE | ZCOPY_DISABLE_COPY_FILE_RANGE
        );
        assert_eq!(parse("splice,bogus,,"), ZCOPY_DISABLE_SPLICE);
        assert_eq!(parse("all"), ALL);
    }
}
