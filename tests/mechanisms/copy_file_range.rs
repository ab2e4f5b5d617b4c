//! zcopy::copy_file_range: starts and limits, what it does not handle,
//! offsets; and the read/write fallback.
use super::common::*;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use zcopy::*;

#[test]
fn copy_file_range_starts_and_limits() {
    let dir = tmpdir("cfr");
    let size = 32769i64;
    let data = pattern(size as usize, 7);
    fs::write(dir.join("src"), &data).unwrap();
    for src_start in [0i64, 100, size] {
        for dst_start in [0i64, 200] {
            let rest = size - src_start;
            for limit in [rest, rest - 100, 2 * size, 0] {
                let mut src = File::open(dir.join("src")).unwrap();
                let mut dst = File::create(dir.join("dst")).unwrap();
                src.seek(SeekFrom::Start(src_start as u64)).unwrap();
                dst.seek(SeekFrom::Start(dst_start as u64)).unwrap();
                let t = copy_file_range::copy_file_range(
                    dst.as_raw_fd(),
                    None,
                    src.as_raw_fd(),
                    None,
                    limit.max(0),
                );
                let want = limit.max(0).min(rest);
                let case = format!("src {src_start} dst {dst_start} limit {limit}");
                if want == 0 && limit > 0 {
                    // src at EOF: a first round of 0 bytes is "fall back".
                    assert_eq!((t.written, t.handled), (0, false), "{case}");
                    continue;
                }
                assert_eq!((t.written, t.error, t.handled), (want, 0, true), "{case}");
                if want == 0 {
                    continue;
                }
                assert_eq!(
                    src.stream_position().unwrap() as i64,
                    src_start + want,
                    "{case}"
                );
                assert_eq!(
                    dst.stream_position().unwrap() as i64,
                    dst_start + want,
                    "{case}"
                );
                let out = fs::read(dir.join("dst")).unwrap();
                assert_eq!(
                    &out[dst_start as usize..],
                    &data[src_start as usize..(src_start + want) as usize],
                    "{case}"
                );
            }
        }
    }
}

#[test]
fn copy_file_range_procfs_and_append_are_not_handled() {
    let dir = tmpdir("cfr-proc");
    let src = File::open("/proc/self/status").unwrap();
    let dst = File::create(dir.join("out")).unwrap();
    let t =
        copy_file_range::copy_file_range(dst.as_raw_fd(), None, src.as_raw_fd(), None, ZCOPY_ALL);
    assert_eq!((t.written, t.handled), (0, false));
    fs::write(dir.join("src"), b"abc").unwrap();
    let src = File::open(dir.join("src")).unwrap();
    let dst = OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("app"))
        .unwrap();
    let t = copy_file_range::copy_file_range(dst.as_raw_fd(), None, src.as_raw_fd(), None, 3);
    assert_eq!((t.written, t.handled, t.error), (0, false, libc::EBADF));
}

#[test]
fn copy_file_range_offsets_leave_positions() {
    let dir = tmpdir("cfr-off");
    let data = pattern(10_000, 8);
    fs::write(dir.join("src"), &data).unwrap();
    let mut src = File::open(dir.join("src")).unwrap();
    let mut dst = File::create(dir.join("dst")).unwrap();
    let (mut so, mut doff) = (100i64, 50i64);
    let t = copy_file_range::copy_file_range(
        dst.as_raw_fd(),
        Some(&mut doff),
        src.as_raw_fd(),
        Some(&mut so),
        1000,
    );
    assert_eq!((t.written, so, doff), (1000, 1100, 1050));
    assert_eq!(
        (
            src.stream_position().unwrap(),
            dst.stream_position().unwrap()
        ),
        (0, 0)
    );
    assert_eq!(&fs::read(dir.join("dst")).unwrap()[50..], &data[100..1100]);
}

// ---- read/write ----

#[test]
fn read_write_copies_and_waits_on_nonblocking() {
    let data = pattern(2 << 20, 10);
    let (a, b) = UnixStream::pair().unwrap();
    let (c, d) = UnixStream::pair().unwrap();
    set_nonblocking(b.as_raw_fd());
    set_nonblocking(c.as_raw_fd());
    let w = write_all(a, data.clone());
    let sink = read_all(d);
    let t = read_write::copy(c.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL);
    w.join().unwrap();
    drop(c);
    assert!(t.ok(), "{t:?}");
    assert_eq!(sink.join().unwrap(), data);
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
