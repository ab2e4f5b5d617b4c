//! The C boundary for zcopy_relay.

use super::{boundary, Relays};
use crate::call::options::Options;
use crate::relay::RelayResult;
use std::ffi::c_int;

/// Relays two connections into each other until both are done: bytes from
/// `a_fd` go to `b_fd` and bytes from `b_fd` go to `a_fd`, both directions
/// at once, in the calling thread (no thread is started), with splice(2)
/// through pooled pipes where the kernel allows it and read(2)/write(2)
/// for a pair it cannot splice.
///
/// - `a_fd`, `b_fd`: two connected stream fds (TCP or unix SOCK_STREAM
///   sockets, or anything readable and writable: a pty, a FIFO opened
///   O_RDWR), blocking or not, naming two different files (a dup of
///   `a_fd` is the same connection: EINVAL). Datagram sockets (UDP, unix
///   SOCK_DGRAM, SOCK_SEQPACKET) are refused with EINVAL: a relay moves
///   bytes in chunks of its own size, which would cut messages. They are
///   never closed by the library.
/// - `opts`: NULL for the defaults, or options filled by
///   zcopy_options_init: `idle_timeout_ms` (no byte in either direction
///   for that long ends the relay with ETIMEDOUT), `cancel_fd` (readable:
///   ECANCELED), ZCOPY_OPT_EINTR (a signal ends the call with EINTR),
///   ZCOPY_OPT_CLOSE_BOTH (see below).
///
/// Half-close: when one direction's source reaches end of stream and all
/// its bytes are delivered, the destination's write side is shut down
/// (shutdown(SHUT_WR); nothing for a non-socket) and the other direction
/// goes on, so a request/response after the client's half-close arrives
/// whole. The call returns when both directions are done (error 0).
/// With ZCOPY_OPT_CLOSE_BOTH the first end of stream ends the relay: the
/// other direction delivers what it already holds if the destination takes
/// it at once, both write sides are shut down, and the call returns error
/// 0; bytes that did not fit are discarded and not counted.
///
/// Returns a zcopy_relay_result: `a_to_b` and `b_to_a` count the bytes
/// delivered by this call (also when it ends with an error); `error` 0 or
/// the errno that ended it; `error_fd` the fd that errno came from (a_fd
/// or b_fd), or -1. errno on return equals `error` (0 when both
/// directions are done).
///
/// Errors:
/// - EBADF, error_fd -1: a negative fd. EBADF with error_fd set: that fd
///   is not open (checked before anything moves), or was closed during
///   the call.
/// - EINVAL, error_fd -1: `a_fd` and `b_fd` are one file (equal, or one a
///   dup of the other), or bad options (size, unknown flag, reserved,
///   negative timeout, ZCOPY_OPT_NOWAIT); EBADF for a closed cancel_fd.
/// - EINVAL with error_fd: that fd is a socket but not SOCK_STREAM.
/// - ECONNRESET, EPIPE, ... with error_fd: a hard error on that fd ends
///   both directions at once, whichever direction was waiting for what
///   (a reset of the client ends the relay at once also while the relay
///   only waits for a stalled upstream: both fds are always watched for
///   errors). Bytes already taken for the side that did not fail get one
///   non-blocking push; what does not fit is discarded.
/// - EPIPE with error_fd: that fd hung up (its unix peer closed, or both
///   halves of the TCP connection are shut) and everything read from it
///   was delivered, so the other direction could never deliver to it
///   again. Until then the direction reading it goes on: a client that
///   sends and closes at once still has its bytes delivered.
/// - ETIMEDOUT / ECANCELED, error_fd -1: the idle timeout or the cancel
///   fd ended the relay (a timeout too large for the clock, up to
///   INT64_MAX ms, means never); bytes held in flight are discarded (the caller is
///   expected to close both connections).
/// - EINTR, error_fd -1 (only with ZCOPY_OPT_EINTR): a signal arrived while
///   the call waited. Nothing is lost: the bytes in flight are kept for
///   this thread, and calling zcopy_relay again with the same two fds
///   continues both directions where they stopped (the counts of the
///   second call go on from there). What is kept is discarded by a call
///   on this thread with other fds, by the fds no longer being the same
///   files (closed, or their numbers reused), and by the thread's exit.
/// - ESTALE, error_fd -1: a child process after fork() called again to
///   resume a relay whose bytes wait in a pipe the parent shares; they are
///   left alone.
/// - ZCOPY_EPANIC, error_fd -1: an internal error (a bug) was caught; the
///   fds' flags are restored and the library stays usable.
///
/// Flags: an fd without O_NONBLOCK gets it for the length of the call and
/// loses it again before the call returns, on every path. The flag belongs
/// to the open file description, so dup'ed fds (and other processes
/// sharing it) see it set while the call runs.
///
/// Signals: SIGPIPE is blocked in the calling thread for the call (and one
/// the call raised is consumed); no handler is installed. EINTR is retried
/// unless ZCOPY_OPT_EINTR is set.
///
/// Blocking: blocks until the relay ends, sleeping in poll(2) whenever
/// neither direction can move (no CPU while idle). Thread safety: safe
/// from any number of threads at once, each on its own pair of fds.
///
/// # Safety
/// `opts` must be NULL or point to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_relay(
    a_fd: c_int,
    b_fd: c_int,
    opts: *const Options,
) -> RelayResult {
    boundary(Relays, || {
        // SAFETY: the caller promises opts is NULL or readable (version 1
        // or 2, told by `size`); read_options copies it.
        let opts = unsafe { super::read_options(opts) };
        crate::relay::relay(a_fd, b_fd, opts.as_ref())
    })
}

