//! How big the pool asks a pipe to be, and when it asks again.
//!
//! The kernel's rules (fs/pipe.c):
//! - A new pipe gets 16 pages. When the user's pipe pages (every process
//!   of that uid together) are already past pipe-user-pages-soft and the
//!   process has neither CAP_SYS_RESOURCE nor CAP_SYS_ADMIN
//!   (too_many_pipe_buffers_soft, pipe_is_unprivileged_user in
//!   alloc_pipe_info), it gets 2 pages (8 KiB) instead.
//! - F_SETPIPE_SZ (pipe_set_size) refuses to grow a pipe with EPERM above
//!   pipe-max-size without CAP_SYS_RESOURCE, and, for an unprivileged
//!   process, when the user's pages after the grow would pass the soft
//!   limit. Shrinking is always allowed.
//!
//! So an unprivileged process with 1 MiB (256-page) pipes reaches the
//! default soft limit (16384 pages) at 64 pipes, and after that every new
//! pipe is 8 KiB for good. The policy:
//! - Privileged (or soft limit 0): every pipe is asked for the configured
//!   size.
//! - Unprivileged, pipe size not set by zcopy_pool_configure: the pool's
//!   pipes share a budget of half the soft limit (the other half is left
//!   to the rest of the process and the user's other processes). A new
//!   pipe is asked for the largest power-of-two size that is at most the
//!   configured one, at most half the budget split evenly over the pool's
//!   pipes (one more counted for it), and at most what the budget has
//!   left; never below 16 KiB. With the defaults (1 MiB, soft limit 16384
//!   pages: a budget of 8192) 16 pipes get 1 MiB, the next 16 512 KiB, the
//!   next 32 256 KiB, and after that new pipes get 16 KiB: the user stays
//!   under the soft limit (where the kernel hands out 8 KiB pipes) for
//!   about 2 000 more pipes.
//! - An explicit pipe size wins: it is asked for as is.
//! - A pipe that came out smaller than asked is kept and lent at its real
//!   size; when it comes back it is grown again, to what the policy allows
//!   then, if that is more, but after a refusal no grow is tried for
//!   `RETRY_NS` (one clock read per release of a small pipe, no syscall),
//!   so a process stuck past the limit pays one failed fcntl per interval,
//!   and one that got back under it regrows its pipes within one.
use super::pipe::{pages_alive, Grow};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

const PAGE: u64 = 4096;
/// The smallest size the budget asks for: 4 pages. Past the budget,
/// another 8 192 such pipes fit in the half of the soft limit left.
const FLOOR: u64 = 4 * PAGE;
/// After a refused grow, no grow is tried again for this long.
pub(super) const RETRY_NS: i64 = 50_000_000;

/// Set by zcopy_pool_configure with a pipe_size: then that size is asked
/// for every pipe.
pub(super) static EXPLICIT: AtomicBool = AtomicBool::new(false);
/// When a grow was last refused (CLOCK_MONOTONIC_COARSE ns; 0: never).
static REFUSED_AT: AtomicI64 = AtomicI64::new(0);
/// Set when a grow within pipe-max-size was refused with EPERM although
/// the process looked privileged (it dropped its capabilities since).
static LEARNED_LIMITED: AtomicBool = AtomicBool::new(false);

/// What was read once from /proc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    /// Budget in pages for the pool's pipes; 0: not limited.
    budget: u64,
    /// Half of pipe-user-pages-soft, for a process that turns out limited.
    half_soft: u64,
}

/// `Limits` in one atomic: bit 63 set once known, bit 0 "privileged" (no
/// budget), the rest half of pipe-user-pages-soft. Computed by whichever
/// thread asks first, with no lock (as kernel.rs): racing threads compute
/// the same value, and a child forked while another thread computed it
/// never waits for a thread that does not exist in it (a lazy initialiser
/// with a lock, such as a OnceCell, could hang such a child).
static LIMITS: AtomicU64 = AtomicU64::new(0);
const KNOWN: u64 = 1 << 63;

fn limits() -> Limits {
    let mut v = LIMITS.load(Relaxed);
    if v & KNOWN == 0 {
        // Unreadable (no /proc): the kernel's default.
        let soft = read_u64("/proc/sys/fs/pipe-user-pages-soft").unwrap_or(16384);
        let half_soft = (soft / 2).min(KNOWN >> 2);
        v = KNOWN | half_soft << 1 | privileged() as u64;
        LIMITS.store(v, Relaxed);
    }
    let half_soft = (v & !KNOWN) >> 1;
    Limits {
        budget: if v & 1 != 0 { 0 } else { half_soft },
        half_soft,
    }
}

/// The budget in pages now (0: none).
fn budget() -> u64 {
    let l = limits();
    if l.budget == 0 && LEARNED_LIMITED.load(Relaxed) {
        l.half_soft
    } else {
        l.budget
    }
}

