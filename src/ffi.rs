//! The C boundary. Every exported function checks its arguments, turns
//! them into safe Rust at once, and calls the plain-Rust logic inside
//! `catch_unwind`, so that no panic ever crosses into C.

mod engine;
mod options;
mod relay;

use crate::pool::{self, PoolStats};
use crate::splicer::Splicer;
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
/// the wrong way; EINVAL for a negative `remain`, for both fds being the
/// same pipe, or for a dst that turned out
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

/// Moves up to `remain` bytes from `src_fd` to `dst_fd` by the fastest safe
/// mechanism for the pair, as io.Copy does, falling back as needed.
///
/// Looks at both fds once (fstat, F_GETFL) and follows this table:
/// - same file on both sides: read/write, at most what the file held past
///   src's position when the call began ("ab" copied onto itself becomes
///   "abab"; no endless loop);
/// - regular file -> regular file: copy_file_range, then sendfile, then
///   read/write (an O_APPEND dst: read/write, data appended);
/// - regular file or block device -> socket or character device: sendfile,
///   then read/write;
/// - regular file -> pipe: read/write (a pipe would hold references to the
///   file's pages, so a later change to the file would show up in what the
///   reader gets);
/// - a pipe on either side otherwise: direct splice, then read/write;
/// - socket -> socket, socket -> regular file: splice through the pool, then
///   read/write;
/// - anything else: read/write (256 KiB buffer per thread).
///
/// A mechanism that cannot serve the pair hands over to the next, which
/// starts where it stopped. A mechanism the process cannot use at all
/// (ENOSYS, or EPERM from a seccomp filter, confirmed by one probe with
/// invalid fds) is not tried again.
///
/// - `dst_fd`, `src_fd`: any fds; positions are used and advanced.
/// - `remain`: the most bytes to move; ZCOPY_ALL means until end of file;
///   0 moves nothing and succeeds (method ZCOPY_METHOD_NONE).
///
/// Returns `handled` true always; `written` adds up every mechanism's
/// bytes; `method` names the mechanism that moved the last bytes.
///
/// Errors: EBADF (negative or closed fd, or opened the wrong way: checked
/// before anything is taken from src), EINVAL (negative `remain`, or both
/// fds are the same pipe), EPIPE / ECONNRESET (peer gone; no SIGPIPE reaches
/// the process), EAGAIN (a non-blocking socket's SO_RCVTIMEO / SO_SNDTIMEO
/// ran out), ENOSPC, EIO and any other errno the kernel reports.
///
/// Blocking, signals and thread safety as for zcopy_splice.
#[no_mangle]
pub extern "C" fn zcopy_copy(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    guarded(crate::ZCOPY_METHOD_NONE, || {
        crate::copy::copy(dst_fd, src_fd, remain)
    })
}

/// Reads an optional offset argument.
///
/// # Safety
/// `p` must be NULL or valid for reads and writes of an int64_t.
unsafe fn offset_arg(p: *mut i64, slot: &mut i64) -> Option<&mut i64> {
    if p.is_null() {
        None
    } else {
        // SAFETY: the caller promises p is valid; unaligned reads are fine.
        *slot = unsafe { p.read_unaligned() };
        Some(slot)
    }
}

/// Writes an offset back after the call.
///
/// # Safety
/// As for [`offset_arg`].
unsafe fn offset_back(p: *mut i64, value: i64) {
    if !p.is_null() {
        // SAFETY: the caller promises p is valid.
        unsafe { p.write_unaligned(value) };
    }
}

