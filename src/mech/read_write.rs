//! The plain read(2)/write(2) loop: the fallback that serves any pair of
//! fds. EINTR from a system call is retried; EAGAIN on a non-blocking fd
//! waits with poll(2) through the call's Control (readable src, writable
//! dst) and goes on, so a stalled peer costs no CPU.

use crate::call::control::Control;
use crate::call::deliver::{read_some, write_all};
use crate::call::outcome::Outcome;
use crate::stream::Held;
use crate::sys::io::with_buffer;
use crate::sys::transfer::{Transfer, ZCOPY_METHOD_READ_WRITE};

/// Copies up to `remain` bytes (ZCOPY_ALL: until EOF) from `src` to `dst`
/// through a user-space buffer, using and advancing both file positions.
/// Bytes read but not written when dst fails are lost with the error (as
/// with any read/write loop); `written` says how far dst got.
pub fn copy(dst: i32, src: i32, remain: i64) -> Transfer {
    let mut held = Held::Nothing;
    let o = copy_loop(&mut Control::plain(), dst, src, remain, &mut held);
    held.discard(); // (a plain call is never resumed)
    o.into_transfer(ZCOPY_METHOD_READ_WRITE)
}

/// The loop behind [`copy`]. It serves any pair, so it never falls back.
/// Bytes read but not written when it stops on dst are left in `held`
/// for the caller (the call runner keeps them when the call may be
/// resumed: EINTR, or EAGAIN under ZCOPY_OPT_NOWAIT).
pub(crate) fn copy_loop(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    mut remain: i64,
    held: &mut Held,
) -> Outcome {
    let mut written: i64 = 0;
    with_buffer(|buf| {
        // Invariant: `written` bytes were read from src and reached dst.
        while remain > 0 {
            if let Err(e) = ctl.check() {
                return Outcome::Error(written, e);
            }
            let want = (remain as u64).min(buf.len() as u64) as usize;
            let n = match read_some(ctl, src, &mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Outcome::Error(written, e),
            };
            ctl.progress();
            if let Err((w, e)) = write_all(ctl, dst, &buf[..n]) {
                *held = Held::copy_of(&buf[w..n]);
                return Outcome::Error(written + w as i64, e);
            }
            written += n as i64;
            remain -= n as i64;
        }
        Outcome::Ended(written)
    })
}
