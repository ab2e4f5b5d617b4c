//! Which mechanisms this process may use at all, learned once. A
//! mechanism that answers ENOSYS or EPERM is probed with invalid fds
//! (rust 79274: one odd file must not switch a mechanism off for everyone):
//! EBADF means the syscall is there and allowed; ENOSYS/EPERM means the
//! kernel lacks it or a seccomp filter forbids it, for every fd.

use crate::sys::errno;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// Whether a mechanism is usable in this process, learned once.
pub(crate) struct Availability(AtomicU8);

const UNKNOWN: u8 = 0;
const AVAILABLE: u8 = 1;
const UNAVAILABLE: u8 = 2;

impl Availability {
    const fn new() -> Self {
        Availability(AtomicU8::new(UNKNOWN))
    }

    pub(crate) fn usable(&self) -> bool {
        self.0.load(Relaxed) != UNAVAILABLE
    }

    /// After a call answered ENOSYS or EPERM: ask the kernel once with
    /// invalid fds. EBADF means the syscall is there and allowed, so the
    /// answer came from that one file; ENOSYS/EPERM means the process cannot
    /// use it (no kernel support, or a seccomp filter).
    pub(crate) fn learn(&self, error: i32, probe: impl FnOnce() -> i32) {
        if (error == libc::ENOSYS || error == libc::EPERM) && self.0.load(Relaxed) == UNKNOWN {
            let e = probe();
            let state = if e == libc::ENOSYS || e == libc::EPERM {
                UNAVAILABLE
            } else {
                AVAILABLE
            };
            self.0.store(state, Relaxed);
        }
    }
}

pub(crate) static COPY_FILE_RANGE: Availability = Availability::new();
pub(crate) static SENDFILE: Availability = Availability::new();
pub(crate) static SPLICE: Availability = Availability::new();

fn probe_errno(r: isize) -> i32 {
    if r < 0 {
        errno()
    } else {
        0
    }
}

pub(crate) fn probe_copy_file_range() -> i32 {
    // SAFETY: invalid fds and NULL offsets: the kernel only validates.
    probe_errno(unsafe {
        crate::sys::copy_file_range(-1, std::ptr::null_mut(), -1, std::ptr::null_mut(), 1, 0)
    } as isize)
}

pub(crate) fn probe_sendfile() -> i32 {
    // SAFETY: invalid fds and NULL offset: the kernel only validates.
    probe_errno(unsafe { libc::sendfile(-1, -1, std::ptr::null_mut(), 1) } as isize)
}

pub(crate) fn probe_splice() -> i32 {
    // SAFETY: invalid fds and NULL offsets: the kernel only validates.
    probe_errno(
        unsafe { libc::splice(-1, std::ptr::null_mut(), -1, std::ptr::null_mut(), 1, 0) } as isize,
    )
}
