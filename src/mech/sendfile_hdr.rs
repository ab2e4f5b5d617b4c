//! zcopy_sendfile_hdr: a header, a file range and a trailer as one stream
//! (libuv#1831, .NET's Socket.SendFile(pre, post), BSD sendfile's hdtr),
//! with no gap between the parts (golang/go#61530: a body or trailer sent
//! after a small write waited behind Nagle for the peer's delayed ACK):
//! - header and body, no trailer: the header goes with MSG_MORE, so it
//!   waits for the body's first bytes, and sendfile's last chunk (sent
//!   without "more") pushes everything out. Two system calls, as a server
//!   that does it by hand.
//! - with a trailer, on TCP: the three parts under TCP_CORK, set for the
//!   call and released at the end, which pushes the last partial segment
//!   at once (unless the caller had corked the socket: then it is left to
//!   the caller).
//! - elsewhere (a unix socket, a pipe, a file) MSG_MORE means nothing and
//!   the parts are simply written in order (writev for non-sockets).

use crate::call::control::Control;
use crate::call::nonblock::NonBlocking;
use crate::call::outcome::Outcome;
use crate::call::wait::{wait_ready, Wait};
use crate::mech::sendfile::send_loop;
use crate::mech::{positional, read_write};
use crate::stream::Held;
use crate::sys::errno;
use crate::sys::sigpipe::without_sigpipe;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_READ_WRITE, ZCOPY_METHOD_SENDFILE};

/// Most iovecs one sendmsg/writev takes (IOV_MAX on Linux).
const IOV_MAX: usize = 1024;

/// One part of the stream: the caller's buffers, as (pointer, length).
pub(crate) type Part = Vec<libc::iovec>;

/// Sends header, `count` bytes of src (from `*offset`, or its position;
/// ZCOPY_ALL: to its end) and trailer; see the header for the contract.
/// The iovecs were checked at the boundary (non-NULL bases for non-empty
/// lengths, counts within IOV_MAX).
pub(crate) fn send(
    ctl: &mut Control,
    dst: i32,
    mut hdr: Part,
    src: i32,
    offset: Option<&mut i64>,
    count: i64,
    mut trl: Part,
) -> Transfer {
    // A blocking socket's timeout bounded, or (with options) every wait
    // ours, as zcopy_sendfile does: dst only, src is a file.
    let mut nb = NonBlocking::none();
    nb.add(dst, None, Wait::Write, !ctl.is_plain());
    // Sending empties the parts' iovecs: their sizes first.
    let (hlen, tlen) = (total(&hdr), total(&trl));
    let cork = match tlen > 0 && count > 0 {
        true => Cork::on(dst),
        false => None,
    };
    let mut how = match cork {
        Some(_) => Dst::Socket,
        None => Dst::Unknown,
    };
    // The header waits for the body (see the module docs).
    let more = if count > 0 && cork.is_none() {
        libc::MSG_MORE
    } else {
        0
    };
    let t = without_sigpipe(|| {
        let mut written = 0i64;
        // Invariant: `written` bytes of header, body and trailer, in that
        // order, reached dst; the file's position (or *offset) moved by
        // exactly the body bytes among them.
        if let Err((n, e)) = send_part(ctl, dst, &mut hdr, &mut how, more) {
            return Transfer::done(ZCOPY_METHOD_SENDFILE, n, e);
        }
        written += hlen;
        let (body, method) = send_body(ctl, dst, src, offset, count);
        written += body.written();
        if more != 0 && hlen > 0 && body.written() < count {
            // The body ended early (end of file, an error): nothing sent
            // without "more" after the header, so push it out.
            push(dst);
        }
        if let Outcome::Error(_, e) = body {
            return Transfer::done(method, written, e);
        }
        if let Err((n, e)) = send_part(ctl, dst, &mut trl, &mut how, 0) {
            return Transfer::done(method, written + n, e);
        }
        Transfer::done(method, written + tlen, 0)
    });
    // The cork comes off (pushing what it held) before the fd's flags are
    // restored.
    drop(cork);
    drop(nb);
    t
}

/// The file range: sendfile, or read/write where sendfile cannot serve the
/// pair (an O_APPEND file dst) or is turned off (the kill switch).
fn send_body(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    mut offset: Option<&mut i64>,
    count: i64,
) -> (Outcome, i32) {
    if count == 0 {
        return (Outcome::Ended(0), ZCOPY_METHOD_SENDFILE);
    }
    let mut first = 0;
    // Nothing is held back between calls (the header's contract): the
    // caller resumes from `written` alone.
    let mut held = Held::Nothing;
    if !crate::sys::disable::sendfile_off() {
        let o = send_loop(ctl, dst, src, offset.as_deref_mut(), count, &mut held);
        // (Only a socket src leaves a byte, past an urgent mark: a file
        // range never does.)
        held.take().discard();
        match o {
            Outcome::Fallback(n, _) if n < count => first = n,
            Outcome::Fallback(n, _) => return (Outcome::Ended(n), ZCOPY_METHOD_SENDFILE),
            o => return (o, ZCOPY_METHOD_SENDFILE),
        }
    }
    // The next path: read/write from where sendfile stopped.
    let rest = match offset {
        Some(off) => positional::copy_at(ctl, dst, None, src, Some(off), count - first),
        None => {
            let o = read_write::copy_loop(ctl, dst, src, count - first, &mut held);
            unread(src, held);
            o
        }
    };
    (rest.after(first), ZCOPY_METHOD_READ_WRITE)
}

