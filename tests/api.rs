//! The public Rust API as a user calls it: borrowed fds in, io::Result
//! out, no raw fd or errno integer needed (the tests compare kinds, and
//! a raw OS code only where no ErrorKind exists, as for ECANCELED).

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use zcopy::{Method, Options, Side};

const T: Duration = Duration::from_secs(20);

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("zcopy-api-{}-{name}", std::process::id()))
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let s = l.accept().unwrap().0;
    for x in [&c, &s] {
        x.set_read_timeout(Some(T)).unwrap();
        x.set_write_timeout(Some(T)).unwrap();
    }
    (c, s)
}

#[test]
fn copy_picks_the_mechanism_and_reports_it() {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let p = tmp("copy-src");
    std::fs::write(&p, &data).unwrap();
    // file -> socket: sendfile
    let (sock, mut peer) = UnixStream::pair().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        peer.read_to_end(&mut v).unwrap();
        v
    });
    let c = zcopy::copy(&sock, File::open(&p).unwrap(), None).unwrap();
    drop(sock);
    assert_eq!((c.bytes, c.method), (data.len() as u64, Method::Sendfile));
    assert!(reader.join().unwrap() == data);
    // socket -> socket with a limit: splice, exactly the limit.
    let (mut w, src) = tcp_pair();
    let (dst, mut r) = tcp_pair();
    w.write_all(&data[..5000]).unwrap();
    let c = zcopy::copy(&dst, &src, Some(1234)).unwrap();
    assert_eq!((c.bytes, c.method), (1234, Method::Splice));
    let mut got = vec![0u8; 1234];
    r.read_exact(&mut got).unwrap();
    assert_eq!(got, &data[..1234]);
    // file -> file: copy_file_range, or read/write where it cannot.
    let q = tmp("copy-dst");
    let c = zcopy::copy(File::create(&q).unwrap(), File::open(&p).unwrap(), None).unwrap();
    assert!(
        matches!(c.method, Method::CopyFileRange | Method::ReadWrite),
        "{c:?}"
    );
    assert_eq!(std::fs::read(&q).unwrap(), data);
    for f in [p, q] {
        std::fs::remove_file(f).unwrap();
    }
}

