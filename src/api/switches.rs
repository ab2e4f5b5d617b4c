//! The kill switch and reflink control (issue 23) in the Rust API.

use super::Method;
use crate::sys::disable::{
    ZCOPY_DISABLE_COPY_FILE_RANGE, ZCOPY_DISABLE_SENDFILE, ZCOPY_DISABLE_SPLICE,
};
use std::io;
use std::os::fd::{AsFd, AsRawFd};

const SWITCHES: [(Method, u32); 3] = [
    (Method::Splice, ZCOPY_DISABLE_SPLICE),
    (Method::Sendfile, ZCOPY_DISABLE_SENDFILE),
    (Method::CopyFileRange, ZCOPY_DISABLE_COPY_FILE_RANGE),
];

/// Turns these mechanisms off for the whole process, and every other one
/// on (the set replaces the one in force, as `zcopy_disable`; the
/// `ZCOPY_DISABLE` environment variable sets the first one at load):
/// every call then takes the next path of its dispatch, read/write last,
/// and relays copy instead of splicing. `InvalidInput` (nothing changed)
/// for a method that cannot be switched off (`ReadWrite`, `None`).
///
/// ```
/// use zcopy::Method;
/// zcopy::disable(&[Method::Splice])?;
/// assert_eq!(zcopy::disabled(), vec![Method::Splice]);
/// zcopy::disable(&[])?; // all back on
/// assert!(zcopy::disabled().is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn disable(methods: &[Method]) -> io::Result<()> {
    let mut mask = 0;
    for m in methods {
        let Some((_, bit)) = SWITCHES.iter().find(|(s, _)| s == m) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{m} cannot be switched off"),
            ));
        };
        mask |= bit;
    }
    crate::sys::disable::set(mask);
    Ok(())
}

/// The mechanisms switched off now.
///
/// ```
/// let off = zcopy::disabled(); // empty unless ZCOPY_DISABLE or disable() said otherwise
/// # let _ = off;
/// ```
pub fn disabled() -> Vec<Method> {
    let mask = crate::sys::disable::disabled();
    SWITCHES
        .iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(m, _)| *m)
        .collect()
}

/// Makes the regular file `dst` a copy-on-write clone of the whole of
/// `src` (FICLONE, as `cp --reflink=always`): all or nothing, dst's old
/// content replaced; returns src's size. `Unsupported` where the
/// filesystem cannot clone (EOPNOTSUPP), raw EXDEV across filesystems,
/// `InvalidInput` for what is not two regular files.
///
/// ```
/// let dir = std::env::temp_dir();
/// let (p, q) = (dir.join(format!("zc-clone-a-{}", std::process::id())), dir.join(format!("zc-clone-b-{}", std::process::id())));
/// std::fs::write(&p, b"data")?;
/// let (src, dst) = (std::fs::File::open(&p)?, std::fs::File::create(&q)?);
/// match zcopy::clone_file(&dst, &src) {
///     Ok(n) => assert_eq!(n, 4),                 // XFS with reflink, btrfs
///     Err(e) => assert!(e.raw_os_error().is_some()), // ext4, tmpfs: no clone, dst untouched
/// }
/// # std::fs::remove_file(p)?; std::fs::remove_file(q)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn clone_file(dst: impl AsFd, src: impl AsFd) -> io::Result<u64> {
    let t = crate::mech::clone::clone_file(dst.as_fd().as_raw_fd(), src.as_fd().as_raw_fd());
    if t.error != 0 {
        return Err(io::Error::from_raw_os_error(t.error));
    }
    Ok(u64::try_from(t.written).unwrap_or(0))
}
