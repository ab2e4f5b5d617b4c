//! Bounded child processes: each in its own process group, killed with
//! its group on timeout or drop; background servers and the ports they
//! listen on.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn kill_group(pid: u32) {
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}

/// Runs `cmd` to completion in its own process group, capturing stdout and
/// stderr; kills the whole group and panics when `timeout` runs out.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    run_inner(cmd.stdout(Stdio::piped()), timeout)
}

/// Like `run`, leaving stdout as the caller set it (Output.stdout empty).
pub fn run_own_stdout(cmd: &mut Command, timeout: Duration) -> Output {
    let desc = format!("{cmd:?}");
    let o = run_inner(cmd, timeout);
    assert!(
        o.status.success(),
        "{desc} failed ({}):\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn run_inner(cmd: &mut Command, timeout: Duration) -> Output {
    let desc = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {desc}: {e}"));
    let out = child.stdout.take();
    let mut err = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut out) = out {
            let _ = out.read_to_end(&mut v);
        }
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
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
    // Anything left in the group (it should be empty) must not hold the pipes.
    kill_group(child.id());
    Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

/// Like `run`, and panics unless the command exits 0.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Output {
    let desc = format!("{cmd:?}");
    let o = run(cmd, timeout);
    assert!(
        o.status.success(),
        "{desc} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A background process (a server) in its own process group, killed with
/// its group on drop.
pub struct Bg {
    pub child: Child,
}

impl Bg {
    pub fn spawn(cmd: &mut Command) -> Bg {
        let desc = format!("{cmd:?}");
        let child = cmd
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {desc}: {e}"));
        Bg { child }
    }
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// A free 127.0.0.1 port (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `addr`.
pub fn wait_listening(addr: SocketAddr, timeout: Duration, bg: &mut Bg) {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        assert!(bg.alive(), "the server for {addr} exited early");
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Waits until a TCP socket listens on 127.0.0.1:`port` (read from
/// /proc/net/tcp, so without connecting to it).
pub fn wait_tcp_listen(port: u16, timeout: Duration, bg: &mut Bg) {
    let want = format!("0100007F:{port:04X}");
    let want_any = format!("00000000:{port:04X}");
    let deadline = Instant::now() + timeout;
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let listening = table.lines().skip(1).any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && (f[1] == want || f[1] == want_any) && f[3] == "0A"
        });
        if listening {
            return;
        }
        assert!(bg.alive(), "the server for port {port} exited early");
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

pub fn stdout_str(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr_str(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A server started in the background whose stderr is collected; its
/// first stderr line must name the address it listens on ("127.0.0.1:PORT").
pub struct Server {
    pub bg: Bg,
    pub port: u16,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(cmd: &mut Command, timeout: Duration) -> Server {
        use std::io::BufRead;
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut bg = Bg::spawn(cmd);
        let err = bg.child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut first = Some(tx);
            for line in std::io::BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if let Some(tx) = first.take() {
                    let _ = tx.send(line.clone());
                }
                log2.lock().unwrap().push(line);
            }
        });
        let first = match rx.recv_timeout(timeout) {
            Ok(l) => l,
            Err(_) => panic!("the server printed no first line within {timeout:?}"),
        };
        let at = first
            .find("127.0.0.1:")
            .unwrap_or_else(|| panic!("no 127.0.0.1:PORT in {first:?}"));
        let digits: String = first[at + 10..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let port: u16 = digits
            .parse()
            .unwrap_or_else(|_| panic!("no port in {first:?}"));
        // The line is printed after listen(2): no probe connection needed
        // (one would reach the server's target, e.g. iperf3, as a stray).
        assert!(bg.alive(), "the server exited: {first}");
        Server { bg, port, log }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The log once `done(log)` holds, or as it is after `timeout`: the
    /// server's stderr is read by another thread, so the lines of the last
    /// requests may arrive a moment after their responses.
    pub fn log_when(&self, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log_text();
            if done(&log) || Instant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
