//! Scenarios 2 (file -> TCP) and 3 (file -> file). Every variant runs as its
//! own process so that wait4(2) gives its whole CPU time; zcopy's variants
//! are this binary in child mode.

use crate::util::*;
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
            let r = zcopy::ffi::zcopy_sendfile(dst, src, zcopy::ZCOPY_ALL);
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
                let r = zcopy::ffi::zcopy_copy(d.as_raw_fd(), s.as_raw_fd(), zcopy::ZCOPY_ALL);
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

/// Scenario 2: file -> TCP.
pub fn scenario_file_tcp(quick: bool, rounds: usize, dir: &Path, tools: &Tools) -> Section {
    let (size, times) = if quick {
        (256u64 << 20, 1u64)
    } else {
        (1u64 << 30, 2u64)
    };
    let mut sec = Section {
        key: "file-tcp".into(),
        title: "2. File -> TCP".into(),
        intro: format!(
            "A {} file from the page cache sent {} time(s) per run over one TCP connection on \
             127.0.0.1 to a sink thread in the same process that reads and discards 8 KiB at a \
             time (sendfile.go's structure, mirrored by zcopy's child). CPU = user+sys of the \
             whole process (sender and sink) from wait4, per GB sent; {} interleaved rounds, medians.",
            size_name(size),
            times,
            rounds
        ),
        ..Default::default()
    };
    let file = match data_file(dir, size) {
        Ok(p) => p,
        Err(e) => {
            sec.notes
                .push(format!("skipped: cannot make the data file: {}", e));
            return sec;
        }
    };
    let fs = file.to_string_lossy().to_string();
    let n = times.to_string();
    let mut variants: Vec<(String, Command)> = Vec::new();
    let mut c = Command::new(&tools.exe);
    c.args(["--child", "sendfile", "zcopy", &fs, &n]);
    variants.push(("zcopy_sendfile".into(), c));
    match &tools.go_sendfile {
        Some(go) => {
            let mut c = Command::new(go);
            c.args(["-n", &n, &fs]);
            variants.push(("Go io.Copy (sendfile)".into(), c));
            let mut c = Command::new(go);
            c.args(["-generic", "-n", &n, &fs]);
            variants.push(("Go io.Copy -generic (32 KiB read/write)".into(), c));
        }
        None => sec
            .notes
            .push("Go peers skipped: sendfile.go was not built (see setup)".into()),
    }
    let mut c = Command::new(&tools.exe);
    c.args(["--child", "sendfile", "rw", &fs, &n]);
    variants.push(("read/write 32 KiB (Rust)".into(), c));
    let gb = (size * times) as f64 / 1e9;
    let res = interleave(&mut variants, rounds, "file -> TCP", &mut sec);
    let mut t = Table::new(&[
        "variant",
        "wall s",
        "GB/s",
        "CPU s/GB",
        "CPU vs Go",
        "wall vs Go",
    ]);
    let go = res
        .iter()
        .position(|(n, _, _)| n.starts_with("Go io.Copy (sendfile)"));
    for (name, walls, cpus) in &res {
        let w = median(walls);
        let cpu = median(cpus) / gb;
        let (cr, wr) = match go {
            Some(g) => (cpu / (median(&res[g].2) / gb), w / median(&res[g].1)),
            None => (f64::NAN, f64::NAN),
        };
        t.row(vec![
            name.clone(),
            f(w, 3),
            f(gb / w, 2),
            f(cpu, 3),
            ratio(cr),
            ratio(wr),
        ]);
    }
    sec.tables.push((String::new(), t));
    strace_table(
        &mut sec,
        &variants,
        (size * times) as f64 / (1u64 << 30) as f64,
        &["zcopy_sendfile", "Go io.Copy (sendfile)"],
        |_| {},
    );
    if let Some(g) = go {
        let zc = median(&res[0].2) / median(&res[g].2);
        let zw = median(&res[0].1) / median(&res[g].1);
        if zc > 1.0 || zw > 1.05 {
            sec.notes.push(format!(
                "Diagnosis: zcopy_sendfile blocks in about one sendfile(2) per file (strace above) where Go's non-blocking socket makes short sendfile calls and epoll waits by the thousand per GiB; the remaining CPU is the sink's 8 KiB reads, the same in both. A difference of {} CPU / {} wall with the same kernel path is run-to-run noise (rounds: zcopy {}-{} s, Go {}-{} s wall).",
                ratio(zc),
                ratio(zw),
                f(range(&res[0].1).0, 3),
                f(range(&res[0].1).1, 3),
                f(range(&res[g].1).0, 3),
                f(range(&res[g].1).1, 3)
            ));
        }
        sec.targets.push(Target {
            what: "file -> TCP: CPU s/GB no worse than Go sendfile".into(),
            met: Some(zc <= 1.0),
            detail: format!("{} of Go's CPU", ratio(zc)),
        });
        sec.targets.push(Target {
            what: "file -> TCP: wall within 5% of Go sendfile".into(),
            met: Some(zw <= 1.05),
            detail: format!("{} of Go's wall time", ratio(zw)),
        });
    }
    sec
}

