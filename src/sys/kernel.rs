//! The running kernel's version, for features trusted only from some
//! release on.
//!
//! The answer is cached in one atomic, computed by whichever thread asks
//! first. Two threads racing compute the same value twice, which is
//! harmless; nothing ever waits for another thread here, so a child forked
//! while another thread was computing it cannot hang (a lazy initialiser
//! with a lock could: the child would wait for a thread that does not exist
//! in it).

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;

/// A yes/no fact about the kernel, computed on first use without a lock.
pub(crate) struct KernelFact {
    state: AtomicU8,
    major: u32,
    minor: u32,
}

impl KernelFact {
    /// "The kernel is at least major.minor".
    pub(crate) const fn at_least(major: u32, minor: u32) -> Self {
        KernelFact {
            state: AtomicU8::new(UNKNOWN),
            major,
            minor,
        }
    }

    /// The answer, computed (uname(2), no allocation of note) on first use.
    pub(crate) fn get(&self) -> bool {
        match self.state.load(Relaxed) {
            YES => true,
            NO => false,
            _ => {
                let yes = kernel_at_least(self.major, self.minor);
                self.state.store(if yes { YES } else { NO }, Relaxed);
                yes
            }
        }
    }
}

/// copy_file_range is only trusted from Linux 5.3 on: before it, some
/// filesystems (CIFS, Go issue 42400) produced empty files.
pub(crate) static COPY_FILE_RANGE_OK: KernelFact = KernelFact::at_least(5, 3);

/// True when the running kernel's release is at least major.minor.
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    // SAFETY: uname fills the struct.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return false;
    }
    // SAFETY: release is NUL-terminated by uname.
    let rel = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }.to_bytes();
    let mut parts = rel.split(|c| !c.is_ascii_digit());
    let mut number = || {
        parts
            .next()
            .and_then(|p| std::str::from_utf8(p).ok()?.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (maj, min) = (number(), number());
    (maj, min) >= (major, minor)
}
