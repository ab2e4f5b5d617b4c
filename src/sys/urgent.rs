//! TCP urgent data (MSG_OOB) in a stream that is being spliced.
//!
//! The kernel's TCP splice (tcp_read_sock) never reads across the urgent
//! mark, with or without SO_OOBINLINE: at the mark it answers 0 on a
//! blocking socket or after the peer's half-close (which looks like end of
//! stream), and EAGAIN on a non-blocking one while poll(2) keeps saying
//! readable (a busy loop). read(2) instead steps over the mark: without
//! SO_OOBINLINE it skips the urgent byte (it stays readable with MSG_OOB
//! until then) and returns the normal bytes after it; with SO_OOBINLINE it
//! returns the urgent byte as ordinary data. Once past the mark, splice
//! works again.
//!
//! So when a socket splice answers 0 or an unexpected EAGAIN, ask
//! ioctl(SIOCATMARK); at the mark, receive one byte with recv(2), which
//! does exactly what read(2) does there, and deliver it to dst by hand.

/// ioctl(SIOCATMARK) (asm-generic/sockios.h; the libc crate lacks it).
const SIOCATMARK: libc::c_ulong = 0x8905;

/// What stepping over the urgent mark gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    /// src is not at an urgent mark (not a TCP socket, or no urgent data):
    /// the 0 or EAGAIN means what it says.
    NotThere,
    /// One byte past the mark, taken from src: deliver it to dst next.
    Byte(u8),
    /// The urgent byte was stepped over and no normal byte follows yet:
    /// wait until src is readable (poll no longer reports the mark).
    Skipped,
    /// End of stream right after the mark.
    Eof,
    /// recv(2) failed with this errno.
    Failed(i32),
}

/// True when `fd` is a socket whose next byte is the urgent mark. Any
/// other fd (pipe, file, a socket type without urgent data) answers an
/// error, which means no.
pub(crate) fn at_mark(fd: i32) -> bool {
    let mut v: libc::c_int = 0;
    // SAFETY: SIOCATMARK writes one int.
    let r = unsafe { libc::ioctl(fd, SIOCATMARK as _, &mut v) };
    r == 0 && v != 0
}

/// After a splice from `src` answered 0 or EAGAIN: if src sits at the
/// urgent mark, take one byte past it as read(2) would.
pub(crate) fn step_over(src: i32) -> Mark {
    if !at_mark(src) {
        return Mark::NotThere;
    }
    let mut b = 0u8;
    loop {
        // SAFETY: one writable byte. MSG_DONTWAIT: a blocking src must not
        // block here (no byte may follow the urgent one yet).
        let n = unsafe { libc::recv(src, (&mut b as *mut u8).cast(), 1, libc::MSG_DONTWAIT) };
        return match n {
            1 => Mark::Byte(b),
            0 => Mark::Eof,
            _ => match crate::sys::errno() {
                libc::EINTR => continue,
                // Without SO_OOBINLINE recv has consumed the urgent byte and
                // found nothing after it.
                libc::EAGAIN => Mark::Skipped,
                e => Mark::Failed(e),
            },
        };
    }
}
