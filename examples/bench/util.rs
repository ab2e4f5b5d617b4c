//! Shared helpers for the benchmark: statistics, processes with time limits
//! and CPU accounting, ports, tool discovery and installation.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Median of a non-empty sample (NaN when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// min and max of a sample.
pub fn range(v: &[f64]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &x in v {
        if !x.is_nan() {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    (lo, hi)
}

/// Formats a number with `d` decimals, or "-" for NaN.
pub fn f(x: f64, d: usize) -> String {
    if x.is_nan() || x.is_infinite() {
        "-".into()
    } else {
        format!("{:.*}", d, x)
    }
}

/// Formats a ratio as "1.23x".
pub fn ratio(x: f64) -> String {
    if x.is_nan() || x.is_infinite() {
        "-".into()
    } else {
        format!("{:.2}x", x)
    }
}

/// Human size: 1 KiB, 64 KiB, 1 MiB, 1 GiB.
pub fn size_name(n: u64) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{} B", n)
    }
}

/// Outcome of a child process measured with wait4(2).
#[derive(Clone, Debug)]
pub struct Measured {
    /// Wall-clock seconds from spawn to exit.
    pub wall: f64,
    /// user + system CPU seconds of the child (all its threads).
    pub cpu: f64,
}

/// Runs a command to completion (stdout discarded), measuring wall time and
/// the child's CPU time from wait4's rusage. Kills it after `limit`.
pub fn run_measured(cmd: &mut Command, limit: Duration) -> Result<Measured, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawn {:?}: {}", cmd, e))?;
    let pid = child.id() as libc::pid_t;
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let watchdog = Watchdog::new(pid, limit);
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out-parameter.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = loop {
        // SAFETY: waiting on our own child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        break r;
    };
    let wall = t0.elapsed().as_secs_f64();
    let fired = watchdog.stop();
    let stderr = reader.join().unwrap_or_default();
    // The std handle must not wait again: the pid is reaped.
    std::mem::forget(child);
    if r < 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    if fired {
        return Err(format!("{:?} killed after {:?}", cmd, limit));
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!(
            "{:?} failed (status {:#x}): {}",
            cmd,
            status,
            stderr.trim()
        ));
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Measured {
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
    })
}

/// Kills a pid with SIGKILL unless stopped before the limit.
pub struct Watchdog {
    stop: std::sync::mpsc::Sender<()>,
    handle: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    pub fn new(pid: libc::pid_t, limit: Duration) -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            if rx.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                // SAFETY: signalling our own child, which is not reaped yet.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                true
            } else {
                false
            }
        });
        Watchdog { stop: tx, handle }
    }

    /// True when the watchdog killed the process.
    pub fn stop(self) -> bool {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or(false)
    }
}

