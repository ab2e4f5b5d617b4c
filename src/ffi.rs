//! The C boundary. Every exported function checks its arguments, turns
//! them into safe Rust at once, and calls the plain-Rust logic inside
//! `catch_unwind`, so that no panic ever crosses into C.

use crate::pool::{self, PoolStats};
use crate::transfer::{method_name, Transfer};
use std::ffi::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into an EIO result.
fn guarded(method: i32, f: impl FnOnce() -> Transfer) -> Transfer {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(Transfer::done(method, 0, libc::EIO))
}

/// Moves up to `remain` bytes from `src_fd` to `dst_fd` with splice(2).
///
/// When either fd is a pipe, splices directly; otherwise drains `src_fd`
/// into a pipe borrowed from the global pool (at most the pipe's size at a
/// time) and pumps the pipe into `dst_fd` until it is empty, repeating until
/// `remain` bytes have moved or `src_fd` reaches end of file. Bytes move
/// from src's current position (where it has one) and advance it, like
/// read(2).
///
/// - `dst_fd`: where the bytes go (socket, pipe, or file not opened
///   O_APPEND).
/// - `src_fd`: where they come from (socket, pipe, or file).
/// - `remain`: the most bytes to move; ZCOPY_ALL means until end of file;
///   0 moves nothing and succeeds.
///
/// Returns a zcopy_result whose `method` is ZCOPY_METHOD_SPLICE.
/// `handled` is false (nothing consumed from src; fall back to another
/// mechanism) when no pipe can be had (`error` EMFILE/ENFILE), when the
/// kernel cannot splice from src (`error` EINVAL), or when dst is opened
/// O_APPEND (`error` EINVAL, decided before any syscall).
///
/// Errors (handled true): EBADF for a negative or closed fd or one opened
/// the wrong way; EINVAL for a negative `remain`, or a dst that turned out
/// not to accept splice after bytes were drained (those bytes are still
/// delivered with write(2) and counted in `written`); EPIPE or ECONNRESET
/// when dst's peer is gone (no SIGPIPE reaches the process; see below);
/// EAGAIN when a non-blocking socket's SO_RCVTIMEO / SO_SNDTIMEO ran out
/// while waiting; any other errno the kernel reports. Bytes drained from
/// src but not delivered when an error ends the call are lost with the
/// pipe, which is closed rather than pooled (use zcopy_splicer for a
/// transfer that keeps them).
///
/// Blocking: on a blocking fd the call blocks like read(2)/write(2); on a
/// non-blocking one it waits with poll(2) (no spinning) until the transfer
/// is done.
///
/// Signals: SIGPIPE is blocked in the calling thread for the call and a
/// SIGPIPE the call raised is consumed; no handler is installed. EINTR is
/// retried.
///
/// Thread safety: safe to call from any number of threads at once (on
/// different fds; two calls on one fd interleave their bytes).
#[no_mangle]
pub extern "C" fn zcopy_splice(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    guarded(crate::ZCOPY_METHOD_SPLICE, || {
        crate::splice::splice(dst_fd, src_fd, remain)
    })
}

/// Moves up to `remain` bytes from the file `src_fd` to `dst_fd` with
/// sendfile(2), from src's current file position, which it advances.
///
/// - `dst_fd`: any fd the kernel can write to (socket, pipe, file not
///   opened O_APPEND).
/// - `src_fd`: a file the kernel can page in (regular file, block device).
/// - `remain`: the most bytes to move; ZCOPY_ALL means until end of file;
///   0 moves nothing and succeeds. Asking for more than the file holds is
///   fine.
///
/// Returns a zcopy_result whose `method` is ZCOPY_METHOD_SENDFILE. End of
/// file ends the transfer without error (also before any byte moved).
/// `handled` is false (nothing consumed; fall back) when the kernel answers
/// EINVAL, ENOSYS or EOPNOTSUPP before any progress (src is not a file, dst
/// is O_APPEND, ...); `error` holds that errno.
///
/// Errors (handled true): EBADF, EINVAL for a negative `remain`, EPIPE /
/// ECONNRESET when dst's peer is gone, EAGAIN when a non-blocking socket's
/// SO_SNDTIMEO ran out, and any other errno the kernel reports.
///
/// Blocking, signals and thread safety as for zcopy_splice.
#[no_mangle]
pub extern "C" fn zcopy_sendfile(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    guarded(crate::ZCOPY_METHOD_SENDFILE, || {
        crate::sendfile::sendfile(dst_fd, src_fd, None, remain)
    })
}

