//! What a relay accepts: two different byte streams.
//!
//! Checked once, before anything is switched or taken, by zcopy_relay and
//! by the engine's add:
//! - The two fds must be different files, compared by what they are
//!   (st_dev, st_ino), not by their numbers: `relay(fd, dup(fd))` would
//!   echo a peer's bytes back to it.
//! - A socket must be SOCK_STREAM. A relay moves a byte stream in chunks
//!   of its own choosing (8 KiB copies, pipe-sized splices), and a read of
//!   a datagram (UDP, unix SOCK_DGRAM, SOCK_SEQPACKET) shorter than the
//!   message discards the rest of it: refused with EINVAL rather than
//!   losing bytes.

pub(crate) use crate::sys::Identity;
use crate::sys::{fstat, identity_of};

/// Both fds' identities, or (errno, fd): fstat's errno for an fd that is
/// not open, EINVAL with fd -1 when both name one file, EINVAL with the
/// socket's fd for a socket that is not a stream.
pub(crate) fn check_pair(a: i32, b: i32) -> Result<(Identity, Identity), (i32, i32)> {
    let sa = fstat(a).map_err(|e| (e, a))?;
    let sb = fstat(b).map_err(|e| (e, b))?;
    let ids = (identity_of(&sa), identity_of(&sb));
    if ids.0 == ids.1 {
        return Err((libc::EINVAL, -1));
    }
    for (fd, st) in [(a, &sa), (b, &sb)] {
        if st.st_mode & libc::S_IFMT == libc::S_IFSOCK {
            stream_socket(fd).map_err(|e| (e, fd))?;
        }
    }
    Ok(ids)
}

/// Ok for a SOCK_STREAM socket; EINVAL for any other type; getsockopt's
/// errno if it fails.
pub(crate) fn stream_socket(fd: i32) -> Result<(), i32> {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: ty and len are valid for the call and sized as it expects.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    match r {
        0 if ty == libc::SOCK_STREAM => Ok(()),
        0 => Err(libc::EINVAL),
        _ => Err(crate::sys::errno()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::{UnixDatagram, UnixStream};

    #[test]
    fn a_dup_is_the_same_file_and_refused() {
        let (x, y) = UnixStream::pair().unwrap();
        let d = x.try_clone().unwrap();
        assert_eq!(
            check_pair(x.as_raw_fd(), d.as_raw_fd()),
            Err((libc::EINVAL, -1))
        );
        assert!(check_pair(x.as_raw_fd(), y.as_raw_fd()).is_ok());
    }

    #[test]
    fn datagram_sockets_are_refused_with_their_fd() {
        let (s, _t) = UnixStream::pair().unwrap();
        let (g, _h) = UnixDatagram::pair().unwrap();
        assert_eq!(
            check_pair(s.as_raw_fd(), g.as_raw_fd()),
            Err((libc::EINVAL, g.as_raw_fd()))
        );
        assert_eq!(check_pair(-1, s.as_raw_fd()), Err((libc::EBADF, -1)));
    }
}
