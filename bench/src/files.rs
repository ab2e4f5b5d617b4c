//! What scenarios 2 (file -> TCP) and 3 (file -> file) share: the data
//! file, zcopy's variants as this binary in child mode, the interleaved
//! rounds and the strace table. Every variant runs as its own process so
//! that wait4(2) gives its whole CPU time.

use crate::prelude::*;
use std::fs::File;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Creates (or reuses) a data file of `size` bytes and reads it once so it
/// sits in the page cache.
pub fn data_file(dir: &Path, size: u64) -> Result<PathBuf, String> {
    let p = dir.join(format!("data-{}", size));
    let ok = std::fs::metadata(&p)
        .map(|m| m.len() == size)
        .unwrap_or(false);
    if !ok {
        eprintln!(
            "bench: writing {} of test data to {}",
            size_name(size),
            p.display()
        );
        let mut fh = File::create(&p).map_err(|e| format!("{}: {}", p.display(), e))?;
        // Incompressible-looking bytes from a small xorshift generator.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut block = vec![0u8; 1 << 20];
        for c in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.copy_from_slice(&x.to_le_bytes());
        }
        let mut left = size;
        let mut i = 0u8;
        while left > 0 {
            block[0] = i;
            i = i.wrapping_add(1);
            let n = left.min(block.len() as u64) as usize;
            fh.write_all(&block[..n]).map_err(|e| e.to_string())?;
            left -= n as u64;
        }
        fh.sync_all().map_err(|e| e.to_string())?;
    }
    warm(&p);
    Ok(p)
}

/// The scenario's data file, or None with the reason in the section's
/// notes (the scenario is then skipped).
pub fn data_file_for(dir: &Path, size: u64, sec: &mut Section) -> Option<PathBuf> {
    match data_file(dir, size) {
        Ok(p) => Some(p),
        Err(e) => {
            sec.notes
                .push(format!("skipped: cannot make the data file: {}", e));
            None
        }
    }
}

/// Reads a file to the end so its pages are cached.
pub fn warm(p: &Path) {
    if let Ok(mut fh) = File::open(p) {
        let mut buf = vec![0u8; 1 << 20];
        while let Ok(n) = std::io::Read::read(&mut fh, &mut buf) {
            if n == 0 {
                break;
            }
        }
    }
}

fn fail(msg: String) -> i32 {
    eprintln!("bench child: {}", msg);
    1
}

