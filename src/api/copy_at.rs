//! The positional transfer calls (`_at`): the kernel takes the offsets,
//! the file positions are neither used nor changed.

use super::copy::{remain, result, to_offset, with_control};
use super::Options;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// [`sendfile`](crate::sendfile()) from `*offset` in `src` (pread semantics: the file
/// position is neither used nor changed, so many connections can send
/// ranges of one shared file at once). `*offset` advances by exactly the
/// bytes moved, also when an error ends the call.
///
/// ```
/// use std::io::Read;
/// # let path = std::env::temp_dir().join(format!("zcopy-doc-sfa-{}", std::process::id()));
/// # std::fs::write(&path, b"0123456789")?;
/// let file = std::fs::File::open(&path)?;
/// let (sock, mut peer) = std::os::unix::net::UnixStream::pair()?;
/// let mut at = 4;
/// assert_eq!(zcopy::sendfile_at(&sock, &file, &mut at, Some(3))?, 3);
/// assert_eq!(at, 7);
/// let mut got = [0u8; 3];
/// peer.read_exact(&mut got)?;
/// assert_eq!(&got, b"456");
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sendfile_at(
    dst: impl AsFd,
    src: impl AsFd,
    offset: &mut u64,
    limit: Option<u64>,
) -> io::Result<u64> {
    sendfile_at_with(dst, src, offset, limit, &Options::default())
}

/// [`sendfile_at`] under `opts`.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("zcopy-doc-sfaw-{}", std::process::id()));
/// # std::fs::write(&path, b"0123")?;
/// let file = std::fs::File::open(&path)?;
/// let (sock, _peer) = std::os::unix::net::UnixStream::pair()?;
/// let mut at = 0;
/// zcopy::sendfile_at_with(&sock, &file, &mut at, None, &zcopy::Options::new().nowait(true))?;
/// assert_eq!(at, 4);
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sendfile_at_with(
    dst: impl AsFd,
    src: impl AsFd,
    offset: &mut u64,
    limit: Option<u64>,
    opts: &Options,
) -> io::Result<u64> {
    let (d, s) = (dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
    let mut off = to_offset(offset)?;
    let t = with_control(opts, |ctl| {
        crate::mech::sendfile::sendfile_with(ctl, d, s, Some(&mut off), remain(limit))
    });
    *offset = u64::try_from(off).unwrap_or(*offset);
    result(t?).map(|c| c.bytes)
}

/// [`copy_file_range`](crate::copy_file_range()) at explicit offsets (the file positions are neither
/// used nor changed); both advance by exactly the bytes moved.
///
/// ```
/// # let dir = std::env::temp_dir();
/// # let (a, b) = (dir.join(format!("zcopy-doc-cfra-a-{}", std::process::id())), dir.join(format!("zcopy-doc-cfra-b-{}", std::process::id())));
/// std::fs::write(&a, b"0123456789")?;
/// let (src, dst) = (std::fs::File::open(&a)?, std::fs::File::create(&b)?);
/// let (mut from, mut to) = (2, 0);
/// match zcopy::copy_file_range_at(&dst, &mut to, &src, &mut from, Some(5)) {
///     Ok(n) => assert_eq!((n, from, to), (5, 7, 5)),
///     Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
///     Err(e) => return Err(e),
/// }
/// # std::fs::remove_file(a)?; std::fs::remove_file(b)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy_file_range_at(
    dst: impl AsFd,
    dst_offset: &mut u64,
    src: impl AsFd,
    src_offset: &mut u64,
    limit: Option<u64>,
) -> io::Result<u64> {
    copy_file_range_at_with(dst, dst_offset, src, src_offset, limit, &Options::default())
}

/// [`copy_file_range_at`] under `opts`.
///
/// ```
/// # let dir = std::env::temp_dir();
/// # let (a, b) = (dir.join(format!("zcopy-doc-cfraw-a-{}", std::process::id())), dir.join(format!("zcopy-doc-cfraw-b-{}", std::process::id())));
/// # std::fs::write(&a, b"abc")?;
/// let (src, dst) = (std::fs::File::open(&a)?, std::fs::File::create(&b)?);
/// let (mut f, mut t) = (0, 0);
/// let o = zcopy::Options::default();
/// let r = zcopy::copy_file_range_at_with(&dst, &mut t, &src, &mut f, None, &o);
/// assert!(r.is_ok() || r.unwrap_err().kind() == std::io::ErrorKind::Unsupported);
/// # std::fs::remove_file(a)?; std::fs::remove_file(b)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy_file_range_at_with(
    dst: impl AsFd,
    dst_offset: &mut u64,
    src: impl AsFd,
    src_offset: &mut u64,
    limit: Option<u64>,
    opts: &Options,
) -> io::Result<u64> {
    let (d, s) = (dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
    let (mut doff, mut soff) = (to_offset(dst_offset)?, to_offset(src_offset)?);
    let t = with_control(opts, |ctl| {
        crate::mech::copy_file_range::copy_file_range_with(
            ctl,
            d,
            Some(&mut doff),
            s,
            Some(&mut soff),
            remain(limit),
        )
    });
    *dst_offset = u64::try_from(doff).unwrap_or(*dst_offset);
    *src_offset = u64::try_from(soff).unwrap_or(*src_offset);
    result(t?).map(|c| c.bytes)
}
