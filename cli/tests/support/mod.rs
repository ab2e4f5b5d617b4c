//! What the CLI tests share: the built `zcopy` (cargo builds it for the
//! tests of this package and names it in CARGO_BIN_EXE_zcopy), stdin fed
//! to a run, and a relay in the background. Bounded runs, temporary
//! directories, test data and tool checks are the root tests' own
//! (tests/support), used here as they are.
#![allow(dead_code)]

#[path = "../../../tests/support/mod.rs"]
mod shared;

pub mod tree;

// Each test uses some of them; the rest are not "unused".
#[allow(unused_imports)]
pub use shared::files::{random_bytes, TempDir};
#[allow(unused_imports)]
pub use shared::process::{run, run_ok, run_own_stdout, stderr_str, stdout_str};
#[allow(unused_imports)]
pub use shared::tools::require;

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
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

fn kill_group(pid: u32) {
    // SAFETY: kill takes no pointers; the group is the child's own.
    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
}

/// Starts `cmd` in a process group of its own.
pub fn spawn(cmd: &mut Command) -> Child {
    let desc = format!("{cmd:?}");
    cmd.process_group(0);
    cmd.spawn()
        .unwrap_or_else(|e| panic!("cannot run {desc}: {e}"))
}

/// Runs `cmd` with `input` on its stdin (a pipe, written by a thread of
/// its own), capturing stdout and stderr; kills its process group and
/// panics after `timeout`.
pub fn run_input(cmd: &mut Command, input: Vec<u8>, timeout: Duration) -> Output {
    let desc = format!("{cmd:?}");
    let mut child = spawn(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut w = child.stdin.take().unwrap();
    // EPIPE when the child stops reading early is its business.
    std::thread::spawn(move || w.write_all(&input));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(timeout) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            kill_group(pid);
            panic!("timed out after {timeout:?}: {desc}");
        }
    }
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