/// zcopy_sendfile with pread semantics: sends from `*src_offset` instead of
/// src's file position.
///
/// - `src_offset`: NULL behaves as zcopy_sendfile. Otherwise the offset in
///   src to start at; on return it has advanced by `written` (also on
///   error), and src's own file position is neither used nor changed, so
///   many threads can send ranges of one shared fd at once. A negative
///   offset gives EINVAL.
///
/// Everything else (arguments, result, errors, blocking, signals) as for
/// zcopy_sendfile. Thread safety: safe from any thread; each thread must
/// pass its own offset variable.
///
/// # Safety
/// `src_offset` must be NULL or point to a readable and writable int64_t.
#[no_mangle]
pub unsafe extern "C" fn zcopy_sendfile_at(
    dst_fd: c_int,
    src_fd: c_int,
    src_offset: *mut i64,
    remain: i64,
) -> Transfer {
    guarded(crate::ZCOPY_METHOD_SENDFILE, || {
        let mut off = 0;
        // SAFETY: the caller's promise about src_offset.
        let t = crate::sendfile::sendfile(
            dst_fd,
            src_fd,
            unsafe { offset_arg(src_offset, &mut off) },
            remain,
        );
        // SAFETY: as above.
        unsafe { offset_back(src_offset, off) };
        t
    })
}

/// zcopy_copy_file_range with pread/pwrite semantics on either side.
///
/// - `dst_offset`: NULL uses and advances dst's file position; otherwise
///   the offset in dst to write at, advanced by `written` on return, and
///   dst's file position is left alone.
/// - `src_offset`: the same for src.
///
/// A negative offset gives EINVAL. Everything else (arguments, result,
/// handled=false cases, errors) as for zcopy_copy_file_range. Thread
/// safety: safe from any thread; each thread must pass its own offset
/// variables.
///
/// # Safety
/// Each offset must be NULL or point to a readable and writable int64_t.
#[no_mangle]
pub unsafe extern "C" fn zcopy_copy_file_range_at(
    dst_fd: c_int,
    dst_offset: *mut i64,
    src_fd: c_int,
    src_offset: *mut i64,
    remain: i64,
) -> Transfer {
    guarded(crate::ZCOPY_METHOD_COPY_FILE_RANGE, || {
        let (mut d, mut s) = (0, 0);
        // SAFETY: the caller's promise about both offsets.
        let t = unsafe {
            crate::copy_file_range::copy_file_range(
                dst_fd,
                offset_arg(dst_offset, &mut d),
                src_fd,
                offset_arg(src_offset, &mut s),
                remain,
            )
        };
        // SAFETY: as above.
        unsafe {
            offset_back(dst_offset, d);
            offset_back(src_offset, s);
        }
        t
    })
}

/// Makes a non-blocking splicer for one direction of a stream (make two for
/// a two-way relay). It borrows a pipe from the global pool and keeps it
/// until zcopy_splicer_free, so that bytes taken from src wait in it, never
/// lost, while dst is full.
///
/// Returns the splicer, owned by the caller (release it with
/// zcopy_splicer_free), or NULL with errno set (EMFILE, ENFILE: no pipe can
/// be made; ENOMEM).
///
/// Thread safety: a splicer may move between threads but must not be used
/// by two threads at once; different splicers are independent.
#[no_mangle]
pub extern "C" fn zcopy_splicer_new() -> *mut Splicer {
    let e = match catch_unwind(Splicer::new) {
        Ok(Ok(s)) => return Box::into_raw(Box::new(s)),
        Ok(Err(e)) => e,
        Err(_) => libc::ENOMEM,
    };
    // SAFETY: errno is this thread's.
    unsafe { *libc::__errno_location() = e };
    std::ptr::null_mut()
}

/// Frees a splicer. An empty pipe goes back to the pool; a pipe that still
/// holds bytes (after a hard error, or freed mid-transfer) is closed with
/// them. The fds passed to zcopy_splicer_step are not touched.
///
/// - `s`: a splicer from zcopy_splicer_new, or NULL (does nothing). It must
///   not be used afterwards.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new, not in use
/// by another thread.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_free(s: *mut Splicer) {
    if s.is_null() {
        return;
    }
    // SAFETY: the caller hands back ownership of a Box made by _new.
    let b = unsafe { Box::from_raw(s) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(b)));
}

