//! A short tour of zcopy on generated data: every mechanism, the bytes it
//! moved, the method it used, MB/s, and a check that the data arrived
//! intact. Run: `cargo run --release --example tour [-- SIZE_MIB]`.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Instant;
use zcopy::ffi::*;
use zcopy::{Transfer, ZCOPY_ALL};

/// Deterministic pseudo-random bytes (xorshift64*), so runs are repeatable.
fn generate(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    v.truncate(len);
    v
}

/// FNV-1a 64: enough to tell intact from corrupted.
fn fnv(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn method(t: &Transfer) -> String {
    // SAFETY: zcopy_method_name returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(zcopy_method_name(t.method)) }
        .to_string_lossy()
        .into_owned()
}

fn report(name: &str, t: Transfer, secs: f64, expected: &[u8], got: &[u8]) -> bool {
    let intact = t.error == 0 && t.handled && got.len() == expected.len() && fnv(got) == fnv(expected);
    println!(
        "{:<34} {:>10} bytes  {:<16} {:>9.0} MB/s  {}",
        name,
        t.written,
        method(&t),
        t.written as f64 / secs.max(1e-9) / 1e6,
        if intact {
            "intact".to_string()
        } else {
            format!("FAILED (error {}, handled {}, got {} bytes)", t.error, t.handled, got.len())
        }
    );
    intact
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (c, s)
}

/// Reads a stream to its end on a thread.
fn collect<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        v
    })
}

fn feed<W: Write + Send + 'static>(mut w: W, data: Vec<u8>) -> thread::JoinHandle<()> {
    thread::spawn(move || w.write_all(&data).unwrap())
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("zcopy-tour-{}", std::process::id()));
    fs::create_dir_all(&d).unwrap();
    d
}

fn timed(f: impl FnOnce() -> Transfer) -> (Transfer, f64) {
    let t0 = Instant::now();
    let t = f();
    (t, t0.elapsed().as_secs_f64())
}

fn write_file(p: &Path, data: &[u8]) -> File {
    fs::write(p, data).unwrap();
    File::open(p).unwrap()
}

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let size = mib << 20;
    let data = generate(size, 0x5eed);
    let dir = temp_dir();
    // SAFETY: zcopy_version returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(zcopy_version()) }.to_string_lossy();
    println!("zcopy {version}: moving {mib} MiB of generated data each way\n");
    let mut ok = true;

    // 1. file -> file: copy_file_range
    let src = write_file(&dir.join("src.bin"), &data);
    let dst = File::create(dir.join("cfr.bin")).unwrap();
    let (t, s) = timed(|| zcopy_copy_file_range(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL));
    ok &= report("file -> file (copy_file_range)", t, s, &data, &fs::read(dir.join("cfr.bin")).unwrap());

    // 2. file -> TCP: sendfile
    let src = File::open(dir.join("src.bin")).unwrap();
    let (c, srv) = tcp_pair();
    let sink = collect(srv);
    let (t, s) = timed(|| zcopy_sendfile(c.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL));
    drop(c);
    ok &= report("file -> TCP (sendfile)", t, s, &data, &sink.join().unwrap());

    // 3. TCP -> TCP: splice through the pipe pool
    let (mut a_client, a_server) = tcp_pair();
    let (b_client, b_server) = tcp_pair();
    let sink = collect(b_server);
    let writer = thread::spawn({
        let d = data.clone();
        move || a_client.write_all(&d).unwrap()
    });
    let (t, s) = timed(|| zcopy_splice(b_client.as_raw_fd(), a_server.as_raw_fd(), ZCOPY_ALL));
    writer.join().unwrap();
    drop(b_client);
    ok &= report("TCP -> TCP (splice via pool)", t, s, &data, &sink.join().unwrap());

    // 4. unix socket -> file: zcopy_copy picks splice through the pool
    let (a, b) = UnixStream::pair().unwrap();
    let w = feed(a, data.clone());
    let out = File::create(dir.join("copy.bin")).unwrap();
    let (t, s) = timed(|| zcopy_copy(out.as_raw_fd(), b.as_raw_fd(), ZCOPY_ALL));
    w.join().unwrap();
    ok &= report("unix -> file (zcopy_copy)", t, s, &data, &fs::read(dir.join("copy.bin")).unwrap());

    // 5. file -> pipe: zcopy_copy reads and writes (no page references)
    let src = File::open(dir.join("src.bin")).unwrap();
    let (mut pr, pw) = pipe();
    let sink = thread::spawn(move || {
        let mut v = Vec::new();
        pr.read_to_end(&mut v).unwrap();
        v
    });
    let (t, s) = timed(|| zcopy_copy(pw.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL));
    drop(pw);
    ok &= report("file -> pipe (zcopy_copy)", t, s, &data, &sink.join().unwrap());

    // 6. the non-blocking splicer, driven by poll(2) like an event loop
    let (mut a, b) = UnixStream::pair().unwrap();
    let (c, d) = UnixStream::pair().unwrap();
    b.set_nonblocking(true).unwrap();
    c.set_nonblocking(true).unwrap();
    let sink = collect(d);
    let w = thread::spawn({
        let dd = data.clone();
        move || a.write_all(&dd).unwrap()
    });
    let (t, s) = timed(|| splicer_loop(c.as_raw_fd(), b.as_raw_fd()));
    w.join().unwrap();
    drop(c);
    ok &= report("unix -> unix (splicer, poll loop)", t, s, &data, &sink.join().unwrap());

    let mut st = zcopy_pool_stats::default();
    // SAFETY: st is a valid out-pointer.
    unsafe { zcopy_pool_get_stats(&mut st) };
    println!(
        "\npool: idle {} in_use {} created {} reused {} discarded {}; drained {}",
        st.idle,
        st.in_use,
        st.created,
        st.reused,
        st.discarded,
        zcopy_pool_drain()
    );
    fs::remove_dir_all(&dir).ok();
    if ok {
        println!("all transfers intact");
    } else {
        println!("SOME TRANSFERS FAILED");
        std::process::exit(1);
    }
}

#[allow(non_camel_case_types)]
type zcopy_pool_stats = ZcopyPoolStats;

fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two ints.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    use std::os::fd::FromRawFd;
    // SAFETY: fresh fds owned by the Files from here on.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

/// Steps a splicer until EOF, waiting with poll(2) for what it wants.
fn splicer_loop(dst: i32, src: i32) -> Transfer {
    let s = zcopy_splicer_new();
    assert!(!s.is_null());
    let mut total = Transfer::done(zcopy::ZCOPY_METHOD_SPLICE, 0, 0);
    loop {
        // SAFETY: s is a live splicer.
        let t = unsafe { zcopy_splicer_step(s, dst, src, ZCOPY_ALL) };
        total.written += t.written;
        if t.error == libc::EAGAIN {
            // SAFETY: s is a live splicer.
            let (fd, ev) = match unsafe { zcopy_splicer_wants(s) } {
                zcopy::splicer::ZCOPY_WANT_READ => (src, libc::POLLIN),
                _ => (dst, libc::POLLOUT),
            };
            let mut p = libc::pollfd { fd, events: ev, revents: 0 };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, -1) };
            continue;
        }
        // SAFETY: s is a live splicer.
        if t.error != 0 || unsafe { zcopy_splicer_eof(s) } {
            total.error = t.error;
            break;
        }
    }
    // SAFETY: s came from zcopy_splicer_new and is not used again.
    unsafe { zcopy_splicer_free(s) };
    total
}
