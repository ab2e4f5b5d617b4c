use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

#[test]
fn tcp_to_unix_splice_smoke() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let d2 = data.clone();
    let w = std::thread::spawn(move || {
        c.write_all(&d2).unwrap();
    });
    let r = std::thread::spawn(move || {
        let mut v = Vec::new();
        b.read_to_end(&mut v).unwrap();
        v
    });
    let t = zcopy::ffi::zcopy_splice(a.as_raw_fd(), s.as_raw_fd(), zcopy::ZCOPY_ALL);
    w.join().unwrap();
    drop(a);
    let got = r.join().unwrap();
    assert_eq!(t.error, 0);
    assert!(t.handled);
    assert_eq!(t.written as usize, data.len());
    assert_eq!(got, data);
}