/// Runs each variant once per round, A B C A B C ...; returns (name, walls,
/// cpus). A failed run is recorded in the notes and counts as NaN.
fn interleave(
    variants: &mut [(String, Command)],
    rounds: usize,
    label: &str,
    sec: &mut Section,
) -> Vec<(String, Vec<f64>, Vec<f64>)> {
    interleave_with(variants, rounds, label, sec, |_| {})
}

fn interleave_with(
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

/// Scenario 3: file -> file, on the same filesystem and to tmpfs.
pub fn scenario_file_file(quick: bool, rounds: usize, dir: &Path, tools: &Tools) -> Section {
    let size = if quick { 256u64 << 20 } else { 1u64 << 30 };
    let mut sec = Section {
        key: "file-file".into(),
        title: "3. File -> file".into(),
        intro: format!(
            "Copy a {} file from the page cache to a new file: on the same filesystem as the \
             source ({}), and to tmpfs (/dev/shm, another filesystem). Each copy is its own \
             process; CPU = user+sys from wait4, per GB; the copy is deleted after each run. \
             {} interleaved rounds, medians.",
            size_name(size),
            dir.display(),
            rounds
        ),
        ..Default::default()
    };
    let file = match data_file(dir, size) {
        Ok(p) => p,
        Err(e) => {
            sec.notes
                .push(format!("skipped: cannot make the data file: {}", e));
            return sec;
        }
    };
    let shm = PathBuf::from("/dev/shm");
    let mut targets = vec![("same filesystem", dir.to_path_buf())];
    if shm.is_dir() {
        // Leave room: the copy lives in RAM while it exists.
        targets.push((
            "to tmpfs",
            shm.join(format!("zcopy-bench-{}", std::process::id())),
        ));
        let _ = std::fs::create_dir_all(&targets[1].1);
    } else {
        sec.notes
            .push("/dev/shm is missing: tmpfs case skipped".into());
    }
    let gb = size as f64 / 1e9;
    for (label, tdir) in &targets {
        let dst = tdir.join("copy-dst");
        let s = file.to_string_lossy().to_string();
        let d = dst.to_string_lossy().to_string();
        let mut variants: Vec<(String, Command)> = Vec::new();
        let mut c = Command::new(&tools.exe);
        c.args(["--child", "copy", "zcopy", &s, &d]);
        variants.push(("zcopy_copy".into(), c));
        if which("cp").is_some() {
            let mut c = Command::new("cp");
            c.args([&s, &d]);
            variants.push(("coreutils cp".into(), c));
        }
        if let Some(go) = &tools.go_filecopy {
            let mut c = Command::new(go);
            c.args([&s, &d]);
            variants.push(("Go io.Copy (copy_file_range)".into(), c));
            let mut c = Command::new(go);
            c.args(["-generic", &s, &d]);
            variants.push(("Go io.Copy -generic (32 KiB read/write)".into(), c));
        }
        let mut c = Command::new(&tools.exe);
        c.args(["--child", "copy", "std", &s, &d]);
        variants.push(("Rust std::fs::copy".into(), c));
        let mut c = Command::new(&tools.exe);
        c.args(["--child", "copy", "rw", &s, &d]);
        variants.push(("read/write 128 KiB (Rust)".into(), c));
        let dst2 = dst.clone();
        let res = interleave_with(
            &mut variants,
            rounds,
            &format!("file -> file {}", label),
            &mut sec,
            |_| {
                let _ = std::fs::remove_file(&dst2);
            },
        );
        let _ = std::fs::remove_file(&dst);
        let base = |n: &str| res.iter().position(|(x, _, _)| x.starts_with(n));
        let go = base("Go io.Copy (copy");
        let cp = base("coreutils cp");
        let mut t = Table::new(&[
            "variant",
            "wall s",
            "GB/s",
            "CPU s/GB",
            "CPU vs cp",
            "wall vs cp",
            "CPU vs Go",
            "wall vs Go",
        ]);
        let rel = |i: usize, b: Option<usize>, k: usize| -> f64 {
            match b {
                Some(b) => {
                    let (x, y) = if k == 1 {
                        (&res[i].1, &res[b].1)
                    } else {
                        (&res[i].2, &res[b].2)
                    };
                    median(x) / median(y)
                }
                None => f64::NAN,
            }
        };
        for (i, (name, walls, cpus)) in res.iter().enumerate() {
            let w = median(walls);
            t.row(vec![
                name.clone(),
                f(w, 3),
                f(gb / w, 2),
                f(median(cpus) / gb, 3),
                ratio(rel(i, cp, 2)),
                ratio(rel(i, cp, 1)),
                ratio(rel(i, go, 2)),
                ratio(rel(i, go, 1)),
            ]);
        }
        sec.tables
            .push((format!("{} ({})", label, tdir.display()), t));
        let dst3 = dst.clone();
        strace_table(
            &mut sec,
            &variants,
            size as f64 / (1u64 << 30) as f64,
            &["zcopy_copy", "coreutils cp", "Go io.Copy (copy"],
            |_| {
                let _ = std::fs::remove_file(&dst3);
            },
        );
        for (peer, b) in [("cp", cp), ("Go", go)] {
            if let Some(bi) = b {
                let c = rel(0, b, 2);
                let w = rel(0, b, 1);
                if c > 1.0 || w > 1.05 {
                    sec.notes.push(format!(
                        "Diagnosis ({} vs {}: CPU {}, wall {}): see the system call table: where both use the same call (copy_file_range on one filesystem) the kernel does the same work and the difference is run-to-run noise (wall per round: zcopy {}-{} s, {} {}-{} s).",
                        label,
                        peer,
                        ratio(c),
                        ratio(w),
                        f(range(&res[0].1).0, 3),
                        f(range(&res[0].1).1, 3),
                        peer,
                        f(range(&res[bi].1).0, 3),
                        f(range(&res[bi].1).1, 3)
                    ));
                }
                sec.targets.push(Target {
                    what: format!("file -> file {}: CPU s/GB no worse than {}", label, peer),
                    met: Some(c <= 1.0),
                    detail: format!("{} of {}'s CPU", ratio(c), peer),
                });
                sec.targets.push(Target {
                    what: format!("file -> file {}: wall within 5% of {}", label, peer),
                    met: Some(w <= 1.05),
                    detail: format!("{} of {}'s wall time", ratio(w), peer),
                });
            }
        }
    }
    if targets.len() > 1 {
        let _ = std::fs::remove_dir_all(&targets[1].1);
    }
    sec
}

/// System calls per GiB of the named variants, from one run under strace.
fn strace_table(
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
        match crate::small::strace_argv(&argv, gib) {
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
