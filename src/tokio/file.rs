//! copy from a file to a socket on sendfile(2), woken by tokio.

use super::ready::Watched;
use crate::api::{NotHandled, TransferError};
use crate::call::control::Control;
use crate::call::options::Settings;
use crate::Method;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use tokio::io::Interest;

/// Copies `reader` (a regular file, read from its file position, which
/// advances) to `writer` (a socket, pipe or anything tokio drives) with
/// sendfile(2) until the file's end, as `tokio::io::copy(reader, writer)`
/// does without the user-space buffer. Returns the bytes copied. Waits
/// for `writer` in tokio's reactor whenever its buffer is full; the file
/// side never waits (a disk read happens inside sendfile on the calling
/// thread, as tokio's own file reads do on its blocking pool).
///
/// Errors: `Unsupported` with a [`NotHandled`](crate::NotHandled) when
/// sendfile cannot serve the pair (reader not a regular file, writer a
/// file opened O_APPEND): use `tokio::io::copy` then. Any other error
/// carries a [`TransferError`](crate::TransferError) with the bytes sent
/// before it.
///
/// Cancel safety: sendfile holds no byte in flight, so dropping the future
/// loses nothing: the file position says where the copy stopped.
///
/// ```
/// use tokio::io::AsyncReadExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let path = std::env::temp_dir().join(format!("zcopy-doc-tcopy-{}", std::process::id()));
/// std::fs::write(&path, vec![7u8; 300_000])?;
/// let mut file = std::fs::File::open(&path)?;
/// let (mut sock, mut peer) = tokio::net::UnixStream::pair()?;
/// let reader = tokio::spawn(async move {
///     let mut got = Vec::new();
///     peer.read_to_end(&mut got).await.map(|_| got)
/// });
/// assert_eq!(zcopy::tokio::copy(&mut file, &mut sock).await?, 300_000);
/// drop(sock);
/// assert_eq!(reader.await.unwrap()?.len(), 300_000);
/// # std::fs::remove_file(path)?;
/// # Ok(())
/// # }
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsFd + ?Sized,
    W: AsFd + ?Sized,
{
    let src = reader.as_fd().as_raw_fd();
    let dst = Watched::new(writer.as_fd(), Interest::WRITABLE)?;
    let nowait = Settings {
        nowait: true,
        ..Settings::default()
    };
    let mut total: u64 = 0;
    // Invariant: `total` bytes of the file reached writer; the file
    // position is just past them.
    loop {
        let mut guard = dst.fd_writable().await?;
        let t = {
            let mut ctl = Control::new(nowait);
            crate::mech::sendfile::sendfile_with(&mut ctl, dst.raw(), src, None, crate::ZCOPY_ALL)
        };
        total += u64::try_from(t.written).unwrap_or(0);
        match (t.handled, t.error) {
            (false, e) => return Err(NotHandled::io(Method::Sendfile, e)),
            (true, 0) => return Ok(total),
            // The socket is full: wait for room (the tick check keeps an
            // event that came meanwhile).
            (true, libc::EAGAIN) => guard.clear_ready(),
            (true, e) => return Err(TransferError::io(e, total, Method::Sendfile)),
        }
    }
}
