//! zcopy_copy's dispatch: the decision table and the kernel cases (a file
//! onto itself, procfs, O_APPEND, a later change, short sources, read-only
//! dst, a pipe into itself).
use super::common::*;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use zcopy::copy::{plan, FdInfo, Plan};
use zcopy::*;

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