/// The bytes of a prefix argument: (NULL or any pointer, 0) is empty;
/// NULL with a length, or a length past isize::MAX, is EINVAL.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that stay valid and
/// unchanged while the returned slice is used.
pub(super) unsafe fn prefix<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], i32> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return Err(libc::EINVAL);
    }
    // SAFETY: non-NULL, and `len` readable bytes as the caller promises.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// zcopy_relay, with bytes the caller already read delivered first: the
/// `a_to_b_len` bytes at `a_to_b` go to `b_fd` before anything read from
/// `a_fd`, and the `b_to_a_len` bytes at `b_to_a` to `a_fd` before
/// anything read from `b_fd` (a proxy that read a request line, a
/// CONNECT, a PROXY-protocol header or a TLS ClientHello past what it
/// parsed). zcopy copies them at the call: the buffers may be freed when
/// it returns. They are relayed data in every respect: counted in their
/// direction's total (`a_to_b`, `b_to_a`) as they are delivered, waited
/// for like any held bytes (a full destination, the idle timeout), and a
/// half-close of that direction happens only after them. Everything else
/// is zcopy_relay's contract (arguments, options, errors, EINTR).
///
/// - `a_to_b`, `a_to_b_len`: bytes for `b_fd`; NULL (or any pointer) with
///   length 0 for none.
/// - `b_to_a`, `b_to_a_len`: bytes for `a_fd`, likewise.
///
/// Errors, beyond zcopy_relay's: EINVAL, error_fd -1, for a NULL pointer
/// with a non-zero length, and for non-empty prefixes while this thread
/// keeps an interrupted relay of the same two fds (ZCOPY_OPT_EINTR):
/// continue that one with zcopy_relay first, since new bytes cannot go
/// before bytes it already took. With both lengths 0 this is zcopy_relay
/// (and resumes such a relay).
///
/// Blocking, thread safety, flags and signals: as zcopy_relay.
///
/// # Safety
/// `a_to_b` / `b_to_a` are NULL or point to their length in readable
/// bytes; `opts` is NULL or points to a readable zcopy_options.
#[no_mangle]
pub unsafe extern "C" fn zcopy_relay_prefixed(
    a_fd: c_int,
    b_fd: c_int,
    a_to_b: *const u8,
    a_to_b_len: usize,
    b_to_a: *const u8,
    b_to_a_len: usize,
    opts: *const Options,
) -> RelayResult {
    boundary(Relays, || {
        // SAFETY: as the caller promises for each pointer.
        let (ab, ba) = match unsafe { (prefix(a_to_b, a_to_b_len), prefix(b_to_a, b_to_a_len)) } {
            (Ok(x), Ok(y)) => (x, y),
            _ => return RelayResult::failed(libc::EINVAL, -1),
        };
        // SAFETY: NULL or a readable zcopy_options, told by its `size`.
        let opts = unsafe { super::read_options(opts) };
        crate::relay::relay_prefixed(a_fd, b_fd, ab, ba, opts.as_ref())
    })
}