#[test]
fn a_mechanism_that_cannot_serve_is_unsupported_and_takes_nothing() {
    let (mut w, src) = UnixStream::pair().unwrap();
    let (dst, mut r) = UnixStream::pair().unwrap();
    w.write_all(b"kept").unwrap();
    let e = zcopy::copy_file_range(&dst, &src, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let nh = zcopy::NotHandled::of(&e).expect("a NotHandled payload");
    assert_eq!(nh.method(), Method::CopyFileRange);
    let e = zcopy::sendfile(&dst, &src, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    // Nothing was taken: the fallback moves every byte.
    drop(w);
    assert_eq!(zcopy::copy(&dst, &src, None).unwrap().bytes, 4);
    let mut got = [0u8; 4];
    r.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"kept");
}

#[test]
fn positional_forms_advance_the_offsets_and_leave_positions() {
    let p = tmp("at-src");
    std::fs::write(&p, b"0123456789abcdef").unwrap();
    let f = File::open(&p).unwrap();
    let (sock, mut peer) = UnixStream::pair().unwrap();
    let mut at = 10;
    assert_eq!(zcopy::sendfile_at(&sock, &f, &mut at, Some(4)).unwrap(), 4);
    assert_eq!(at, 14);
    let mut got = [0u8; 4];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"abcd");
    // The file position did not move: a plain sendfile starts at 0.
    assert_eq!(zcopy::sendfile(&sock, &f, Some(2)).unwrap(), 2);
    peer.read_exact(&mut got[..2]).unwrap();
    assert_eq!(&got[..2], b"01");
    // An offset the kernel cannot take is refused, not wrapped.
    let mut huge = u64::MAX;
    let e = zcopy::sendfile_at(&sock, &f, &mut huge, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(huge, u64::MAX);
    // copy_file_range_at: both offsets move by the bytes copied.
    let q = tmp("at-dst");
    let d = File::create(&q).unwrap();
    let (mut from, mut to) = (3u64, 100u64);
    match zcopy::copy_file_range_at(&d, &mut to, &f, &mut from, Some(5)) {
        Ok(n) => {
            assert_eq!((n, from, to), (5, 8, 105));
            assert_eq!(&std::fs::read(&q).unwrap()[100..], b"34567");
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
    }
    std::fs::remove_file(p).unwrap();
    std::fs::remove_file(q).unwrap();
}

#[test]
fn an_error_after_progress_carries_the_bytes_moved() {
    let (mut w, src) = tcp_pair();
    let (dst, mut r) = tcp_pair();
    w.write_all(&[7u8; 1000]).unwrap();
    let opts = Options::default().idle_timeout(Duration::from_millis(100));
    let t0 = Instant::now();
    let e = zcopy::copy_with(&dst, &src, None, &opts).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(t0.elapsed() >= Duration::from_millis(100) && t0.elapsed() < T);
    let te = zcopy::TransferError::of(&e).expect("a TransferError payload");
    assert_eq!(te.written(), 1000);
    let mut got = [0u8; 1000];
    r.read_exact(&mut got).unwrap();
}

#[test]
fn a_canceller_ends_a_blocking_call_from_another_thread() {
    let (_w, src) = tcp_pair();
    let (dst, _r) = tcp_pair();
    let c = zcopy::Canceller::new().unwrap();
    let c2 = c.clone();
    let t = std::thread::spawn(move || {
        zcopy::copy_with(&dst, &src, None, &Options::default().cancel(&c2))
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(!t.is_finished());
    c.cancel().unwrap();
    let t0 = Instant::now();
    while !t.is_finished() && t0.elapsed() < T {
        std::thread::sleep(Duration::from_millis(5));
    }
    let e = t.join().unwrap().unwrap_err();
    assert_eq!(e.raw_os_error(), None, "wrapped: {e:?}");
    let cause = zcopy::TransferError::of(&e).unwrap().cause();
    assert_eq!(cause.raw_os_error(), Some(libc::ECANCELED));
}

#[test]
fn relay_names_the_side_that_failed_and_its_counts() {
    let (a, mut client) = tcp_pair();
    let (b, server) = tcp_pair();
    let t = std::thread::spawn(move || zcopy::relay(&a, &b, &Options::default()));
    client.write_all(b"hello").unwrap();
    let mut got = [0u8; 5];
    (&server).read_exact(&mut got).unwrap();
    // The server resets (SO_LINGER 0 through std's API is unstable: send
    // data it never reads, then close, which resets).
    (&client).write_all(b"unread").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    drop(server);
    let e = t.join().unwrap().unwrap_err();
    assert_eq!(e.side(), Some(Side::B), "{e}");
    assert_eq!(e.counts().a_to_b, 11);
    assert!(
        matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        "{e}"
    );
    let as_io: std::io::Error = e.into();
    assert!(matches!(
        as_io.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
    ));
    let (x, _) = UnixStream::pair().unwrap();
    let (y, _) = UnixStream::pair().unwrap();
    let e = zcopy::relay(&x, &y, &Options::default().nowait(true)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn the_engine_relays_closes_the_fds_and_ends_relays_on_drop() {
    let engine = zcopy::Engine::new(2).unwrap();
    let (a, mut client) = tcp_pair();
    let (b, mut server) = tcp_pair();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    engine
        .add(a.into(), b.into(), &Options::default(), move |r| {
            tx2.send(r).unwrap()
        })
        .unwrap();
    client.write_all(b"abc").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    server.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"abc");
    server.shutdown(Shutdown::Write).unwrap();
    let counts = rx.recv_timeout(T).unwrap().unwrap();
    assert_eq!((counts.a_to_b, counts.b_to_a), (3, 0));
    // The engine closed its ends: the client sees end of stream.
    assert_eq!(client.read(&mut [0u8; 8]).unwrap(), 0);
    assert_eq!(engine.stats().finished, 1);
    // A relay still running when the engine drops ends with ECANCELED.
    let (a, _c) = tcp_pair();
    let (b, _s) = tcp_pair();
    engine
        .add(a.into(), b.into(), &Options::default(), move |r| {
            tx.send(r).unwrap()
        })
        .unwrap();
    assert_eq!(engine.stats().active, 1);
    drop(engine);
    let e = rx.recv_timeout(T).unwrap().unwrap_err();
    assert_eq!(e.io().raw_os_error(), Some(libc::ECANCELED));
}

#[test]
fn the_splicer_holds_what_dst_cannot_take() {
    let (mut w, src) = UnixStream::pair().unwrap();
    let (dst, mut r) = UnixStream::pair().unwrap();
    src.set_nonblocking(true).unwrap();
    dst.set_nonblocking(true).unwrap();
    let mut s = zcopy::Splicer::new().unwrap();
    let big = vec![3u8; 4 << 20];
    let writer = std::thread::spawn(move || w.write_all(&big));
    let mut moved = 0;
    // dst is never read here: the step stops with bytes held.
    let t0 = Instant::now();
    while s.wants() != Some(zcopy::Want::Write) && t0.elapsed() < T {
        moved += s.step(&dst, &src, None).unwrap();
    }
    assert_eq!(s.wants(), Some(zcopy::Want::Write));
    assert!(s.pending() > 0);
    // Drain dst and finish: every byte arrives once.
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map(|_| v.len())
    });
    while !s.eof() && t0.elapsed() < T {
        moved += s.step(&dst, &src, None).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(s.eof());
    writer.join().unwrap().unwrap();
    drop(dst);
    assert_eq!(moved, 4 << 20);
    assert_eq!(reader.join().unwrap().unwrap(), 4 << 20);
}

#[test]
fn the_pool_is_configured_counted_and_drained() {
    assert_eq!(
        zcopy::pool::configure(1, 1).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    zcopy::pool::configure(8, 0).unwrap();
    let (mut w, src) = tcp_pair();
    let (dst, _r) = tcp_pair();
    w.write_all(b"x").unwrap();
    zcopy::splice(&dst, &src, Some(1)).unwrap();
    assert!(zcopy::pool::stats().created >= 1);
    zcopy::pool::drain();
    assert_eq!(zcopy::pool::stats().in_use, 0);
}
