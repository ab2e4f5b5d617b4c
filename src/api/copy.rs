//! The transfer calls: `copy` (the dispatch) and one call per mechanism,
//! each with an `_with(&Options)` form and, where the kernel takes an
//! offset, a positional `_at` form.

use super::error::{NotHandled, TransferError};
use super::{Method, Options};
use crate::call::control::{now_ns, Control};
use crate::call::options::Settings;
use crate::sys::transfer::Transfer;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// What a successful transfer did.
///
/// ```
/// let c = zcopy::Copied { bytes: 3, method: zcopy::Method::ReadWrite };
/// assert_eq!(c.bytes, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Bytes that reached dst.
    pub bytes: u64,
    /// The mechanism that moved them.
    pub method: Method,
}

/// `limit` as the internal `remain`: None is "until end of file".
pub(super) fn remain(limit: Option<u64>) -> i64 {
    limit.map_or(crate::ZCOPY_ALL, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// Runs `f` under the Control `opts` asks for (a plain one when they ask
/// for nothing), as the C `_opts` calls do.
pub(super) fn with_control(
    opts: &Options,
    f: impl FnOnce(&mut Control) -> Transfer,
) -> io::Result<Transfer> {
    let raw = opts.raw();
    let settings = Settings::from_options(Some(&raw)).map_err(io::Error::from_raw_os_error)?;
    if settings.is_plain() {
        return Ok(f(&mut Control::plain()));
    }
    let mut ctl = Control::new(settings);
    if let Err(e) = ctl.check_now(now_ns()) {
        return Err(TransferError::io(e, 0, Method::None));
    }
    // `raw` names the canceller's fd: `opts` keeps it open meanwhile.
    Ok(f(&mut ctl))
}

/// The internal result as the public one.
pub(super) fn result(t: Transfer) -> io::Result<Copied> {
    let method = Method::from_raw(t.method);
    let bytes = u64::try_from(t.written).unwrap_or(0);
    match (t.handled, t.error) {
        (false, e) => Err(NotHandled::io(method, e)),
        (true, 0) => Ok(Copied { bytes, method }),
        (true, e) => Err(TransferError::io(e, bytes, method)),
    }
}

/// An offset the kernel takes as a signed number.
pub(super) fn to_offset(o: &u64) -> io::Result<i64> {
    i64::try_from(*o).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Moves up to `limit` bytes (None: until end of file) from `src` to `dst`
/// by the best mechanism for the pair, as Go's io.Copy does:
/// copy_file_range between files, sendfile from a file, splice where a
/// pipe is on either side or through a pooled pipe between sockets, else
/// read/write; falling back when a mechanism cannot serve the pair. Blocks
/// until done (non-blocking fds are waited for with poll(2)).
///
/// Errors: an `io::Error` carrying a [`TransferError`] (the bytes moved
/// before it). A blocking call is bounded only by the fds' own timeouts:
/// use [`copy_with`] for an idle timeout or a cancel handle.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// let path = std::env::temp_dir().join(format!("zcopy-doc-copy-{}", std::process::id()));
/// std::fs::write(&path, b"hello, world")?;
/// let file = std::fs::File::open(&path)?;
/// let (sock, mut peer) = UnixStream::pair()?;
/// let c = zcopy::copy(&sock, &file, None)?;
/// assert_eq!(c.bytes, 12);
/// drop(sock);
/// let mut got = String::new();
/// peer.read_to_string(&mut got)?;
/// assert_eq!(got, "hello, world");
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy(dst: impl AsFd, src: impl AsFd, limit: Option<u64>) -> io::Result<Copied> {
    copy_with(dst, src, limit, &Options::default())
}

/// [`copy`] under `opts`: idle timeout, cancel handle, resumable EINTR,
/// no-wait mode.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// let (dst, _p) = UnixStream::pair()?;
/// let (src, w) = UnixStream::pair()?;
/// drop(w); // end of stream at once
/// let opts = zcopy::Options::default().idle_timeout(std::time::Duration::from_secs(5));
/// assert_eq!(zcopy::copy_with(&dst, &src, None, &opts)?.bytes, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy_with(
    dst: impl AsFd,
    src: impl AsFd,
    limit: Option<u64>,
    opts: &Options,
) -> io::Result<Copied> {
    let (d, s) = (dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
    result(with_control(opts, |ctl| {
        crate::mech::dispatch::copy_with(ctl, d, s, remain(limit))
    })?)
}

/// splice(2) alone: a pipe on either side splices directly; two non-pipes
/// (socket to socket, socket to file) go through a pooled pipe. Returns
/// the bytes moved. [`io::ErrorKind::Unsupported`] with a [`NotHandled`]
/// when splice cannot serve the pair (nothing taken from src).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// let (mut w, src) = UnixStream::pair()?;
/// let (dst, mut r) = UnixStream::pair()?;
/// w.write_all(b"spliced")?;
/// drop(w);
/// assert_eq!(zcopy::splice(&dst, &src, None)?, 7);
/// let mut got = [0u8; 7];
/// r.read_exact(&mut got)?;
/// assert_eq!(&got, b"spliced");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn splice(dst: impl AsFd, src: impl AsFd, limit: Option<u64>) -> io::Result<u64> {
    splice_with(dst, src, limit, &Options::default())
}

/// [`splice`] under `opts`.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// let (dst, _p) = UnixStream::pair()?;
/// let (src, _w) = UnixStream::pair()?;
/// let e = zcopy::splice_with(&dst, &src, Some(10), &zcopy::Options::new().nowait(true));
/// assert_eq!(e.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn splice_with(
    dst: impl AsFd,
    src: impl AsFd,
    limit: Option<u64>,
    opts: &Options,
) -> io::Result<u64> {
    let (d, s) = (dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
    let t = with_control(opts, |ctl| {
        crate::mech::splice::splice_with(ctl, d, s, remain(limit))
    })?;
    result(t).map(|c| c.bytes)
}

/// sendfile(2) from `src` (a regular file or block device, read from and
/// advancing its file position) to `dst` (a socket, pipe or file). Returns
/// the bytes moved; `Unsupported` with a [`NotHandled`] when sendfile
/// cannot serve the pair.
///
/// ```
/// use std::io::Read;
/// use std::os::unix::net::UnixStream;
/// let path = std::env::temp_dir().join(format!("zcopy-doc-sf-{}", std::process::id()));
/// std::fs::write(&path, b"abcdef")?;
/// let file = std::fs::File::open(&path)?;
/// let (sock, mut peer) = UnixStream::pair()?;
/// assert_eq!(zcopy::sendfile(&sock, &file, Some(4))?, 4);
/// assert_eq!(zcopy::sendfile(&sock, &file, None)?, 2); // from the position
/// drop(sock);
/// let mut got = Vec::new();
/// peer.read_to_end(&mut got)?;
/// assert_eq!(got, b"abcdef");
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sendfile(dst: impl AsFd, src: impl AsFd, limit: Option<u64>) -> io::Result<u64> {
    sendfile_with(dst, src, limit, &Options::default())
}

/// [`sendfile`] under `opts`.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("zcopy-doc-sfw-{}", std::process::id()));
/// # std::fs::write(&path, b"xyz")?;
/// let file = std::fs::File::open(&path)?;
/// let (sock, _peer) = std::os::unix::net::UnixStream::pair()?;
/// let opts = zcopy::Options::default().idle_timeout(std::time::Duration::from_secs(1));
/// assert_eq!(zcopy::sendfile_with(&sock, &file, None, &opts)?, 3);
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sendfile_with(
    dst: impl AsFd,
    src: impl AsFd,
    limit: Option<u64>,
    opts: &Options,
) -> io::Result<u64> {
    let (d, s) = (dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
    let t = with_control(opts, |ctl| {
        crate::mech::sendfile::sendfile_with(ctl, d, s, None, remain(limit))
    })?;
    result(t).map(|c| c.bytes)
}

/// copy_file_range(2) between two regular files (reflinks and server-side
/// copies where the filesystem offers them), using and advancing both
/// file positions. `Unsupported` with a [`NotHandled`] when the kernel or
/// filesystem cannot serve the pair (another filesystem, O_APPEND dst,
/// procfs): fall back ([`copy`] does).
///
/// ```
/// # let dir = std::env::temp_dir();
/// # let (a, b) = (dir.join(format!("zcopy-doc-cfr-a-{}", std::process::id())), dir.join(format!("zcopy-doc-cfr-b-{}", std::process::id())));
/// std::fs::write(&a, b"file to file")?;
/// let src = std::fs::File::open(&a)?;
/// let dst = std::fs::File::create(&b)?;
/// match zcopy::copy_file_range(&dst, &src, None) {
///     Ok(n) => assert_eq!(n, 12),
///     Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {} // fall back
///     Err(e) => return Err(e),
/// }
/// # std::fs::remove_file(a)?; std::fs::remove_file(b)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy_file_range(dst: impl AsFd, src: impl AsFd, limit: Option<u64>) -> io::Result<u64> {
    copy_file_range_with(dst, src, limit, &Options::default())
}

/// [`copy_file_range`] under `opts` (only the cancel handle and the idle
/// clock matter, looked at between rounds of at most 16 MiB).
///
/// ```
/// # let dir = std::env::temp_dir();
/// # let (a, b) = (dir.join(format!("zcopy-doc-cfrw-a-{}", std::process::id())), dir.join(format!("zcopy-doc-cfrw-b-{}", std::process::id())));
/// # std::fs::write(&a, b"abc")?;
/// let (src, dst) = (std::fs::File::open(&a)?, std::fs::File::create(&b)?);
/// let r = zcopy::copy_file_range_with(&dst, &src, None, &zcopy::Options::default());
/// assert!(r.is_ok() || r.unwrap_err().kind() == std::io::ErrorKind::Unsupported);
/// # std::fs::remove_file(a)?; std::fs::remove_file(b)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy_file_range_with(
    dst: impl AsFd,
    src: impl AsFd,
    limit: Option<u64>,
    opts: &Options,
) -> io::Result<u64> {
    let (d, s) = (dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
    let t = with_control(opts, |ctl| {
        crate::mech::copy_file_range::copy_file_range_with(ctl, d, None, s, None, remain(limit))
    })?;
    result(t).map(|c| c.bytes)
}