/// Runs a command with a time limit and returns (success, stdout, stderr).
pub fn run_capture(cmd: &mut Command, limit: Duration) -> Result<(bool, String, String), String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("spawn {:?}: {}", cmd, e))?;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let ro = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let re = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let o = ro.join().unwrap_or_default();
    let e = re.join().unwrap_or_default();
    match status {
        Some(s) => Ok((s.success(), o, e)),
        None => Err(format!("{:?} killed after {:?}", cmd, limit)),
    }
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// Waits until something accepts on 127.0.0.1:port.
pub fn wait_port(port: u16, limit: Duration) -> bool {
    let addr: SocketAddr = format!("127.0.0.1:{}", port).parse().unwrap();
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// user+system CPU seconds of a live process (all threads), from /proc.
pub fn proc_cpu(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{}/stat", pid)).ok()?;
    let rest = s.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is the state (field 3 of stat): utime is field 14, stime 15.
    let ut: f64 = fields.get(11)?.parse().ok()?;
    let st: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf is always safe.
    let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((ut + st) / tck)
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    None
}

/// Makes sure `tool` is on PATH, installing Debian package `pkg` with
/// apt-get when it is missing and we are root. Waits and retries while
/// another process holds the dpkg lock. Returns a reason when it stays
/// missing.
pub fn ensure_tool(tool: &str, pkg: &str, log: &mut Vec<String>) -> Result<PathBuf, String> {
    if let Some(p) = which(tool) {
        return Ok(p);
    }
    // SAFETY: geteuid is always safe.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || which("apt-get").is_none() {
        return Err(format!(
            "{} not found and cannot install it (need root and apt-get): apt-get install -y {}",
            tool, pkg
        ));
    }
    eprintln!(
        "bench: {} is missing; installing Debian package {} with apt-get",
        tool, pkg
    );
    let mut updated = false;
    for attempt in 0..30 {
        let r = run_capture(
            Command::new("apt-get")
                .args(["install", "-y", "-q", pkg])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            Duration::from_secs(600),
        );
        match r {
            Ok((true, _, _)) => break,
            Ok((false, _, err)) if err.contains("lock") => {
                eprintln!(
                    "bench: apt-get is locked by another process; waiting 10 s (attempt {})",
                    attempt + 1
                );
                std::thread::sleep(Duration::from_secs(10));
            }
            Ok((false, _, err))
                if !updated && (err.contains("Unable to locate") || err.contains("404")) =>
            {
                updated = true;
                let _ = run_capture(
                    Command::new("apt-get").args(["update", "-q"]),
                    Duration::from_secs(600),
                );
            }
            Ok((false, _, err)) => {
                return Err(format!("apt-get install {} failed: {}", pkg, err.trim()))
            }
            Err(e) => return Err(e),
        }
    }
    match which(tool) {
        Some(p) => {
            log.push(format!("installed {} (Debian package {})", tool, pkg));
            Ok(p)
        }
        None => Err(format!(
            "{} still missing after apt-get install {}",
            tool, pkg
        )),
    }
}

/// The anchors directory: $ZCOPY_ANCHORS, ../shared/anchors next to the
/// repository (where CI has it), or /work/shared/anchors.
pub fn find_anchors(root: &Path) -> Option<PathBuf> {
    let mut c: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("ZCOPY_ANCHORS") {
        c.push(PathBuf::from(p));
    }
    c.push(root.join("../shared/anchors"));
    c.push(PathBuf::from("/work/shared/anchors"));
    c.into_iter().find(|p| p.join("relay.go").is_file())
}

/// One line of a command's stdout, for the report's environment table.
pub fn first_line(cmd: &str, args: &[&str]) -> String {
    match run_capture(Command::new(cmd).args(args), Duration::from_secs(10)) {
        Ok((_, o, e)) => {
            let s = if o.trim().is_empty() { e } else { o };
            s.lines().next().unwrap_or("").trim().to_string()
        }
        Err(_) => "-".into(),
    }
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// A Markdown table.
#[derive(Default, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        s += &format!("| {} |\n", self.headers.join(" | "));
        s += &format!(
            "|{}\n",
            self.headers
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { " --- |" } else { " ---: |" })
                .collect::<String>()
        );
        for r in &self.rows {
            s += &format!("| {} |\n", r.join(" | "));
        }
        s
    }
}

/// A performance target: met, missed, or not measured.
#[derive(Clone)]
pub struct Target {
    pub what: String,
    pub met: Option<bool>,
    pub detail: String,
}

/// One scenario's results for the report.
#[derive(Default, Clone)]
pub struct Section {
    pub key: String,
    pub title: String,
    pub intro: String,
    pub tables: Vec<(String, Table)>,
    pub targets: Vec<Target>,
    pub notes: Vec<String>,
}

/// Writes all of buf to fd (blocking).
pub fn write_full(fd: i32, mut buf: &[u8]) -> Result<(), i32> {
    while !buf.is_empty() {
        // SAFETY: buf is valid.
        let n = unsafe { libc::write(fd, buf.as_ptr() as *const libc::c_void, buf.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// Reads exactly buf.len() bytes from fd (blocking); Err on EOF or error.
pub fn read_full(fd: i32, buf: &mut [u8]) -> Result<(), i32> {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: the tail of buf is valid.
        let n = unsafe {
            libc::read(
                fd,
                buf[got..].as_mut_ptr() as *mut libc::c_void,
                buf.len() - got,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(libc::EPIPE);
        }
        got += n as usize;
    }
    Ok(())
}

/// errno of the last failed call.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
