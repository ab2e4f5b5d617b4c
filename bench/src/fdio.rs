//! Raw fd I/O for the in-process scenarios: blocking full reads and
//! writes, socket pairs, pipes and bare splice(2) calls. These are the
//! floor zcopy is compared with, so they are single system calls on
//! purpose (no EINTR loop, no SIGPIPE guard, unlike the library's own).

/// Writes all of buf to fd (blocking).
pub fn write_full(fd: i32, mut buf: &[u8]) -> Result<(), i32> {
    while !buf.is_empty() {
        // SAFETY: buf is valid.
        let n = unsafe { libc::write(fd, buf.as_ptr() as *const libc::c_void, buf.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// Reads exactly buf.len() bytes from fd (blocking); Err on EOF or error.
pub fn read_full(fd: i32, buf: &mut [u8]) -> Result<(), i32> {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: the tail of buf is valid.
        let n = unsafe {
            libc::read(
                fd,
                buf[got..].as_mut_ptr() as *mut libc::c_void,
                buf.len() - got,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(libc::EPIPE);
        }
        got += n as usize;
    }
    Ok(())
}

/// errno of the last failed call.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

pub const PIPE_SIZE: i32 = 1 << 20;

pub fn socketpair() -> (i32, i32) {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0, "socketpair: errno {}", errno());
    (fds[0], fds[1])
}

pub fn new_pipe() -> (i32, i32) {
    let mut p = [0i32; 2];
    // SAFETY: p has room for two.
    let r = unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    assert_eq!(r, 0, "pipe2: errno {}", errno());
    // SAFETY: plain fcntl on our pipe.
    unsafe { libc::fcntl(p[1], libc::F_SETPIPE_SZ, PIPE_SIZE) };
    (p[0], p[1])
}

pub fn raw_splice(from: i32, to: i32, len: usize) -> isize {
    // SAFETY: NULL offsets.
    unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_NONBLOCK,
        )
    }
}

/// socket -> pipe -> socket with raw syscalls (blocking sockets, so EAGAIN
/// cannot come from the sockets; the pipe never fills past SIZE).
pub fn splice_through(p: (i32, i32), src: i32, dst: i32, size: usize) {
    let mut left = size;
    while left > 0 {
        let n = raw_splice(src, p.1, left);
        assert!(n > 0, "splice in: {} errno {}", n, errno());
        let mut m = n as usize;
        while m > 0 {
            let k = raw_splice(p.0, dst, m);
            assert!(k > 0, "splice out: {} errno {}", k, errno());
            m -= k as usize;
        }
        left -= n as usize;
    }
}

/// The read/write baseline of the size curve: up to `n` bytes from src to
/// dst through a 256 KiB buffer kept per thread (as zcopy's own fallback
/// does), on blocking fds; stops early at end of file. Reported as a
/// zcopy_result so the curve checks every variant alike.
pub fn read_write(dst: i32, src: i32, n: i64) -> crate::abi::ZResult {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 256 << 10]);
    }
    BUF.with(|b| {
        let buf = &mut b.borrow_mut()[..];
        let mut done: i64 = 0;
        let mut error = 0;
        while done < n {
            let want = buf.len().min((n - done) as usize);
            // SAFETY: buf has room for `want` bytes.
            let k = unsafe { libc::read(src, buf.as_mut_ptr() as *mut libc::c_void, want) };
            if k < 0 && errno() == libc::EINTR {
                continue;
            }
            if k <= 0 {
                error = if k < 0 { errno() } else { 0 };
                break;
            }
            if let Err(e) = write_full(dst, &buf[..k as usize]) {
                error = e;
                break;
            }
            done += k as i64;
        }
        crate::abi::ZResult {
            written: done,
            error,
            method: crate::abi::METHOD_READ_WRITE,
            handled: true,
        }
    })
}
