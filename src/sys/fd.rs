//! Small wrappers over the system calls every mechanism shares: errno and
//! the fd queries (fstat, F_GETFL). Waiting lives in `wait`, the SIGPIPE
//! guard in `sigpipe`.

use std::mem::MaybeUninit;

/// The calling thread's errno.
#[inline]
pub fn errno() -> i32 {
    // SAFETY: __errno_location always returns a valid thread-local pointer.
    unsafe { *libc::__errno_location() }
}

/// fcntl(F_GETFL), or the errno (EBADF for a closed fd).
pub fn fd_flags(fd: i32) -> Result<i32, i32> {
    // SAFETY: F_GETFL takes no pointer argument.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// fstat, or the errno.
pub fn fstat(fd: i32) -> Result<libc::stat, i32> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st points to writable memory of the right size.
    let r = unsafe { libc::fstat(fd, st.as_mut_ptr()) };
    if r < 0 {
        Err(errno())
    } else {
        // SAFETY: fstat succeeded and filled it.
        Ok(unsafe { st.assume_init() })
    }
}

/// One splice(2) with NULL offsets (both fds' positions are used and
/// advanced), EINTR retried.
pub(crate) fn raw_splice(from: i32, to: i32, len: usize, flags: u32) -> Result<usize, i32> {
    loop {
        // SAFETY: NULL offsets; the kernel validates the fds.
        let n = unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                std::ptr::null_mut(),
                len,
                flags,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

/// copy_file_range(2) through syscall(2), as Go and Rust's std call it:
/// glibc has the wrapper only since 2.27, and the shipped library is
/// linked for glibc 2.17 (manylinux2014), where a reference to the
/// wrapper would stop the library from loading at all. Returns what the
/// wrapper would (-1 with errno set on failure).
///
/// # Safety
/// `off_in` and `off_out` are NULL or point to an i64 valid for the call.
pub(crate) unsafe fn copy_file_range(
    fd_in: i32,
    off_in: *mut i64,
    fd_out: i32,
    off_out: *mut i64,
    len: usize,
    flags: u32,
) -> isize {
    libc::syscall(
        libc::SYS_copy_file_range,
        fd_in,
        off_in,
        fd_out,
        off_out,
        len,
        flags,
    ) as isize
}

/// What an fd is, whatever its number: (st_dev, st_ino). Two fds with one
/// identity name one file (a dup, a FIFO opened twice, /proc/self/fd).
pub type Identity = (u64, u64);

/// The identity of the file a stat describes.
pub fn identity_of(st: &libc::stat) -> Identity {
    (st.st_dev, st.st_ino)
}

/// The identity of the file behind `fd` (fstat's errno if it has none).
pub fn identity(fd: i32) -> Result<Identity, i32> {
    fstat(fd).map(|st| identity_of(&st))
}
