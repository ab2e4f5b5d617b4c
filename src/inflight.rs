//! Bytes in flight kept across an interrupted call (ZCOPY_OPT_EINTR), or
//! one that found dst full under ZCOPY_OPT_NOWAIT.
//!
//! When a signal ends a call while bytes it took from src have not reached
//! dst yet (in a pooled pipe, in the read/write buffer, the byte past a TCP
//! urgent mark), dropping them would lose part of the stream, and the
//! caller cannot put them back. They are kept instead, per thread, keyed by
//! the (dst, src) fd numbers and the identity (device, inode) of both
//! files, and the next transfer call on this thread with the same fds
//! delivers them first, then goes on with src.
//!
//! What discards them (the bytes are then lost, as with any error): a
//! later call on this thread with the same fd numbers finding other files
//! behind them (an fd closed and reused); a timeout, cancellation or error
//! while delivering them; more than MAX_PARKED interrupted pairs on one
//! thread (the oldest goes); the thread's exit; fork() (the child never
//! delivers the parent's bytes).
//!
//! A thread with nothing parked pays one thread-local look per call.

use crate::control::Control;
use crate::pipe::Pipe;
use crate::pool;
use crate::read_write::write_all;
use crate::sys::fstat;
use std::cell::RefCell;

/// Interrupted pairs kept per thread.
const MAX_PARKED: usize = 8;

/// One interrupted pair's undelivered bytes: `bytes` first, then what the
/// pipe holds.
struct Parked {
    dst: i32,
    src: i32,
    ids: [(u64, u64); 2],
    bytes: Vec<u8>,
    pipe: Option<Pipe>,
}

impl Drop for Parked {
    fn drop(&mut self) {
        if let Some(p) = self.pipe.take() {
            pool::release(p); // holds bytes: closed, counted as discarded
        }
    }
}

thread_local! {
    static PARKED: RefCell<Vec<Parked>> = const { RefCell::new(Vec::new()) };
}

fn identity(fd: i32) -> Option<(u64, u64)> {
    fstat(fd).ok().map(|st| (st.st_dev, st.st_ino))
}

/// Keeps `bytes`, then the pipe's bytes, for the next call on (dst, src).
/// Nothing to keep (empty bytes, empty or no pipe) releases the pipe.
pub(crate) fn park(dst: i32, src: i32, bytes: &[u8], pipe: Option<Pipe>) {
    let pipe = match pipe {
        Some(p) if p.held() > 0 => Some(p),
        Some(p) => {
            pool::release(p);
            None
        }
        None => None,
    };
    if bytes.is_empty() && pipe.is_none() {
        return;
    }
    let (Some(d), Some(s)) = (identity(dst), identity(src)) else {
        if let Some(p) = pipe {
            pool::release(p);
        }
        return;
    };
    let entry = Parked {
        dst,
        src,
        ids: [d, s],
        bytes: bytes.to_vec(),
        pipe,
    };
    let _ = PARKED.try_with(|list| {
        let mut list = list.borrow_mut();
        list.retain(|p| (p.dst, p.src) != (dst, src));
        if list.len() >= MAX_PARKED {
            list.remove(0);
        }
        list.push(entry);
    });
}

/// Takes what is parked for (dst, src), if the same files are still behind
/// both fds (else it is discarded).
fn take(dst: i32, src: i32) -> Option<Parked> {
    let found = PARKED
        .try_with(|list| {
            let mut list = list.borrow_mut();
            if list.is_empty() {
                return None;
            }
            let i = list.iter().position(|p| (p.dst, p.src) == (dst, src))?;
            Some(list.remove(i))
        })
        .ok()
        .flatten()?;
    let same = found.ids == [identity(dst)?, identity(src)?];
    let ours = found
        .pipe
        .as_ref()
        .map_or(true, pool::owned_by_this_process);
    (same && ours).then_some(found)
}

/// Delivers what an interrupted call on (dst, src) left, at most `remain`
/// bytes, before the call goes on with src. Ok(bytes delivered); Err with
/// the bytes delivered and the errno that stopped it (EINTR again, or
/// EAGAIN under NOWAIT: the rest stays parked).
pub(crate) fn resume(
    ctl: &mut Control,
    dst: i32,
    src: i32,
    remain: i64,
) -> Result<i64, (i64, i32)> {
    let Some(mut p) = take(dst, src) else {
        return Ok(0);
    };
    let mut moved: i64 = 0;
    // Invariant: `moved` bytes of the parked ones reached dst, in order;
    // what is left is p.bytes, then p.pipe's bytes.
    let result = loop {
        let left = remain - moved;
        if left <= 0 {
            break Ok(moved);
        }
        if !p.bytes.is_empty() {
            let n = p.bytes.len().min(left as usize);
            let r = write_all(ctl, dst, &p.bytes[..n]);
            let w = match r {
                Ok(()) => n,
                Err((w, _)) => w,
            };
            p.bytes.drain(..w);
            moved += w as i64;
            if let Err((_, e)) = r {
                break Err((moved, e));
            }
            continue;
        }
        let Some(pipe) = p.pipe.as_mut() else {
            break Ok(moved);
        };
        if pipe.held() == 0 {
            break Ok(moved);
        }
        let want = pipe.held().min(left as usize);
        match crate::splice::pump_some(ctl, pipe, dst, want) {
            (n, 0) => moved += n as i64,
            (n, e) => {
                moved += n as i64;
                break Err((moved, e));
            }
        }
    };
    let rest = !p.bytes.is_empty() || p.pipe.as_ref().is_some_and(|q| q.held() > 0);
    let keep = match result {
        Ok(_) => true,
        Err((_, e)) => ctl.resumable(e),
    };
    match result {
        // Interrupted again (or dst full again under NOWAIT), or `remain`
        // reached first: keep the rest.
        _ if rest && keep => {
            let bytes = std::mem::take(&mut p.bytes);
            park(dst, src, &bytes, p.pipe.take());
        }
        _ => {}
    }
    result
}
