//! zcopy::sendfile: sizes and limits, small sends and seeks, EOF, offsets,
//! a socket source that must not spin.
use super::common::*;
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use zcopy::*;

#[test]
fn sendfile_sizes_and_limits() {
    let dir = tmpdir("sendfile");
    for size in [1usize, 42, 1025, 4097, 32769, 567198] {
        let data = pattern(size, size as u64);
        fs::write(dir.join("src"), &data).unwrap();
        for limit in [size as i64 - 1, size as i64 / 2, size as i64 + 1] {
            let mut src = File::open(dir.join("src")).unwrap();
            let (c, d) = tcp_pair();
            let sink = read_all(d);
            let t = sendfile::sendfile(c.as_raw_fd(), src.as_raw_fd(), None, limit);
            drop(c);
            let want = (limit.max(0) as usize).min(size);
            assert_eq!(
                (t.written as usize, t.error, t.handled),
                (want, 0, true),
                "size {size} limit {limit}"
            );
            assert_eq!(sink.join().unwrap(), data[..want]);
            assert_eq!(
                src.stream_position().unwrap(),
                want as u64,
                "src offset equals bytes moved"
            );
        }
    }
}

#[test]
fn sendfile_three_small_sends_and_seek() {
    let dir = tmpdir("sendfile-seek");
    let data = pattern(200_000, 9);
    fs::write(dir.join("src"), &data).unwrap();
    let mut src = File::open(dir.join("src")).unwrap();
    let (c, d) = tcp_pair();
    let sink = read_all(d);
    for _ in 0..3 {
        let t = sendfile::sendfile(c.as_raw_fd(), src.as_raw_fd(), None, 3);
        assert_eq!((t.written, t.error), (3, 0));
    }
    src.seek(SeekFrom::Start(65 << 10)).unwrap();
    let t = sendfile::sendfile(c.as_raw_fd(), src.as_raw_fd(), None, 10 << 10);
    assert_eq!(t.written, 10 << 10);
    drop(c);
    let got = sink.join().unwrap();
    let mut want = data[..9].to_vec();
    want.extend_from_slice(&data[65 << 10..75 << 10]);
    assert_eq!(got, want);
}

#[test]
fn sendfile_at_eof_is_handled_and_socket_source_is_not() {
    let dir = tmpdir("sendfile-eof");
    fs::write(dir.join("empty"), b"").unwrap();
    let src = File::open(dir.join("empty")).unwrap();
    let (c, _d) = tcp_pair();
    let t = sendfile::sendfile(c.as_raw_fd(), src.as_raw_fd(), None, ZCOPY_ALL);
    assert_eq!((t.written, t.error, t.handled), (0, 0, true));
    let (a, b) = UnixStream::pair().unwrap();
    let t = sendfile::sendfile(c.as_raw_fd(), b.as_raw_fd(), None, 10);
    assert_eq!((t.written, t.handled, t.error), (0, false, libc::EINVAL));
    drop(a);
}

#[test]
fn sendfile_with_offset_leaves_the_position() {
    let dir = tmpdir("sendfile-off");
    let data = pattern(100_000, 5);
    fs::write(dir.join("src"), &data).unwrap();
    let mut src = File::open(dir.join("src")).unwrap();
    let (c, d) = tcp_pair();
    let sink = read_all(d);
    let mut off = 1000i64;
    let t = sendfile::sendfile(c.as_raw_fd(), src.as_raw_fd(), Some(&mut off), 5000);
    drop(c);
    assert_eq!((t.written, off), (5000, 6000));
    assert_eq!(src.stream_position().unwrap(), 0);
    assert_eq!(sink.join().unwrap(), data[1000..6000]);
}

/// CPU time of the calling thread (a stalled call must not spin).
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