/// Child mode `sendfile MODE FILE N`: sends FILE N times over one TCP
/// connection on 127.0.0.1 to a sink thread of this process that reads and
/// discards 8 KiB at a time (as Go's io.Copy(io.Discard, conn) in
/// sendfile.go). MODE: zcopy (zcopy_sendfile) or rw (32 KiB read/write
/// loop, as Go's -generic).
pub fn child_sendfile(args: &[String]) -> i32 {
    let mode = args[0].clone();
    let path = PathBuf::from(&args[1]);
    let times: u64 = args[2].parse().unwrap_or(1);
    let size = match std::fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(e) => return fail(format!("{}: {}", path.display(), e)),
    };
    let ln = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = ln.local_addr().unwrap();
    let sink = std::thread::spawn(move || {
        let (mut c, _) = ln.accept().expect("accept");
        let mut buf = vec![0u8; 8192];
        let mut n: u64 = 0;
        loop {
            match std::io::Read::read(&mut c, &mut buf) {
                Ok(0) => break,
                Ok(k) => n += k as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        n
    });
    let conn = std::net::TcpStream::connect(addr).expect("connect");
    let dst = conn.as_raw_fd();
    for _ in 0..times {
        let fh = File::open(&path).expect("open");
        let src = fh.as_raw_fd();
        if mode == "zcopy" {
            let r = crate::abi::sendfile(dst, src, crate::abi::ALL);
            if !(r.handled && r.error == 0 && r.written as u64 == size) {
                return fail(format!("zcopy_sendfile: {:?}", r));
            }
        } else {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                // SAFETY: buf is valid.
                let n =
                    unsafe { libc::read(src, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
                if n < 0 {
                    return fail(format!("read: errno {}", errno()));
                }
                if n == 0 {
                    break;
                }
                if let Err(e) = write_full(dst, &buf[..n as usize]) {
                    return fail(format!("write: errno {}", e));
                }
            }
        }
    }
    drop(conn);
    let got = sink.join().unwrap_or(0);
    if got != size * times {
        return fail(format!("sink got {} bytes, expected {}", got, size * times));
    }
    0
}

/// Child mode `copy MODE SRC DST`: zcopy (zcopy_copy), std
/// (std::fs::copy) or rw (128 KiB read/write loop).
pub fn child_copy(args: &[String]) -> i32 {
    let mode = args[0].as_str();
    let src = PathBuf::from(&args[1]);
    let dst = PathBuf::from(&args[2]);
    let size = std::fs::metadata(&src).map(|m| m.len()).unwrap_or(0);
    let moved: u64 = match mode {
        "std" => match std::fs::copy(&src, &dst) {
            Ok(n) => n,
            Err(e) => return fail(format!("std::fs::copy: {}", e)),
        },
        _ => {
            let s = File::open(&src).expect("open src");
            let d = File::create(&dst).expect("create dst");
            if mode == "zcopy" {
                let r = crate::abi::copy(d.as_raw_fd(), s.as_raw_fd(), crate::abi::ALL);
                if !(r.handled && r.error == 0) {
                    return fail(format!("zcopy_copy: {:?}", r));
                }
                eprintln!("method {}", r.method);
                r.written as u64
            } else {
                let mut buf = vec![0u8; 128 * 1024];
                let mut total = 0u64;
                loop {
                    // SAFETY: buf is valid.
                    let n = unsafe {
                        libc::read(
                            s.as_raw_fd(),
                            buf.as_mut_ptr() as *mut libc::c_void,
                            buf.len(),
                        )
                    };
                    if n < 0 {
                        return fail(format!("read: errno {}", errno()));
                    }
                    if n == 0 {
                        break;
                    }
                    if let Err(e) = write_full(d.as_raw_fd(), &buf[..n as usize]) {
                        return fail(format!("write: errno {}", e));
                    }
                    total += n as u64;
                }
                total
            }
        }
    };
    if moved != size {
        return fail(format!("copied {} of {} bytes", moved, size));
    }
    0
}

pub struct Tools {
    pub exe: PathBuf,
    pub go_sendfile: Option<PathBuf>,
    pub go_filecopy: Option<PathBuf>,
}

/// Runs each variant once per round, A B C A B C ...; returns (name, walls,
/// cpus). A failed run is recorded in the notes and counts as NaN.
pub fn interleave(
    variants: &mut [(String, Command)],
    rounds: usize,
    label: &str,
    sec: &mut Section,
) -> Vec<(String, Vec<f64>, Vec<f64>)> {
    interleave_with(variants, rounds, label, sec, |_| {})
}

pub fn interleave_with(
    variants: &mut [(String, Command)],
    rounds: usize,
    label: &str,
    sec: &mut Section,
    mut after: impl FnMut(usize),
) -> Vec<(String, Vec<f64>, Vec<f64>)> {
    let mut res: Vec<(String, Vec<f64>, Vec<f64>)> = variants
        .iter()
        .map(|(n, _)| (n.clone(), Vec::new(), Vec::new()))
        .collect();
    for r in 0..rounds {
        eprintln!("bench: {}, round {}/{}", label, r + 1, rounds);
        for (i, (name, cmd)) in variants.iter_mut().enumerate() {
            match run_measured(cmd, Duration::from_secs(300)) {
                Ok(m) => {
                    res[i].1.push(m.wall);
                    res[i].2.push(m.cpu);
                }
                Err(e) => {
                    sec.notes
                        .push(format!("{} ({}): run failed: {}", name, label, e));
                    res[i].1.push(f64::NAN);
                    res[i].2.push(f64::NAN);
                }
            }
            after(i);
        }
    }
    res
}

/// System calls per GiB of the named variants, from one run under strace.
pub fn strace_table(
    sec: &mut Section,
    variants: &[(String, Command)],
    gib: f64,
    names: &[&str],
    mut after: impl FnMut(usize),
) {
    if which("strace").is_none() {
        return;
    }
    let mut t = Table::new(&[
        "variant (under strace -c -f)",
        "syscalls per GiB",
        "main calls per GiB",
    ]);
    for (i, (name, cmd)) in variants.iter().enumerate() {
        if !names.iter().any(|n| name.contains(n)) {
            continue;
        }
        let mut argv = vec![cmd.get_program().to_owned()];
        argv.extend(cmd.get_args().map(|a| a.to_owned()));
        match crate::strace::strace_argv(&argv, gib) {
            Ok((total, parts)) => t.row(vec![name.clone(), f(total, 1), parts]),
            Err(e) => sec.notes.push(format!("strace of {}: {}", name, e)),
        }
        after(i);
    }
    if !t.rows.is_empty() {
        let cap = format!("System calls ({})", sec.title);
        sec.tables.push((cap, t));
    }
}
