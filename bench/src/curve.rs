//! Scenario 6: throughput of each mechanism as the transfer size grows,
//! 1 KiB to 1 GiB (svg.rs draws the chart).

use crate::prelude::*;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mech {
    SpliceSock,
    ReadWriteSock,
    SendFile,
    CopyFileRange,
    ReadWriteFile,
}

impl Mech {
    pub fn name(self) -> &'static str {
        match self {
            Mech::SpliceSock => "zcopy_splice, TCP -> TCP (pool)",
            Mech::ReadWriteSock => "read/write 256 KiB, TCP -> TCP",
            Mech::SendFile => "zcopy_sendfile, file -> TCP",
            Mech::CopyFileRange => "zcopy_copy_file_range, file -> file",
            Mech::ReadWriteFile => "read/write 256 KiB, file -> file",
        }
    }

    pub fn color(self) -> &'static str {
        match self {
            Mech::SpliceSock => "#1f77b4",
            Mech::ReadWriteSock => "#7fb3e0",
            Mech::SendFile => "#d62728",
            Mech::CopyFileRange => "#2ca02c",
            Mech::ReadWriteFile => "#98df8a",
        }
    }

    pub fn dashed(self) -> bool {
        matches!(self, Mech::ReadWriteSock | Mech::ReadWriteFile)
    }
}

pub const ALL: [Mech; 5] = [
    Mech::SpliceSock,
    Mech::ReadWriteSock,
    Mech::SendFile,
    Mech::CopyFileRange,
    Mech::ReadWriteFile,
];

/// A TCP connection whose far end is drained by a thread that reads and
/// discards until EOF; returns the write end and the thread.
fn sink() -> (TcpStream, std::thread::JoinHandle<u64>) {
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = ln.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut c, _) = ln.accept().unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0u64;
        while let Ok(k) = c.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += k as u64;
        }
        n
    });
    (TcpStream::connect(addr).unwrap(), h)
}

/// A TCP connection fed with `total` bytes by a thread; returns the read end.
fn source(total: u64) -> (TcpStream, std::thread::JoinHandle<()>) {
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = ln.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        let buf = vec![0x42u8; 1 << 20];
        let mut left = total;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            if c.write_all(&buf[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
    });
    let (s, _) = ln.accept().unwrap();
    (s, h)
}

/// Moves `reps` transfers of `size` bytes; returns GB/s (1e9 bytes).
pub fn measure(m: Mech, size: u64, reps: u64, data: &Path, dst_dir: &Path) -> Result<f64, String> {
    let total = size * reps;
    let check = |t: crate::abi::ZResult| -> Result<(), String> {
        if t.handled && t.error == 0 && t.written as u64 == size {
            Ok(())
        } else {
            Err(format!("{}: {:?}", m.name(), t))
        }
    };
    match m {
        Mech::SpliceSock | Mech::ReadWriteSock | Mech::SendFile => {
            let (out, sh) = sink();
            let (inp, feeder) = if m == Mech::SendFile {
                (None, None)
            } else {
                let (s, h) = source(total);
                (Some(s), Some(h))
            };
            let fh = File::open(data).map_err(|e| e.to_string())?;
            let t0 = Instant::now();
            for _ in 0..reps {
                let t = match m {
                    Mech::SpliceSock => crate::abi::splice(
                        out.as_raw_fd(),
                        inp.as_ref().unwrap().as_raw_fd(),
                        size as i64,
                    ),
                    Mech::ReadWriteSock => read_write(
                        out.as_raw_fd(),
                        inp.as_ref().unwrap().as_raw_fd(),
                        size as i64,
                    ),
                    _ => {
                        // SAFETY: lseek on our file.
                        unsafe { libc::lseek(fh.as_raw_fd(), 0, libc::SEEK_SET) };
                        crate::abi::sendfile(out.as_raw_fd(), fh.as_raw_fd(), size as i64)
                    }
                };
                check(t)?;
            }
            drop(out);
            let got = sh.join().map_err(|_| "sink panicked")?;
            let dt = t0.elapsed().as_secs_f64();
            if let Some(h) = feeder {
                let _ = h.join();
            }
            if got != total {
                return Err(format!("sink got {} of {}", got, total));
            }
            Ok(total as f64 / dt / 1e9)
        }
        Mech::CopyFileRange | Mech::ReadWriteFile => {
            let src = File::open(data).map_err(|e| e.to_string())?;
            let dpath = dst_dir.join("curve-dst");
            let dst = File::create(&dpath).map_err(|e| e.to_string())?;
            let t0 = Instant::now();
            for _ in 0..reps {
                // SAFETY: lseek on our files.
                unsafe {
                    libc::lseek(src.as_raw_fd(), 0, libc::SEEK_SET);
                    libc::lseek(dst.as_raw_fd(), 0, libc::SEEK_SET);
                }
                let t = if m == Mech::CopyFileRange {
                    crate::abi::copy_file_range(dst.as_raw_fd(), src.as_raw_fd(), size as i64)
                } else {
                    read_write(dst.as_raw_fd(), src.as_raw_fd(), size as i64)
                };
                check(t)?;
            }
            let dt = t0.elapsed().as_secs_f64();
            drop(dst);
            let _ = std::fs::remove_file(&dpath);
            Ok(total as f64 / dt / 1e9)
        }
    }
}

