//! What the process inherited, read before Rust's runtime changes it.
//!
//! Rust's startup reopens a closed stdin, stdout or stderr on /dev/null and
//! sets SIGPIPE to "ignore". cat(1) must see both as they were: a closed
//! stdout is a write error ("Bad file descriptor"), and a reader that went
//! away kills cat with SIGPIPE unless its parent ignored that signal. A
//! function in .init_array runs before the runtime's own start-up code (as
//! every ELF constructor does), so it sees the inherited state.

use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static SIGPIPE_IGNORED: AtomicBool = AtomicBool::new(false);

extern "C" fn look() {
    // SAFETY: fcntl takes no pointer here; sigaction gets a null new
    // action and a zeroed, writable old one.
    unsafe {
        if libc::fcntl(1, libc::F_GETFD) == -1 {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
        {
            SIGPIPE_IGNORED.store(true, Ordering::Relaxed);
        }
    }
}

#[used]
#[link_section = ".init_array"]
static LOOK: extern "C" fn() = look;

/// Whether the process started with fd 1 closed (`>&-`).
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Ends the process as a write to a pipe without readers ends cat: killed
/// by SIGPIPE (status 141 in a shell) when the parent left SIGPIPE at its
/// default; returns when the parent ignored it (the caller then reports
/// "Broken pipe" and exits 1, as cat does).
pub fn die_of_sigpipe_if_default() {
    if SIGPIPE_IGNORED.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: signal, sigprocmask and raise on a valid signal number, with
    // a zeroed set built by the libc helpers.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(libc::SIGPIPE);
    }
}
