//! What the CLI tests share: the built `zcopy` (cargo builds it for the
//! tests of this package and names it in CARGO_BIN_EXE_zcopy), bounded
//! runs (each child in its own process group, killed with it on timeout),
//! temporary directories removed on drop, and a relay in the background.
#![allow(dead_code)]

use std::io::{BufRead, Read};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Long enough for a loaded two-core machine; a hang still ends the test.
pub const T: Duration = Duration::from_secs(60);

pub fn zcopy_bin() -> &'static str {
    env!("CARGO_BIN_EXE_zcopy")
}

pub fn zcopy() -> Command {
    Command::new(zcopy_bin())
}

/// A directory under the system temp dir, removed with its contents on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!("zcopy-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes sure `tool` is on PATH, installing the Debian package `pkg` when
/// root can (as on a fresh CI machine); fails the test otherwise.
pub fn require(tool: &str, pkg: &str) {
    let have = || {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool} >/dev/null"))
            .status()
            .is_ok_and(|s| s.success())
    };
    if !have() {
        for args in [&["update", "-qq"][..], &["install", "-y", "-qq", pkg][..]] {
            let _ = Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    assert!(have(), "this test needs `{tool}` (apt-get install {pkg})");
}

fn kill_group(pid: u32) {
    // SAFETY: kill takes no pointers; the group is the child's own.
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
}

/// Runs `cmd` to its end, stdin empty, stdout and stderr captured; kills
/// its process group and panics after `timeout`.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    run_with(cmd.stdout(Stdio::piped()), None, timeout)
}

/// Like `run`, with `input` on stdin (written by a thread of its own).
pub fn run_input(cmd: &mut Command, input: Vec<u8>, timeout: Duration) -> Output {
    run_with(cmd.stdout(Stdio::piped()), Some(input), timeout)
}

/// Like `run`, keeping the stdout the caller gave (Output.stdout empty),
/// and the command must succeed.
pub fn run_own_stdout(cmd: &mut Command, timeout: Duration) -> Output {
    checked(cmd, |c| run_with(c, None, timeout))
}

/// Like `run`, and the command must succeed.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Output {
    checked(cmd, |c| run(c, timeout))
}

fn checked(cmd: &mut Command, f: impl FnOnce(&mut Command) -> Output) -> Output {
    let desc = format!("{cmd:?}");
    let o = f(cmd);
    assert!(
        o.status.success(),
        "{desc} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        stdout_str(&o),
        stderr_str(&o)
    );
    o
}

fn drain(r: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut v);
        }
        v
    })
}

fn run_with(cmd: &mut Command, input: Option<Vec<u8>>, timeout: Duration) -> Output {
    let desc = format!("{cmd:?}");
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = spawn(cmd.stdin(stdin).stderr(Stdio::piped()));
    if let (Some(data), Some(mut w)) = (input, child.stdin.take()) {
        // EPIPE when the child stops reading early is its business.
        std::thread::spawn(move || std::io::Write::write_all(&mut w, &data));
    }
    let (out, err) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            kill_group(child.id());
            let _ = child.wait();
            panic!("timed out after {timeout:?}: {desc}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    kill_group(child.id()); // nothing left in the group may hold the pipes
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Starts `cmd` in a process group of its own.
pub fn spawn(cmd: &mut Command) -> Child {
    let desc = format!("{cmd:?}");
    cmd.process_group(0);
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot run {desc}: {e}"))
}

/// Deterministic pseudo-random bytes (xorshift), different per seed.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

pub fn stdout_str(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr_str(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `zcopy relay ...` in the background, its stderr collected; killed with
/// its group on drop.
pub struct Relay {
    child: Child,
    /// Where it listens, from its first line ("listening on ADDR, ...").
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Relay {
    pub fn start(args: &[&str]) -> Relay {
        let mut child = spawn(
            zcopy()
                .arg("relay")
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        );
        let err = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut first = Some(tx);
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(tx) = first.take() {
                    let _ = tx.send(line.clone());
                }
                log2.lock().unwrap().push(line);
            }
        });
        let first = rx
            .recv_timeout(T)
            .unwrap_or_else(|_| panic!("relay {args:?} printed no first line"));
        let addr = first
            .split_once("listening on ")
            .and_then(|(_, rest)| rest.split(',').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no 'listening on ADDR,' in {first:?}"));
        Relay { child, addr, log }
    }

    /// 127.0.0.1:PORT of the listening port (also for 0.0.0.0).
    pub fn local(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.addr.port()))
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// How many threads the relay process has now.
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Waits up to 10 s for `n` lines containing `what` in the log.
    pub fn wait_log(&self, what: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.log_text().matches(what).count() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.log_text()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}
