//! Child processes with time limits and CPU accounting, ports, /proc.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