/// Bytes read from the file and not written: the file's position goes
/// back by that much, so that it has moved by exactly the body bytes that
/// reached dst (what a caller resumes from).
fn unread(src: i32, held: Held) {
    let n = held.len() as i64;
    if n > 0 {
        // SAFETY: lseek takes no pointer.
        unsafe { libc::lseek(src, -n, libc::SEEK_CUR) };
    }
    held.discard();
}

/// Bytes a part holds.
fn total(part: &Part) -> i64 {
    part.iter().map(|v| v.iov_len as i64).sum()
}

/// What dst turned out to be: sendmsg is tried first (MSG_NOSIGNAL, and
/// MSG_MORE when asked), ENOTSOCK switches to writev.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dst {
    Unknown,
    Socket,
    Other,
}

/// Writes all of a part, waiting for room as the call's Control allows.
/// On error, the bytes of this part that were written.
fn send_part(
    ctl: &mut Control,
    dst: i32,
    part: &mut Part,
    how: &mut Dst,
    more: i32,
) -> Result<(), (i64, i32)> {
    let mut at = 0usize; // first iovec not yet fully written
    let mut sent = 0i64;
    let whole = total(part);
    // Invariant: `sent` bytes of the part reached dst; part[at..] holds
    // the rest (part[at] advanced past what was written of it).
    while sent < whole {
        while part[at].iov_len == 0 {
            at += 1;
        }
        let iov = &part[at..(at + IOV_MAX).min(part.len())];
        // SAFETY: every iovec points to caller memory of its length
        // (checked non-NULL at the boundary), alive for the call.
        let n = unsafe {
            if *how != Dst::Other {
                let mut m: libc::msghdr = std::mem::zeroed();
                m.msg_iov = iov.as_ptr() as *mut libc::iovec;
                m.msg_iovlen = iov.len() as _; // size_t on glibc, int on musl
                libc::sendmsg(dst, &m, libc::MSG_NOSIGNAL | more)
            } else {
                libc::writev(dst, iov.as_ptr(), iov.len() as i32)
            }
        };
        if n > 0 {
            *how = if *how == Dst::Unknown {
                Dst::Socket
            } else {
                *how
            };
            sent += n as i64;
            ctl.progress();
            advance(part, &mut at, n as usize);
            continue;
        }
        match if n == 0 { libc::EIO } else { errno() } {
            libc::ENOTSOCK if *how == Dst::Unknown => *how = Dst::Other,
            libc::EINTR => continue,
            libc::EAGAIN => wait_ready(ctl, dst, Wait::Write).map_err(|e| (sent, e))?,
            e => return Err((sent, e)),
        }
    }
    Ok(())
}

/// Sends what a TCP socket holds back after a MSG_MORE: taking TCP_CORK
/// off pushes pending frames (nothing for any other fd), unless the caller
/// corks the socket itself.
fn push(fd: i32) {
    if cork_of(fd) == Some(0) {
        set_cork(fd, 0);
    }
}

/// Moves past `n` written bytes: whole iovecs are skipped, a partly
/// written one is shortened from the front.
fn advance(part: &mut Part, at: &mut usize, mut n: usize) {
    while n > 0 {
        let v = &mut part[*at];
        let k = n.min(v.iov_len);
        // SAFETY: k <= iov_len, so the new base stays inside the buffer.
        v.iov_base = unsafe { v.iov_base.cast::<u8>().add(k) }.cast();
        v.iov_len -= k;
        n -= k;
        if v.iov_len == 0 {
            *at += 1;
        }
    }
}

/// TCP_CORK set for the call on a TCP socket that did not have it, and
/// taken off again on drop (which sends what it held).
struct Cork(i32);

impl Cork {
    fn on(fd: i32) -> Option<Cork> {
        // Not TCP (ENOTSOCK, EOPNOTSUPP), or the caller corks it already:
        // leave it alone.
        match cork_of(fd) {
            Some(0) => set_cork(fd, 1).then_some(Cork(fd)),
            _ => None,
        }
    }
}

/// TCP_CORK's value, or None for an fd that is not a TCP socket.
fn cork_of(fd: i32) -> Option<libc::c_int> {
    let mut was: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `was` and `len` are valid for getsockopt to write.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CORK,
            (&mut was as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (r == 0).then_some(was)
}

impl Drop for Cork {
    fn drop(&mut self) {
        set_cork(self.0, 0);
    }
}

fn set_cork(fd: i32, on: libc::c_int) -> bool {
    // SAFETY: a c_int option value, valid for the call.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CORK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}
