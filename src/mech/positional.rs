//! read/write with explicit offsets (pread(2)/pwrite(2)): the path that
//! the positional calls (zcopy_sendfile_at, zcopy_copy_file_range_at and
//! their _opts forms) take when the kill switch has turned their mechanism
//! off. An offset given is used and advanced, and that fd's own file
//! position is left alone, exactly as the mechanism would have done.

use crate::call::control::Control;
use crate::call::deliver::{read_some, write_all};
use crate::call::outcome::Outcome;
use crate::sys::errno;
use crate::sys::io::with_buffer;

/// Copies up to `remain` bytes from `src` (at `*src_off`, or its position)
/// to `dst` (at `*dst_off`, or its position) through the thread's buffer.
/// Each offset given advances by the bytes that reached dst, so with a src
/// offset nothing read and not written is lost (the next call reads it
/// again); without one, callers that may stop resumably use
/// `read_write::copy_loop`, which keeps such bytes. Callers hold the
/// SIGPIPE guard.
pub(crate) fn copy_at(
    ctl: &mut Control,
    dst: i32,
    mut dst_off: Option<&mut i64>,
    src: i32,
    mut src_off: Option<&mut i64>,
    mut remain: i64,
) -> Outcome {
    with_buffer(|buf| {
        let mut written: i64 = 0;
        // Invariant: `written` bytes were read from src and reached
        // dst; each offset given is its start plus `written`.
        while remain > 0 {
            if let Err(e) = ctl.check() {
                return Outcome::Error(written, e);
            }
            let want = (remain as u64).min(buf.len() as u64) as usize;
            let n = match src_off.as_deref() {
                Some(&at) => pread_some(src, &mut buf[..want], at),
                None => read_some(ctl, src, &mut buf[..want]),
            };
            let n = match n {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Outcome::Error(written, e),
            };
            ctl.progress();
            let sent = match dst_off.as_deref() {
                Some(&at) => pwrite_all(dst, &buf[..n], at),
                None => write_all(ctl, dst, &buf[..n]),
            };
            let advance = |w: usize, off: &mut Option<&mut i64>| {
                if let Some(o) = off.as_deref_mut() {
                    *o += w as i64;
                }
            };
            if let Err((w, e)) = sent {
                advance(w, &mut dst_off);
                advance(w, &mut src_off);
                return Outcome::Error(written + w as i64, e);
            }
            advance(n, &mut dst_off);
            advance(n, &mut src_off);
            written += n as i64;
            remain -= n as i64;
        }
        Outcome::Ended(written)
    })
}

/// One pread(2), EINTR retried. Ok(0) is end of file. A file never answers
/// EAGAIN; a src that is no file gets ESPIPE, as sendfile's offset would.
fn pread_some(fd: i32, buf: &mut [u8], at: i64) -> Result<usize, i32> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), at) };
        if n >= 0 {
            return Ok(n as usize);
        }
        match errno() {
            libc::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// pwrite(2) of all of `buf` at `at`. On error returns the bytes written
/// before it.
fn pwrite_all(fd: i32, buf: &[u8], at: i64) -> Result<(), (usize, i32)> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &buf[done..];
        // SAFETY: rest is valid for rest.len() bytes.
        let n = unsafe { libc::pwrite(fd, rest.as_ptr().cast(), rest.len(), at + done as i64) };
        match n {
            n if n > 0 => done += n as usize,
            0 => return Err((done, libc::ENOSPC)),
            _ if errno() == libc::EINTR => continue,
            _ => return Err((done, errno())),
        }
    }
    Ok(())
}
