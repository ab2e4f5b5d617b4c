//! Regression tests for bugs a review found (each failed before its fix).
mod common;
use common::*;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use zcopy::*;

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is valid for writing.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Since Linux 5.12 sendfile into a pipe takes a socket as src; EAGAIN then
/// means "src has no data", and waiting only for the (writable) pipe spun.
#[test]
fn sendfile_from_an_empty_nonblocking_socket_into_a_pipe_does_not_spin() {
    let (mut a, b) = UnixStream::pair().unwrap();
    set_nonblocking(b.as_raw_fd());
    let (pr, pw) = pipe();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        a.write_all(b"hello").unwrap();
    });
    let cpu0 = thread_cpu();
    let t = sendfile::sendfile(pw.as_raw_fd(), b.as_raw_fd(), None, 5);
    let cpu = thread_cpu() - cpu0;
    writer.join().unwrap();
    drop(pr);
    // Either the kernel refuses a socket source (handled=false) or the call
    // waits for the data without burning CPU.
    if t.handled {
        assert_eq!((t.written, t.error), (5, 0), "{t:?}");
    }
    assert!(
        cpu < Duration::from_millis(50),
        "spent {cpu:?} of CPU waiting"
    );
}

/// A splicer must not take bytes from src that dst can never accept.
#[test]
fn splicer_refuses_a_dst_without_splice_before_taking_anything() {
    let (mut a, b) = UnixStream::pair().unwrap();
    set_nonblocking(b.as_raw_fd());
    a.write_all(b"abc").unwrap();
    let dst = OpenOptions::new()
        .write(true)
        .open("/proc/self/comm")
        .unwrap();
    let mut s = splicer::Splicer::new().unwrap();
    let t = s.step(dst.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    assert_eq!(
        (t.handled, t.error, t.written, s.pending()),
        (false, libc::EINVAL, 0, 0),
        "{t:?}"
    );
    let mut buf = [0u8; 3];
    (&b).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"abc", "the bytes are still in src");
}

/// A read-only dst: EBADF with nothing consumed, for zcopy_copy and the
/// splicer (the pooled path used to drain src first).
#[test]
fn read_only_dst_consumes_nothing() {
    let dir = tmpdir("rodst");
    std::fs::write(dir.join("f"), b"").unwrap();
    let ro = File::open(dir.join("f")).unwrap();
    let (mut a, b) = UnixStream::pair().unwrap();
    a.write_all(b"xyz").unwrap();
    let t = copy::copy(ro.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    assert_eq!((t.error, t.written), (libc::EBADF, 0));
    set_nonblocking(b.as_raw_fd());
    let mut s = splicer::Splicer::new().unwrap();
    let t = s.step(ro.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    assert_eq!(
        (t.error, t.written, s.pending()),
        (libc::EBADF, 0, 0),
        "{t:?}"
    );
    let mut buf = [0u8; 3];
    (&b).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"xyz");
}

/// A pipe copied into itself must fail at once, not go round for ever.
#[test]
fn pipe_into_itself_is_einval() {
    let (pr, mut pw) = pipe();
    pw.write_all(b"loop").unwrap();
    // On a worker thread, so a regression fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let a = copy::copy(pw.as_raw_fd(), pr.as_raw_fd(), ZCOPY_ALL);
        let b = splice::splice(pw.as_raw_fd(), pr.as_raw_fd(), ZCOPY_ALL);
        let _ = tx.send((a, b));
    });
    let (a, b) = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("a pipe copied into itself did not return");
    assert_eq!(a.error, libc::EINVAL, "{a:?}");
    assert_eq!(b.error, libc::EINVAL, "{b:?}");
}

/// A huge SO_RCVTIMEO (accepted by the kernel) must mean "wait", not
/// overflow into a 1 ms timeout (or a panic in a debug build).
#[test]
fn huge_socket_timeout_does_not_overflow() {
    let (mut a, b) = UnixStream::pair().unwrap();
    set_nonblocking(b.as_raw_fd());
    let tv = libc::timeval {
        tv_sec: 10_000_000_000_000_000,
        tv_usec: 0,
    };
    // SAFETY: tv is a valid timeval.
    let r = unsafe {
        libc::setsockopt(
            b.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if r != 0 {
        // Some kernels clamp or refuse; then there is nothing to overflow.
        return;
    }
    let (c, d) = UnixStream::pair().unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        a.write_all(b"late").unwrap();
    });
    let t = read_write::copy(c.as_raw_fd(), b.as_raw_fd(), 4);
    writer.join().unwrap();
    assert_eq!((t.written, t.error), (4, 0), "{t:?}");
    drop(d);
}

/// After fork the child's pool starts empty: other threads' slot pipes do
/// not count as idle (they used to fill the idle cap for ever), and pipes
/// are reused again.
#[test]
fn fork_child_pool_starts_empty_and_reuses() {
    // Park pipes in the slots of four other threads.
    let go = std::sync::Arc::new(std::sync::Barrier::new(5));
    let done = std::sync::Arc::new(std::sync::Barrier::new(5));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (go, done) = (go.clone(), done.clone());
            std::thread::spawn(move || {
                let p = pool::acquire().unwrap();
                pool::release(p);
                go.wait();
                done.wait();
            })
        })
        .collect();
    go.wait();
    // SAFETY: the child only runs simple code and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let s = pool::stats();
        let mut code = 0;
        if s.idle != 0 || s.in_use != 0 {
            code = 1;
        }
        for _ in 0..3 {
            let (mut a, b) = UnixStream::pair().unwrap();
            let (c, mut d) = UnixStream::pair().unwrap();
            a.write_all(b"0123456789").unwrap();
            drop(a);
            let t = splice::splice(c.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
            drop(c);
            let mut v = Vec::new();
            d.read_to_end(&mut v).unwrap();
            if t.written != 10 || v != b"0123456789" {
                code = 2;
            }
        }
        let after = pool::stats();
        if after.reused < s.reused + 2 {
            code = 3;
        }
        // SAFETY: leave the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    assert!(pid > 0);
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    done.wait();
    for t in threads {
        t.join().unwrap();
    }
    assert!(libc::WIFEXITED(status), "child died: {status}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "child check failed (1: idle/in_use not 0, 2: data, 3: no reuse)"
    );
}