/// Copies up to `remain` bytes from the file `src_fd` to the file `dst_fd`
/// with copy_file_range(2), using and advancing both files' positions.
///
/// - `dst_fd`: a regular file opened for writing, not O_APPEND.
/// - `src_fd`: a regular file opened for reading.
/// - `remain`: the most bytes to move; ZCOPY_ALL means until end of file;
///   0 moves nothing and succeeds.
///
/// Returns a zcopy_result whose `method` is ZCOPY_METHOD_COPY_FILE_RANGE.
/// `handled` is false (nothing copied; fall back to zcopy_sendfile or
/// read/write) when: the kernel is older than 5.3 (`error` ENOSYS); dst is
/// O_APPEND (`error` EBADF, decided without the syscall); the first round
/// copies 0 bytes though bytes were asked for (`error` 0: procfs and sysfs
/// files report size 0 but have content); or the kernel answers ENOSYS,
/// EXDEV, EINVAL, EIO, EOPNOTSUPP or EPERM before any progress (`error`
/// holds it).
///
/// Errors (handled true): EBADF for a negative or closed fd or one opened
/// the wrong way, EINVAL for a negative `remain`, ENOSPC, EFBIG, and any
/// errno the kernel reports after some progress.
///
/// Thread safety: safe from any thread. Never blocks on anything but the
/// filesystem.
#[no_mangle]
pub extern "C" fn zcopy_copy_file_range(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    guarded(crate::ZCOPY_METHOD_COPY_FILE_RANGE, || {
        crate::copy_file_range::copy_file_range(dst_fd, None, src_fd, None, remain)
    })
}

/// Counters of the global pipe pool.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ZcopyPoolStats {
    /// Pipes parked in the pool now (the shared list and each thread's own
    /// slot).
    pub idle: u64,
    /// Pipes lent to calls (and to splicers) now.
    pub in_use: u64,
    /// Pipes created since start.
    pub created: u64,
    /// Times a call got an idle pipe instead of a new one.
    pub reused: u64,
    /// Pipes closed because they held data, overflowed the idle cap, or
    /// were inherited across fork().
    pub discarded: u64,
}

impl From<PoolStats> for ZcopyPoolStats {
    fn from(s: PoolStats) -> Self {
        ZcopyPoolStats {
            idle: s.idle,
            in_use: s.in_use,
            created: s.created,
            reused: s.reused,
            discarded: s.discarded,
        }
    }
}

/// Fills `*out` with the pool's counters. Each counter is read atomically;
/// while other threads are transferring, the five are not one snapshot.
///
/// - `out`: where to write; NULL does nothing.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one zcopy_pool_stats.
#[no_mangle]
pub unsafe extern "C" fn zcopy_pool_get_stats(out: *mut ZcopyPoolStats) {
    if out.is_null() {
        return;
    }
    let s = catch_unwind(pool::stats).unwrap_or_default();
    // SAFETY: checked non-null; the caller promises it is writable.
    unsafe { out.write(s.into()) };
}

/// Closes the pool's idle pipes: the shared list and the calling thread's
/// own idle pipe. Pipes lent out are not touched; idle pipes kept by other
/// live threads go back to the shared list when those threads exit.
///
/// Returns how many pipes were closed.
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn zcopy_pool_drain() -> u64 {
    catch_unwind(pool::drain).unwrap_or(0)
}

/// Configures the global pipe pool.
///
/// - `max_idle`: the most idle pipes kept (default 16); pipes returned past
///   it are closed. 0 keeps the current value; at most 65536.
/// - `pipe_size`: the size new pipes are grown to with F_SETPIPE_SZ
///   (default 1 MiB; the kernel rounds it up to a power-of-two number of
///   pages, and a failure to grow is ignored). 0 keeps the current value;
///   otherwise 4096 to 1 GiB. Changing it closes the idle pipes of the old
///   size. It is also the most bytes one splice round moves.
///
/// Returns 0, or EINVAL when a value is out of range (nothing changed).
///
/// Thread safety: safe from any thread; calls in flight keep the pipes
/// they have.
#[no_mangle]
pub extern "C" fn zcopy_pool_configure(max_idle: u64, pipe_size: u64) -> i32 {
    match catch_unwind(|| pool::configure(max_idle, pipe_size)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => e,
        Err(_) => libc::EIO,
    }
}

/// The library's version, e.g. "0.1.0": a static NUL-terminated string,
/// never to be freed. Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn zcopy_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr() as *const c_char
}

/// The name of a ZCOPY_METHOD_* value: "none", "splice", "sendfile",
/// "copy_file_range", "read_write"; "unknown" for any other value. A static
/// NUL-terminated string, never to be freed. Thread safety: safe from any
/// thread.
#[no_mangle]
pub extern "C" fn zcopy_method_name(method: i32) -> *const c_char {
    method_name(method).as_ptr()
}
