//! The library's two clocks, both monotonic (never stepped by settimeofday
//! or NTP): `now_ns` for deadlines and idle timeouts, `coarse_ns` where a
//! few milliseconds of slack cost nothing and a cheaper read matters (the
//! pool's back-off windows).

fn read(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is valid for clock_gettime to write.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// CLOCK_MONOTONIC in nanoseconds.
pub fn now_ns() -> i64 {
    read(libc::CLOCK_MONOTONIC)
}

/// CLOCK_MONOTONIC_COARSE in nanoseconds: answered by the vDSO from the
/// last tick (1 to 4 ms old), no system call.
pub fn coarse_ns() -> i64 {
    read(libc::CLOCK_MONOTONIC_COARSE)
}
