//! What -p, -a and --preserve keep: owner, mode bits, extended attributes
//! and times, set in that order (chown clears setuid bits, so the mode
//! comes after it; any later change would move the times, so they come
//! last). Paths are used, so one code serves files, directories, links and
//! special files: a symlink copied as a link is changed itself (lchown,
//! l*xattr, AT_SYMLINK_NOFOLLOW); for anything else links are followed
//! (a source named through a followed link, a destination cp wrote through).

use super::opts::Settings;
use crate::io_errstr;
use std::ffi::CString;
use std::fs::Metadata;
use std::io::Error;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn cpath(p: &Path) -> CString {
    // A path from the file system or argv has no NUL byte inside.
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r < 0 {
        Err(Error::last_os_error())
    } else {
        Ok(())
    }
}

/// One failure to keep an attribute: an error (exit 1) or nothing said.
fn failed(s: &Settings, what: &str, dst: &Path, e: &Error, errors: &mut Vec<String>) {
    let quiet = !s.required
        && matches!(
            e.raw_os_error(),
            Some(libc::EPERM | libc::EINVAL | libc::ENOTSUP | libc::EACCES)
        );
    if !quiet {
        errors.push(format!(
            "failed to preserve {what} for '{}': {}",
            dst.display(),
            io_errstr(e)
        ));
    }
}

/// Gives `dst` the attributes of `src` (`meta`, not following links when
/// `meta` is a link's) that the settings ask for. `new_dir`: a directory
/// made by this copy with a working mode, to be given its final one.
/// Returns the messages of the failures worth reporting.
pub fn apply(s: &Settings, src: &Path, meta: &Metadata, dst: &Path, new_dir: bool) -> Vec<String> {
    let mut errors = Vec::new();
    let link = meta.file_type().is_symlink();
    let d = cpath(dst);
    // A link is changed itself; anything else through the path, which is
    // a link only where cp wrote through an existing one.
    let chown = if link { libc::lchown } else { libc::chown };
    let mut owned = true;
    if s.ownership {
        // SAFETY: d is a NUL-terminated path that outlives the call.
        let r = check(unsafe { chown(d.as_ptr(), meta.uid(), meta.gid()) });
        if let Err(e) = r {
            owned = false;
            // Not root: keep at least the group, when the user is in it.
            // SAFETY: as above; -1 leaves the owner as it is.
            let g = check(unsafe { chown(d.as_ptr(), u32::MAX, meta.gid()) });
            // cp says nothing when a user cannot give a file away (EPERM),
            // even under --preserve=ownership.
            let denied = matches!(e.raw_os_error(), Some(libc::EPERM | libc::EINVAL));
            if g.is_err() && !denied {
                failed(s, "ownership", dst, &e, &mut errors);
            }
        }
    }
    if !link {
        let mode = if s.mode {
            // A setuid bit must not go to a file that kept another owner.
            let special = if owned { 0o7777 } else { 0o1777 };
            Some(meta.mode() & special)
        } else if new_dir {
            Some(meta.mode() & 0o777 & !s.umask)
        } else {
            None
        };
        if let Some(m) = mode {
            // SAFETY: d is a NUL-terminated path.
            if let Err(e) = check(unsafe { libc::chmod(d.as_ptr(), m) }) {
                errors.push(format!(
                    "failed to preserve permissions for '{}': {}",
                    dst.display(),
                    io_errstr(&e)
                ));
            }
        }
    }
    if s.xattr {
        if let Err(e) = copy_xattrs(src, dst, !link) {
            failed(s, "extended attributes", dst, &e, &mut errors);
        }
    }
    if s.timestamps {
        let ts = |sec: i64, nsec: i64| libc::timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        };
        let times = [
            ts(meta.atime(), meta.atime_nsec()),
            ts(meta.mtime(), meta.mtime_nsec()),
        ];
        // SAFETY: d is a NUL-terminated path, times two timespecs.
        let r = unsafe {
            libc::utimensat(
                libc::AT_FDCWD,
                d.as_ptr(),
                times.as_ptr(),
                if link { libc::AT_SYMLINK_NOFOLLOW } else { 0 },
            )
        };
        if let Err(e) = check(r) {
            failed(s, "times", dst, &e, &mut errors);
        }
    }
    errors
}

/// A buffer filled by a size-then-fill xattr call (`f(null, 0)` gives the
/// size, `f(buf, len)` fills it); None when there is nothing.
fn fetch(f: impl Fn(*mut libc::c_void, usize) -> isize) -> std::io::Result<Vec<u8>> {
    // Invariant: each round asks for the size anew (it may grow between
    // the two calls; ERANGE then asks again).
    loop {
        let n = f(std::ptr::null_mut(), 0);
        if n < 0 {
            return Err(Error::last_os_error());
        }
        let mut buf = vec![0u8; n as usize];
        let m = f(buf.as_mut_ptr().cast(), buf.len());
        if m >= 0 {
            buf.truncate(m as usize);
            return Ok(buf);
        }
        let e = Error::last_os_error();
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(e);
        }
    }
}

type ListFn = unsafe extern "C" fn(*const libc::c_char, *mut libc::c_char, usize) -> isize;
type GetFn = unsafe extern "C" fn(
    *const libc::c_char,
    *const libc::c_char,
    *mut libc::c_void,
    usize,
) -> isize;
type SetFn = unsafe extern "C" fn(
    *const libc::c_char,
    *const libc::c_char,
    *const libc::c_void,
    usize,
    libc::c_int,
) -> libc::c_int;

/// Every extended attribute of `src` onto `dst`, through links or of the
/// links themselves (`follow`).
/// A file system without xattrs (ENOTSUP on the source) has none to copy.
fn copy_xattrs(src: &Path, dst: &Path, follow: bool) -> std::io::Result<()> {
    let (s, d) = (cpath(src), cpath(dst));
    let (list, get, set) = if follow {
        (
            libc::listxattr as ListFn,
            libc::getxattr as GetFn,
            libc::setxattr as SetFn,
        )
    } else {
        (
            libc::llistxattr as ListFn,
            libc::lgetxattr as GetFn,
            libc::lsetxattr as SetFn,
        )
    };
    // SAFETY: s is a NUL-terminated path; buf/len come from fetch.
    let names = match fetch(|b, n| unsafe { list(s.as_ptr(), b.cast(), n) }) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(()),
        r => r?,
    };
    let mut first_error = None;
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let cname = CString::new(name).unwrap_or_default();
        // SAFETY: paths and name are NUL-terminated; buf/len from fetch.
        let value = fetch(|b, n| unsafe { get(s.as_ptr(), cname.as_ptr(), b, n) });
        let r = value.and_then(|v| {
            // SAFETY: v is a live buffer of v.len() bytes.
            check(unsafe { set(d.as_ptr(), cname.as_ptr(), v.as_ptr().cast(), v.len(), 0) })
        });
        // Go on with the others; the first failure is the one reported.
        if let Err(e) = r {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}
