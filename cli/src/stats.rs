//! The --stats figures: rates, method names, the pool line, and the bytes
//! of a file that are data rather than holes (a hole costs no copying, so
//! it is no throughput).

use std::time::Duration;

/// Decimal megabytes per second (as dd and iperf report), 0 for no time.
pub fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 {
        bytes as f64 / secs / 1e6
    } else {
        0.0
    }
}

/// A ZCOPY_METHOD_* value's name.
pub fn method(m: i32) -> &'static str {
    zcopy::method_name(m).to_str().unwrap_or("unknown")
}

/// The pool counters line of --stats, only when the pool was used (a copy
/// between files never takes a pipe: a line of zeros says nothing).
pub fn print_pool(cmd: &str) {
    let s = zcopy::pool::stats();
    if s.idle + s.in_use + s.created + s.reused + s.discarded == 0 {
        return;
    }
    eprintln!(
        "zcopy {cmd}: pool: idle {}, in use {}, created {}, reused {}, discarded {}",
        s.idle, s.in_use, s.created, s.reused, s.discarded
    );
}

/// How many of the first `size` bytes of the file `fd` are data (not in a
/// hole), by lseek(SEEK_DATA/SEEK_HOLE). Moves fd's offset: call it after
/// the copy. A filesystem without those whences counts all as data.
pub fn data_bytes(fd: i32, size: u64) -> u64 {
    let size = size as i64;
    let mut data = 0i64;
    let mut pos = 0i64;
    // Invariant: `data` counts the data bytes in [0, pos).
    while pos < size {
        // SAFETY: lseek takes no pointers; a bad fd is an error.
        let start = unsafe { libc::lseek(fd, pos, libc::SEEK_DATA) };
        if start < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                break; // the rest is a hole
            }
            return size as u64;
        }
        // SAFETY: as above.
        let end = unsafe { libc::lseek(fd, start, libc::SEEK_HOLE) };
        let end = if end < 0 { size } else { end.min(size) };
        data += end - start.min(end);
        pos = end.max(start + 1);
    }
    data as u64
}

/// "1.5 MB"-style size for the concise lines: decimal units, as the rates.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    // Invariant: v is bytes in UNITS[u].
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
