//! When a short read(2) may end a direction's step under tokio: the
//! reactor's readiness is edge-triggered, so a step may stop reading
//! before EAGAIN (and clear the readiness, as tokio's own streams do after
//! a short read) only where a read shorter than asked means "nothing more
//! was queued". That saves the read(2) per message that would only answer
//! EAGAIN (measured: 4 reads + 2 writes per 64 B round trip against
//! tokio's 2 + 2, bench/results/tokio.md).
//!
//! Where it holds: a TCP socket, read without MSG_PEEK, copies everything
//! queued up to the length asked (tcp_recvmsg processes its backlog
//! before it stops), except that it stops at the urgent mark with bytes
//! behind it; the driver watches POLLPRI for that (bidi.rs). Where it does
//! not, and the step reads until EAGAIN as before: a unix stream socket
//! stops at a message carrying fds or credentials, a TCP socket with an
//! upper layer (kTLS) at a record that is not data, MPTCP is not checked,
//! a packet-mode pipe or a tty returns one packet or line at a time.

use crate::relay::ReadHints;
use std::os::fd::RawFd;

/// True when a short read(2) from `fd` means it was drained: a TCP socket
/// (IPPROTO_TCP) with no upper-layer protocol attached. Asked once per
/// call; any error answers no.
pub(super) fn short_read_is_final(fd: RawFd) -> bool {
    let mut proto: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `proto`.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PROTOCOL,
            (&mut proto as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r != 0 || proto != libc::IPPROTO_TCP {
        return false;
    }
    // The name of the upper-layer protocol ("tls"); none: length 0.
    let mut ulp = [0u8; 16];
    let mut len = ulp.len() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `ulp`.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_ULP,
            ulp.as_mut_ptr().cast(),
            &mut len,
        )
    };
    r == 0 && (len == 0 || ulp[0] == 0)
}

/// The hints for one step of the direction reading an fd: `tcp` what
/// `short_read_is_final` said, `readable` whether the reactor reported it
/// readable (the readiness a Blocked(Read) clears), `urgent` whether it
/// also reported POLLPRI.
pub(super) fn hints(tcp: bool, readable: bool, urgent: bool) -> ReadHints {
    ReadHints {
        // Without a readiness to clear, or with urgent data pending, read
        // until EAGAIN.
        short_is_final: tcp && readable && !urgent,
        maybe_urgent: urgent,
    }
}