/// CAP_SYS_RESOURCE (24) or CAP_SYS_ADMIN (21) in the effective set: the
/// kernel's pipe_is_unprivileged_user is false, no soft limit applies.
fn privileged() -> bool {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    let eff = s
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    eff & (1 << 24 | 1 << 21) != 0
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Largest power of two <= n (n >= 1).
fn pow2_floor(n: u64) -> u64 {
    1 << (63 - n.max(1).leading_zeros())
}

/// The size to ask for a pipe promised `wanted` bytes, when the pool has
/// `pipes` pipes alive besides it and `own` pages are this pipe's (0 for
/// a new one).
pub(super) fn ask(wanted: u64, pipes: u64, own: u64) -> u64 {
    let budget = budget();
    if budget == 0 || EXPLICIT.load(Relaxed) {
        return wanted;
    }
    size_within(wanted, budget, pipes, pages_alive().saturating_sub(own))
}

/// The budget's decision: the largest power-of-two size <= `wanted`, <=
/// half the budget split over the pipes alive (`pipes` others and this
/// one), <= what the budget has left after the `others_pages` the other
/// pipes hold; at least FLOOR (or `wanted` when that is less).
fn size_within(wanted: u64, budget: u64, pipes: u64, others_pages: u64) -> u64 {
    let share = budget / (2 * (pipes + 1));
    let left = budget.saturating_sub(others_pages);
    let pages = share.min(left).min(wanted / PAGE).max(1);
    (pow2_floor(pages) * PAGE).clamp(FLOOR.min(wanted), wanted)
}

/// True when a grow may be tried now: none was refused in the last
/// RETRY_NS.
pub(super) fn may_grow() -> bool {
    let at = REFUSED_AT.load(Relaxed);
    at == 0 || coarse_ns() - at >= RETRY_NS
}

/// Takes note of what a grow to `asked` bytes gave.
pub(super) fn noted(grow: Grow, asked: u64) {
    if let Grow::Refused(e) = grow {
        REFUSED_AT.store(coarse_ns().max(1), Relaxed);
        if e == libc::EPERM && asked <= pipe_max_size() {
            // Only the soft (or hard) limit refuses that: the process is
            // limited, whatever its capabilities were at the first look.
            LEARNED_LIMITED.store(true, Relaxed);
        }
    }
}

/// pipe-max-size (read once; 1 MiB, the default, when unreadable).
fn pipe_max_size() -> u64 {
    static MAX: AtomicU64 = AtomicU64::new(0);
    match MAX.load(Relaxed) {
        0 => {
            let m = read_u64("/proc/sys/fs/pipe-max-size").unwrap_or(1 << 20);
            MAX.store(m, Relaxed);
            m
        }
        m => m,
    }
}

pub(super) use crate::sys::clock::coarse_ns;

#[cfg(test)]
mod tests {
    use super::{size_within, PAGE};
    const MIB: u64 = 1 << 20;

    #[test]
    fn decision_table() {
        // (wanted, budget pages, other pipes, their pages) -> size
        let rows = [
            (MIB, 8192, 0, 0, MIB),             // alone: the pool's size
            (MIB, 8192, 15, 15 * 256, MIB),     // the 16th: still 1 MiB
            (MIB, 8192, 16, 16 * 256, MIB / 2), // the 17th: half
            (MIB, 8192, 40, 8000, MIB / 4),     // the share: 99 pages -> 64
            (MIB, 8192, 40, 8192, 16 * 1024),   // budget spent: the floor
            (MIB, 8192, 5000, 9000, 16 * 1024), // far past it: the floor
            (64 * 1024, 8192, 0, 0, 64 * 1024), // never above wanted
            (4096, 8192, 9000, 9000, 4096),     // a wanted below the floor
            (3 * MIB, 8192, 0, 0, 2 * MIB),     // powers of two
        ];
        for (wanted, budget, pipes, others, want) in rows {
            assert_eq!(
                size_within(wanted, budget, pipes, others),
                want,
                "wanted {wanted} budget {budget} pipes {pipes} others {others}"
            );
        }
    }

    #[test]
    fn the_defaults_stay_within_the_budget_until_the_floor() {
        // 200 pipes made one after another with the defaults.
        let (mut pages, mut sizes) = (0, Vec::new());
        for k in 0..200 {
            let s = size_within(MIB, 8192, k, pages);
            pages += s / PAGE;
            sizes.push(s);
        }
        assert!(sizes[..16].iter().all(|&s| s == MIB));
        assert!(sizes[16..32].iter().all(|&s| s == MIB / 2));
        assert!(sizes[32..64].iter().all(|&s| s == MIB / 4));
        assert!(sizes[64..].iter().all(|&s| s == 16 * 1024));
        assert_eq!(pages, 8192 + 136 * 4);
    }
}
