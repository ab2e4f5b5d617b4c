//! The transfer exports: one per mechanism, and zcopy_copy's dispatch.

use super::{boundary, offset_in, offset_out, Transfers};
use crate::sys::transfer::Transfer;
use std::ffi::c_int;

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
/// kernel cannot splice from src (`error` EINVAL), when src is a pipe and
/// dst takes neither splice nor write(2) (an eventfd, epoll, timerfd,
/// signalfd, pidfd: `error` EINVAL at once, as splice(2) answers, before
/// any wait for src's data), when dst is a file or
/// pipe opened O_APPEND (`error` EINVAL, decided before any splice; on a
/// socket, where O_APPEND means nothing, the flag is not looked at: splice
/// refuses it after the first drain, those bytes are delivered with
/// write(2), and the call ends with EINVAL), or when splice(2)
/// itself is missing or forbidden (`error` ENOSYS, or EPERM from a seccomp
/// filter).
///
/// Errors (handled true): EBADF for a negative or closed fd or one opened
/// the wrong way; EINVAL for a negative `remain`, for both fds being the
/// same pipe, or for a dst that turned out
/// not to accept splice after bytes were drained (those bytes are still
/// delivered with write(2) and counted in `written`); EPIPE or ECONNRESET
/// when dst's peer is gone (no SIGPIPE reaches the process; see below);
/// EAGAIN when a socket's SO_RCVTIMEO / SO_SNDTIMEO ran out while waiting
/// (see Blocking); any other errno the kernel reports. Bytes drained from
/// src but not delivered when an error ends the call are lost with the
/// pipe, which is closed rather than pooled (use zcopy_splicer for a
/// transfer that keeps them).
///
/// Datagram sources (UDP, unix SOCK_DGRAM and SOCK_SEQPACKET sockets) are
/// read as a stream, one message per take, and the message boundaries do
/// not survive into a stream dst. A message moves whole when it fits both
/// what is left of `remain` and the take (a pooled pipe: 1 MiB by
/// default, as small as 16 KiB past pipe-user-pages-soft; the read(2)
/// buffer of the fallback: 256 KiB). A longer message loses its tail: the
/// kernel discards what a read of a datagram does not take, and `written`
/// counts only what was taken. To move datagrams, pass `remain` no smaller
/// than the largest message and keep messages under 16 KiB (or configure
/// the pool's pipe size), or use recvmsg/sendmsg. zcopy_relay and the
/// engine refuse datagram sockets (EINVAL).
///
/// Blocking: the call returns when the transfer is done; while src has no
/// data or dst no room it waits with poll(2) (no spinning), or, on a
/// blocking fd without a socket timeout, in the kernel as read(2)/write(2)
/// would. Socket timeouts: when SO_RCVTIMEO (src) or SO_SNDTIMEO (dst) is
/// set, blocking socket or not, the call gives up with EAGAIN once no byte
/// has moved for that long: within the timeout plus scheduling delay of the
/// last progress (tested at under 1.5 times the timeout). For this a
/// blocking socket with a timeout is made O_NONBLOCK for the length of the
/// call and restored before it returns; the flag belongs to the open file
/// description, so another thread or process using the same description
/// (a dup, an inherited fd) sees it meanwhile.
///
/// Signals: SIGPIPE is blocked in the calling thread for the call and a
/// SIGPIPE the call raised is consumed; no handler is installed. EINTR is
/// retried.
///
/// Thread safety: safe to call from any number of threads at once (on
/// different fds; two calls on one fd interleave their bytes).
///
/// Kill switch: with splice turned off (zcopy_disable,
/// ZCOPY_DISABLE=splice) the call takes zcopy_copy's row for the pair
/// without splice (read/write, or sendfile from a file); `method` says
/// which.
#[no_mangle]
pub extern "C" fn zcopy_splice(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    boundary(Transfers(crate::ZCOPY_METHOD_SPLICE), || {
        crate::mech::splice::splice(dst_fd, src_fd, remain)
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
/// is O_APPEND, ...), or EPERM (a seccomp filter forbids sendfile); `error`
/// holds that errno.
///
/// Errors (handled true): EBADF, EINVAL for a negative `remain`, EPIPE /
/// ECONNRESET when dst's peer is gone, EAGAIN when dst's SO_SNDTIMEO ran
/// out (as for zcopy_splice), and any other errno the kernel reports.
///
/// Blocking, signals and thread safety as for zcopy_splice. Kill switch:
/// with sendfile turned off (zcopy_disable) the call copies with
/// read/write, `method` ZCOPY_METHOD_READ_WRITE.
#[no_mangle]
pub extern "C" fn zcopy_sendfile(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    boundary(Transfers(crate::ZCOPY_METHOD_SENDFILE), || {
        crate::mech::sendfile::sendfile(dst_fd, src_fd, None, remain)
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
/// filesystem. Kill switch: with copy_file_range turned off
/// (zcopy_disable) the call takes zcopy_copy's file -> file row without it
/// (sendfile, then read/write; pread/pwrite for the _at forms), `method`
/// saying which.
#[no_mangle]
pub extern "C" fn zcopy_copy_file_range(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    boundary(Transfers(crate::ZCOPY_METHOD_COPY_FILE_RANGE), || {
        crate::mech::copy_file_range::copy_file_range(dst_fd, None, src_fd, None, remain)
    })
}

/// Moves up to `remain` bytes from `src_fd` to `dst_fd` by the fastest safe
/// mechanism for the pair, as io.Copy does, falling back as needed.
///
/// Looks at both fds once (fstat, F_GETFL) and follows this table:
/// - same file on both sides: read/write, at most what the file held past
///   src's position when the call began ("ab" copied onto itself becomes
///   "abab"; no endless loop);
/// - regular file -> regular file: copy_file_range, then sendfile, then
///   read/write (an O_APPEND dst: read/write, data appended); when src has
///   holes (st_blocks * 512 < st_size) they stay holes: each data extent
///   (SEEK_DATA / SEEK_HOLE) is copied at its offset, holes past dst's size
///   are skipped, and dst is extended with ftruncate where the range ends
///   in a hole; `written` counts the holes too, and the copy covers src
///   up to its size when the call began;
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
/// starts where it stopped. A mechanism turned off with zcopy_disable (or
/// ZCOPY_DISABLE) is skipped. A mechanism the process cannot use at all
/// (ENOSYS, or EPERM from a seccomp filter, confirmed by one probe with
/// invalid fds) is not tried again.
///
/// - `dst_fd`, `src_fd`: any fds; positions are used and advanced.
/// - `remain`: the most bytes to move; ZCOPY_ALL means until end of file;
///   0 moves nothing and succeeds (method ZCOPY_METHOD_NONE).
///
/// Returns `handled` true always; `written` adds up every mechanism's
/// bytes; `method` names the mechanism that moved the last bytes (when
/// none moved any, the last one tried). A mechanism forbidden by a seccomp
/// filter (EPERM) or missing (ENOSYS) hands over on the first call too.
///
/// Errors: EBADF (negative or closed fd, or opened the wrong way: checked
/// before anything is taken from src), EINVAL (negative `remain`, or both
/// fds are the same pipe), EPIPE / ECONNRESET (peer gone; no SIGPIPE reaches
/// the process), EAGAIN (a socket's SO_RCVTIMEO / SO_SNDTIMEO ran out with
/// no progress, as for zcopy_splice), ENOSPC, EIO and any other errno the
/// kernel reports.
///
/// Datagram sources: as for zcopy_splice (a message longer than what is
/// left of `remain` or than the take loses its tail).
///
/// Blocking, signals and thread safety as for zcopy_splice.
#[no_mangle]
pub extern "C" fn zcopy_copy(dst_fd: c_int, src_fd: c_int, remain: i64) -> Transfer {
    boundary(Transfers(crate::ZCOPY_METHOD_NONE), || {
        crate::mech::dispatch::copy(dst_fd, src_fd, remain)
    })
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
    boundary(Transfers(crate::ZCOPY_METHOD_SENDFILE), || {
        // SAFETY: the caller's promise about src_offset.
        let mut off = unsafe { offset_in(src_offset) };
        let t = crate::mech::sendfile::sendfile(dst_fd, src_fd, off.as_mut(), remain);
        // SAFETY: as above.
        unsafe { offset_out(src_offset, off) };
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
    boundary(Transfers(crate::ZCOPY_METHOD_COPY_FILE_RANGE), || {
        // SAFETY: the caller's promise about both offsets.
        let (mut d, mut s) = unsafe { (offset_in(dst_offset), offset_in(src_offset)) };
        let t = crate::mech::copy_file_range::copy_file_range(
            dst_fd,
            d.as_mut(),
            src_fd,
            s.as_mut(),
            remain,
        );
        // SAFETY: as above.
        unsafe {
            offset_out(dst_offset, d);
            offset_out(src_offset, s);
        }
        t
    })
}
