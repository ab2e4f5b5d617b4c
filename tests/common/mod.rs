//! Helpers shared by the Rust integration tests.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Deterministic pseudo-random bytes.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    for x in [&c, &s] {
        x.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    }
    (c, s)
}

pub fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: room for two fds.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh fds, owned from here on.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

pub fn read_all<R: Read + Send + 'static>(mut r: R) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        v
    })
}

/// Writes `data` on a thread, then closes `w` (so the reader sees EOF).
/// A write error (the reader went away) ends the thread quietly.
pub fn write_all<W: Write + Send + 'static>(mut w: W, data: Vec<u8>) -> JoinHandle<()> {
    thread::spawn(move || {
        let _ = w.write_all(&data);
    })
}

/// A fresh temporary directory for one test.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zcopy-rs-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

pub fn set_nonblocking(fd: i32) {
    // SAFETY: plain fcntl calls.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

/// The directory holding the libzcopy.so that `cargo test` built with this
/// test binary. A plain `cargo test` leaves the test build's cdylib only in
/// target/<profile>/deps/ (next to the test binary); target/<profile>/ gets a
/// copy only when the library itself was a build root (`cargo build`). The
/// deps copy is looked at first: it is the one built with these tests.
pub fn built_library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    if deps.join("libzcopy.so").exists() {
        return deps;
    }
    let dir = deps.parent().expect("profile dir").to_path_buf();
    assert!(
        dir.join("libzcopy.so").exists(),
        "libzcopy.so not found in {} or {} (cargo test builds it with the lib target)",
        deps.display(),
        dir.display()
    );
    dir
}
