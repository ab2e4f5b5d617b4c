//! The C boundary for zcopy_sendfile_hdr (sendfile_hdr.rs).

use super::transfer_opts::with_options;
use super::{boundary, offset_in, offset_out, Transfers};
use crate::call::options::Options;
use crate::mech::sendfile_hdr::Part;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_SENDFILE as M};
use std::ffi::c_int;

/// Most iovecs a header or trailer may have (IOV_MAX).
const MAX_IOV: c_int = 1024;

/// Copies a caller's iovec array (its pointers, not the bytes), checking
/// it: EINVAL for a negative count or one above 1024, a NULL array with a
/// count, or a NULL base with a non-zero length.
///
/// # Safety
/// `v` is NULL or points to `cnt` readable iovecs.
unsafe fn part(v: *const libc::iovec, cnt: c_int) -> Result<Part, i32> {
    if !(0..=MAX_IOV).contains(&cnt) || (v.is_null() && cnt > 0) {
        return Err(libc::EINVAL);
    }
    if cnt == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: non-NULL, `cnt` iovecs readable (the caller's promise).
    let s = unsafe { std::slice::from_raw_parts(v, cnt as usize) };
    if s.iter().any(|i| i.iov_base.is_null() && i.iov_len > 0) {
        return Err(libc::EINVAL);
    }
    let total: u128 = s.iter().map(|i| i.iov_len as u128).sum();
    if total > (i64::MAX / 4) as u128 {
        return Err(libc::EINVAL);
    }
    Ok(s.to_vec())
}

/// Sends a header, a range of a file and a trailer to `dst_fd` as one
/// stream, with no gap between them: an HTTP response's head, body and
/// (chunked) trailer in one call. On a TCP socket the call sets TCP_CORK
/// for its length (unless the caller had set it) and releases it at the
/// end, so the header travels in the body's first segments and the last
/// partial segment leaves at once, never held back by Nagle waiting for an
/// ACK; elsewhere (unix socket, pipe, file) the parts are written in order.
///
/// - `dst_fd`: any fd sendfile or write can serve: a socket, a pipe, a
///   file (O_APPEND too: the body then goes by read/write).
/// - `hdr`, `hdr_cnt`: the header, sent first; NULL and 0 for none. At
///   most 1024 iovecs; a NULL base needs length 0. The buffers are only
///   read, during the call.
/// - `src_fd`: the file (regular file or block device) the body comes from.
/// - `offset`: NULL sends from src's file position and advances it; else
///   sends from `*offset`, advances `*offset` by the body bytes sent (also
///   on error), and leaves the file position alone (many threads may send
///   from one fd). Negative: EINVAL.
/// - `count`: body bytes to send; ZCOPY_ALL: to the end of the file. A file
///   that ends sooner ends the body there (the trailer still follows;
///   `written` tells): size `count` from fstat for a Content-Length.
/// - `trl`, `trl_cnt`: the trailer, sent last; as `hdr`.
/// - `opts`: NULL, or zcopy_options (version 1 or 2) as for
///   zcopy_sendfile_opts: `idle_timeout_ms` and `cancel_fd` bound every
///   wait of all three parts; ZCOPY_OPT_EINTR ends a wait on a signal;
///   ZCOPY_OPT_NOWAIT never waits (see below). Rates must be 0.
///
/// Returns a zcopy_result: `written` counts header, body and trailer bytes
/// that reached dst, in that order, also on error; `method`
/// ZCOPY_METHOD_SENDFILE, or ZCOPY_METHOD_READ_WRITE when the body went
/// through read/write (sendfile cannot serve the pair, or is turned off by
/// zcopy_disable); `handled` true.
///
/// Resuming (after EAGAIN with ZCOPY_OPT_NOWAIT, EINTR, ETIMEDOUT): the
/// stream is header, then body, then trailer, and `written` says how far
/// it got. Call again with the rest: the header's first `written` bytes
/// dropped while `written` < header length; else no header, the body's
/// count reduced by `written` - header length (the position or `*offset`
/// has moved by exactly that); past the body, only the trailer's rest.
/// Nothing is held back by the library in between.
///
/// Errors: EBADF (negative or closed fd), EINVAL (negative `count` or
/// `*offset`, bad iovec arrays, bad options, non-zero rates), EAGAIN
/// (NOWAIT: dst full; or the socket's SO_SNDTIMEO ran out), ETIMEDOUT,
/// ECANCELED, EINTR (as for zcopy_sendfile_opts), EPIPE / ECONNRESET
/// (peer gone; no SIGPIPE reaches the process), ESPIPE (an offset on a
/// src that has none), and any errno the kernel reports.
///
/// Thread safety: safe from any thread (one call per dst at a time:
/// calls on one socket interleave their bytes). Blocking: as
/// zcopy_sendfile_opts (poll(2) waits, no spinning).
///
/// # Safety
/// `hdr` and `trl` are NULL or point to their counts of readable iovecs
/// whose buffers are readable for their lengths; `offset` is NULL or a
/// readable and writable int64_t; `opts` is NULL or a readable
/// zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_sendfile_hdr(
    dst_fd: c_int,
    hdr: *const libc::iovec,
    hdr_cnt: c_int,
    src_fd: c_int,
    offset: *mut i64,
    count: i64,
    trl: *const libc::iovec,
    trl_cnt: c_int,
    opts: *const Options,
) -> Transfer {
    boundary(Transfers(M), || {
        if dst_fd < 0 || src_fd < 0 {
            return Transfer::done(M, 0, libc::EBADF);
        }
        // SAFETY: the caller's promises about the arrays.
        let (h, t) = match unsafe { (part(hdr, hdr_cnt), part(trl, trl_cnt)) } {
            (Ok(h), Ok(t)) => (h, t),
            (Err(e), _) | (_, Err(e)) => return Transfer::done(M, 0, e),
        };
        // SAFETY: the caller's promise about offset.
        let mut off = unsafe { offset_in(offset) };
        if count < 0 || off.is_some_and(|o| o < 0) {
            return Transfer::done(M, 0, libc::EINVAL);
        }
        // SAFETY: the caller's promise about opts.
        let r = unsafe {
            with_options(M, opts, |ctl| {
                crate::mech::sendfile_hdr::send(ctl, dst_fd, h, src_fd, off.as_mut(), count, t)
            })
        };
        // SAFETY: as above.
        unsafe { offset_out(offset, off) };
        r
    })
}