/// Moves what it can from `src_fd` to `dst_fd` without waiting, and
/// returns. Meant for non-blocking fds driven by an event loop (on a
/// blocking fd the kernel may block the call).
///
/// Bytes the splicer already holds go out first; then it takes from
/// `src_fd` (at most `remain` bytes in this step, and at most 16 MiB, so
/// one busy stream cannot starve an event loop) and delivers, until
/// something would block.
///
/// - `s`: the splicer (NULL gives error EINVAL).
/// - `dst_fd`, `src_fd`: the fds of this direction (any fds splice(2)
///   accepts: sockets, pipes, files as src).
/// - `remain`: the most bytes to take from src in this step (ZCOPY_ALL: no
///   limit); 0 only delivers what is pending.
///
/// Returns a zcopy_result (method ZCOPY_METHOD_SPLICE) whose `written`
/// counts the bytes that reached dst in this step. Then:
/// - `error` EAGAIN: it must wait. zcopy_splicer_wants says for what:
///   ZCOPY_WANT_READ (wait until src is readable) or ZCOPY_WANT_WRITE
///   (wait until dst is writable; zcopy_splicer_pending bytes are held).
///   Nothing is lost: step again when the fd is ready.
/// - `error` 0 and zcopy_splicer_eof true: src is at end of stream and
///   everything taken was delivered (a step with `remain` > 0 that returns
///   error 0, written 0 and wants 0 means the same). Half-close dst now.
/// - `error` 0 otherwise: `remain` (or the 16 MiB budget) was taken and
///   delivered; step again for more.
/// - `handled` false, `error` EINVAL: the kernel cannot splice from src, or
///   dst does not take splice (opened O_APPEND, or a file without splice
///   support: checked before anything is taken); nothing consumed: fall
///   back to read/write.
/// - `error` EBADF with nothing taken: dst is closed or not open for
///   writing (checked the same way), or src is not open for reading.
/// - any other `error` (EPIPE, ECONNRESET, EBADF, ...): a hard error;
///   zcopy_splicer_pending tells how many bytes were taken from src but not
///   delivered. zcopy_splicer_free then closes the pipe with them.
/// - `error` ESTALE: the splicer was made before fork() and holds bytes in
///   a pipe the parent shares; the child must not touch them (an inherited
///   splicer with nothing pending gets a fresh pipe and works).
///
/// Signals: as zcopy_splice (SIGPIPE blocked for the call; EPIPE returned).
/// Thread safety: one thread at a time per splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_step(
    s: *mut Splicer,
    dst_fd: c_int,
    src_fd: c_int,
    remain: i64,
) -> Transfer {
    // SAFETY: the caller promises s is NULL or a live splicer.
    let Some(sp) = (unsafe { s.as_mut() }) else {
        return Transfer::done(crate::ZCOPY_METHOD_SPLICE, 0, libc::EINVAL);
    };
    guarded(crate::ZCOPY_METHOD_SPLICE, || {
        sp.step(dst_fd, src_fd, remain)
    })
}

/// Bytes the splicer took from src and has not yet delivered to dst; 0 for
/// NULL. Thread safety: as for the splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_pending(s: *const Splicer) -> i64 {
    // SAFETY: the caller promises s is NULL or a live splicer.
    unsafe { s.as_ref() }.map_or(0, Splicer::pending)
}

/// What the last step waits for: ZCOPY_WANT_READ (src readable),
/// ZCOPY_WANT_WRITE (dst writable), or 0 (nothing: it did not return
/// EAGAIN); 0 for NULL. Thread safety: as for the splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_wants(s: *const Splicer) -> i32 {
    // SAFETY: the caller promises s is NULL or a live splicer.
    unsafe { s.as_ref() }.map_or(0, Splicer::wants)
}

/// True when the last step found src at end of stream and nothing is
/// pending: this direction is done; false for NULL. Thread safety: as for
/// the splicer.
///
/// # Safety
/// `s` must be NULL or a live splicer from zcopy_splicer_new.
#[no_mangle]
pub unsafe extern "C" fn zcopy_splicer_eof(s: *const Splicer) -> bool {
    // SAFETY: the caller promises s is NULL or a live splicer.
    unsafe { s.as_ref() }.is_some_and(Splicer::eof)
}