pub struct Curve {
    pub sizes: Vec<u64>,
    /// per mechanism, per size: median GB/s
    pub gbps: Vec<(Mech, Vec<f64>)>,
}

pub fn scenario_scaling(
    quick: bool,
    rounds: usize,
    data: &Path,
    dst_dir: &Path,
) -> (Section, Curve) {
    let max_shift = if quick { 26 } else { 30 }; // 64 MiB / 1 GiB
    let sizes: Vec<u64> = (10..=max_shift)
        .step_by(if quick { 4 } else { 2 })
        .map(|s| 1u64 << s)
        .collect();
    let budget: u64 = if quick { 64 << 20 } else { 512 << 20 };
    let max_reps: u64 = if quick { 4000 } else { 20000 };
    let mut sec = Section {
        key: "scaling".into(),
        title: "6. Scaling with size".into(),
        intro: format!(
            "One call per transfer of SIZE bytes, repeated min({} / SIZE, {}) times (at least once); \
             GB/s = 1e9 bytes per second. Sockets: TCP on 127.0.0.1, fed by a thread writing from \
             memory and drained by a thread reading 256 KiB at a time (the feeding thread bounds \
             the socket curves at large sizes). Files: the page-cached data file, copied to a file \
             in {}. {} interleaved rounds, medians. Chart: scaling.svg.",
            size_name(budget),
            max_reps,
            dst_dir.display(),
            rounds
        ),
        ..Default::default()
    };
    let mut res: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); sizes.len()]; ALL.len()];
    for r in 0..rounds {
        eprintln!("bench: scaling with size, round {}/{}", r + 1, rounds);
        for (si, &size) in sizes.iter().enumerate() {
            let reps = (budget / size).clamp(1, max_reps);
            for (mi, &m) in ALL.iter().enumerate() {
                match measure(m, size, reps, data, dst_dir) {
                    Ok(x) => res[mi][si].push(x),
                    Err(e) => {
                        sec.notes
                            .push(format!("{} at {}: {}", m.name(), size_name(size), e));
                        res[mi][si].push(f64::NAN);
                    }
                }
            }
        }
    }
    let gbps: Vec<(Mech, Vec<f64>)> = ALL
        .iter()
        .enumerate()
        .map(|(mi, &m)| (m, res[mi].iter().map(|v| median(v)).collect()))
        .collect();
    let mut headers = vec!["size".to_string()];
    headers.extend(ALL.iter().map(|m| m.name().to_string()));
    let mut t = Table {
        headers,
        rows: Vec::new(),
    };
    for (si, &s) in sizes.iter().enumerate() {
        let mut row = vec![size_name(s)];
        row.extend(gbps.iter().map(|(_, v)| f(v[si], 2)));
        t.row(row);
    }
    sec.tables.push(("GB/s (medians)".into(), t));
    (sec, Curve { sizes, gbps })
}
