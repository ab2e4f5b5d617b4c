//! The non-blocking splicer, and the pool after fork.
use super::common::*;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use zcopy::*;

#[test]
fn splicer_keeps_bytes_across_eagain_with_a_slow_reader() {
    let data = pattern(4 << 20, 12);
    let (a, b) = UnixStream::pair().unwrap();
    let (c, d) = UnixStream::pair().unwrap();
    set_nonblocking(b.as_raw_fd());
    set_nonblocking(c.as_raw_fd());
    let w = write_all(a, data.clone());
    // A slow reader: small reads with pauses.
    let r = std::thread::spawn(move || {
        let mut d = d;
        let mut v = Vec::new();
        let mut buf = [0u8; 7000];
        loop {
            let n = d.read(&mut buf).unwrap();
            if n == 0 {
                break v;
            }
            v.extend_from_slice(&buf[..n]);
            if v.len() % 5 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        }
    });
    let mut s = splicer::Splicer::new().unwrap();
    let (mut total, mut write_waits) = (0i64, 0);
    loop {
        let t = s.step(c.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
        total += t.written;
        if t.error == libc::EAGAIN {
            let (fd, ev) = if s.wants() == splicer::ZCOPY_WANT_READ {
                (b.as_raw_fd(), libc::POLLIN)
            } else {
                assert_eq!(s.wants(), splicer::ZCOPY_WANT_WRITE);
                assert!(s.pending() > 0);
                write_waits += 1;
                (c.as_raw_fd(), libc::POLLOUT)
            };
            let mut p = libc::pollfd {
                fd,
                events: ev,
                revents: 0,
            };
            // SAFETY: one pollfd.
            assert!(unsafe { libc::poll(&mut p, 1, 10_000) } > 0, "stalled");
            continue;
        }
        assert_eq!(t.error, 0);
        if s.eof() {
            assert_eq!((t.written, s.wants(), s.pending()), (t.written, 0, 0));
            break;
        }
    }
    w.join().unwrap();
    drop(c);
    assert_eq!(total as usize, data.len());
    assert!(write_waits > 0, "the slow reader never made dst full");
    assert_eq!(r.join().unwrap(), data);
}

#[test]
fn splicer_hard_error_reports_pending() {
    let (a, b) = UnixStream::pair().unwrap();
    let (c, d) = UnixStream::pair().unwrap();
    set_nonblocking(b.as_raw_fd());
    set_nonblocking(c.as_raw_fd());
    // Keep src busy until dst is full and the splicer must hold bytes,
    // then close dst's reader.
    let w = write_all(a, pattern(8 << 20, 13));
    let mut s = splicer::Splicer::new().unwrap();
    for _ in 0..10_000 {
        let t = s.step(c.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
        assert!(t.error == 0 || t.error == libc::EAGAIN, "{t:?}");
        if t.error == libc::EAGAIN && s.wants() == splicer::ZCOPY_WANT_WRITE {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(s.wants(), splicer::ZCOPY_WANT_WRITE);
    drop(d);
    let t = s.step(c.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    assert!(
        t.error == libc::EPIPE || t.error == libc::ECONNRESET,
        "{t:?}"
    );
    assert!(s.pending() > 0);
    drop(b);
    w.join().unwrap();
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

// ---- pool ----

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
