//! Rust tests of each mechanism module, through the plain-Rust API.
mod common;
use common::*;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use zcopy::copy::{plan, FdInfo, Plan};
use zcopy::*;

// ---- splice ----

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

// ---- sendfile ----

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

// ---- copy_file_range ----

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

// ---- dispatch ----

#[test]
fn dispatch_table() {
    let dir = tmpdir("plan");
    fs::write(dir.join("a"), b"x").unwrap();
    let f = File::open(dir.join("a")).unwrap();
    let g = File::create(dir.join("b")).unwrap();
    let app = OpenOptions::new().append(true).open(dir.join("b")).unwrap();
    let (pr, pw) = pipe();
    let (s1, s2) = UnixStream::pair().unwrap();
    let null = OpenOptions::new().write(true).open("/dev/null").unwrap();
    let info = |fd: i32| FdInfo::of(fd).unwrap();
    let (f, g, app, pr, pw, s1, s2, null) = (
        info(f.as_raw_fd()),
        info(g.as_raw_fd()),
        info(app.as_raw_fd()),
        info(pr.as_raw_fd()),
        info(pw.as_raw_fd()),
        info(s1.as_raw_fd()),
        info(s2.as_raw_fd()),
        info(null.as_raw_fd()),
    );
    assert_eq!(plan(&g, &f), Plan::FileToFile);
    assert_eq!(plan(&app, &f), Plan::ReadWrite);
    assert_eq!(plan(&s1, &f), Plan::SendFile);
    assert_eq!(plan(&null, &f), Plan::SendFile);
    assert_eq!(plan(&pw, &f), Plan::ReadWrite);
    assert_eq!(plan(&s1, &pr), Plan::DirectSplice);
    assert_eq!(plan(&pw, &s2), Plan::DirectSplice);
    assert_eq!(plan(&s1, &s2), Plan::PooledSplice);
    assert_eq!(plan(&g, &s2), Plan::PooledSplice);
    assert_eq!(plan(&app, &s2), Plan::ReadWrite);
    assert_eq!(plan(&null, &s2), Plan::ReadWrite);
    assert_eq!(plan(&f, &f), Plan::SameFile);
}

#[test]
fn copy_file_onto_itself_doubles_it() {
    let dir = tmpdir("self");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join("f"))
        .unwrap();
    f.write_all(b"hello world!").unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let t = copy::copy(f.as_raw_fd(), f.as_raw_fd(), ZCOPY_ALL);
    assert!(t.ok(), "{t:?}");
    assert_eq!(
        fs::read(dir.join("f")).unwrap(),
        b"hello world!hello world!"
    );
    // Two fds on one file: src at 0, dst at its end.
    fs::write(dir.join("g"), b"hello world!").unwrap();
    let src = File::open(dir.join("g")).unwrap();
    let mut dst = OpenOptions::new().write(true).open(dir.join("g")).unwrap();
    dst.seek(SeekFrom::End(0)).unwrap();
    let t = copy::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    assert_eq!((t.written, t.error), (12, 0));
    assert_eq!(
        fs::read(dir.join("g")).unwrap(),
        b"hello world!hello world!"
    );
}

#[test]
fn copy_procfs_source_arrives_whole() {
    let dir = tmpdir("procfs");
    for path in ["/proc/self/cmdline", "/proc/self/status"] {
        let src = File::open(path).unwrap();
        let dst = File::create(dir.join("out")).unwrap();
        let t = copy::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
        assert!(t.ok() && t.written > 0, "{path}: {t:?}");
        let got = fs::read(dir.join("out")).unwrap();
        if path.ends_with("cmdline") {
            assert_eq!(got, fs::read(path).unwrap());
        } else {
            assert!(String::from_utf8_lossy(&got).contains("Name:"), "{path}");
        }
    }
}

#[test]
fn copy_append_dst_appends() {
    let dir = tmpdir("append");
    fs::write(dir.join("src"), b"tail").unwrap();
    fs::write(dir.join("dst"), b"head-").unwrap();
    let src = File::open(dir.join("src")).unwrap();
    let dst = OpenOptions::new()
        .append(true)
        .open(dir.join("dst"))
        .unwrap();
    let t = copy::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    assert_eq!(
        (t.written, t.error, t.method),
        (4, 0, ZCOPY_METHOD_READ_WRITE)
    );
    assert_eq!(fs::read(dir.join("dst")).unwrap(), b"head-tail");
}

#[test]
fn copy_file_to_pipe_does_not_show_later_changes() {
    // A spliced pipe would hold references to the file's pages; a write to
    // the file before the reader reads would then show through.
    let dir = tmpdir("f2p");
    fs::write(dir.join("src"), vec![b'a'; 4096]).unwrap();
    let src = File::open(dir.join("src")).unwrap();
    let (mut pr, pw) = pipe();
    let t = copy::copy(pw.as_raw_fd(), src.as_raw_fd(), 4096);
    assert_eq!((t.written, t.method), (4096, ZCOPY_METHOD_READ_WRITE));
    fs::write(dir.join("src"), vec![b'b'; 4096]).unwrap();
    drop(pw);
    let mut got = Vec::new();
    pr.read_to_end(&mut got).unwrap();
    assert!(got.iter().all(|&c| c == b'a'));
}

#[test]
fn copy_less_data_than_remain_and_offsets() {
    let dir = tmpdir("short");
    let data = pattern(5000, 11);
    fs::write(dir.join("src"), &data).unwrap();
    let mut src = File::open(dir.join("src")).unwrap();
    let mut dst = File::create(dir.join("dst")).unwrap();
    let t = copy::copy(dst.as_raw_fd(), src.as_raw_fd(), 1 << 30);
    assert_eq!((t.written, t.error), (5000, 0));
    assert_eq!(src.stream_position().unwrap(), 5000);
    assert_eq!(dst.stream_position().unwrap(), 5000);
    assert_eq!(fs::read(dir.join("dst")).unwrap(), data);
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

// ---- splicer ----

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
