//! Scenario 6: throughput of each mechanism as the transfer size grows,
//! 1 KiB to 1 GiB, and the SVG chart of it.

use crate::util::*;
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
    let check = |t: zcopy::Transfer| -> Result<(), String> {
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
                    Mech::SpliceSock => zcopy::ffi::zcopy_splice(
                        out.as_raw_fd(),
                        inp.as_ref().unwrap().as_raw_fd(),
                        size as i64,
                    ),
                    Mech::ReadWriteSock => zcopy::read_write::copy(
                        out.as_raw_fd(),
                        inp.as_ref().unwrap().as_raw_fd(),
                        size as i64,
                    ),
                    _ => {
                        // SAFETY: lseek on our file.
                        unsafe { libc::lseek(fh.as_raw_fd(), 0, libc::SEEK_SET) };
                        zcopy::ffi::zcopy_sendfile(out.as_raw_fd(), fh.as_raw_fd(), size as i64)
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
                    zcopy::ffi::zcopy_copy_file_range(dst.as_raw_fd(), src.as_raw_fd(), size as i64)
                } else {
                    zcopy::read_write::copy(dst.as_raw_fd(), src.as_raw_fd(), size as i64)
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

/// A hand-written SVG line chart: log2 size on x, GB/s on y.
pub fn svg(c: &Curve, title: &str) -> String {
    let (w, h) = (860.0, 480.0);
    let (l, r, t, b) = (70.0, 300.0, 50.0, 60.0);
    let pw = w - l - r;
    let ph = h - t - b;
    let ymax_raw = c
        .gbps
        .iter()
        .flat_map(|(_, v)| v.iter())
        .copied()
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max);
    let step = nice_step(ymax_raw / 5.0);
    let ymax = ((ymax_raw / step).ceil() * step).max(step);
    let x0 = (c.sizes[0] as f64).log2();
    let x1 = (*c.sizes.last().unwrap() as f64).log2();
    let px = |s: u64| l + ((s as f64).log2() - x0) / (x1 - x0).max(1.0) * pw;
    let py = |g: f64| t + ph - g / ymax * ph;
    let mut s = String::new();
    s += &format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    s += &format!("<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n");
    s += &format!(
        "<text x=\"{}\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">{}</text>\n",
        l + pw / 2.0,
        esc(title)
    );
    // grid and y labels
    let mut y = 0.0;
    while y <= ymax + 1e-9 {
        let yy = py(y);
        s += &format!(
            "<line x1=\"{l}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            l + pw,
            l - 6.0,
            yy + 4.0,
            trim_num(y)
        );
        y += step;
    }
    for &sz in &c.sizes {
        let xx = px(sz);
        s += &format!(
            "<line x1=\"{xx:.1}\" y1=\"{t}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>\n<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            t + ph,
            t + ph + 18.0,
            size_name(sz)
        );
    }
    s += &format!(
        "<rect x=\"{l}\" y=\"{t}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#333\"/>\n"
    );
    s += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">bytes per call (log scale)</text>\n",
        l + pw / 2.0,
        h - 18.0
    );
    s += &format!(
        "<text transform=\"translate(20,{:.1}) rotate(-90)\" text-anchor=\"middle\">GB/s</text>\n",
        t + ph / 2.0
    );
    for (i, (m, v)) in c.gbps.iter().enumerate() {
        let pts: Vec<String> = c
            .sizes
            .iter()
            .zip(v)
            .filter(|(_, g)| g.is_finite())
            .map(|(&sz, &g)| format!("{:.1},{:.1}", px(sz), py(g)))
            .collect();
        let dash = if m.dashed() {
            " stroke-dasharray=\"6,4\""
        } else {
            ""
        };
        s += &format!(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n",
            m.color(),
            dash,
            pts.join(" ")
        );
        for p in &pts {
            let (a, bb) = p.split_once(',').unwrap();
            s += &format!(
                "<circle cx=\"{a}\" cy=\"{bb}\" r=\"3\" fill=\"{}\"/>\n",
                m.color()
            );
        }
        let ly = t + 10.0 + i as f64 * 22.0;
        let lx = l + pw + 16.0;
        s += &format!(
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{:.1}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{}/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            lx + 26.0,
            m.color(),
            dash,
            lx + 32.0,
            ly + 4.0,
            esc(m.name())
        );
    }
    s += "</svg>\n";
    s
}

fn nice_step(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= x {
            return m * p;
        }
    }
    10.0 * p
}

fn trim_num(y: f64) -> String {
    let s = format!("{:.2}", y);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
