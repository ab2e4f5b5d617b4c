//! Helpers shared by tests/install.rs, tests/examples.rs and tests/cli.rs:
//! bounded child processes (each in its own process group, killed on
//! timeout or drop), temporary directories removed on drop, tool checks.
#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/ of the running test (target/debug/deps/x -> target/debug).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// A directory under the system temp dir (outside the repository), removed
/// with everything in it on drop.
pub struct TempDir(pub PathBuf);

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

/// Whether `tool` is on PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Makes sure a tool the test needs is on PATH: when it is missing and the
/// hint is an `apt-get install -y PKG...` line, installs it (as root, as on
/// a fresh CI machine); otherwise, or if that fails, fails the test (never
/// skips it).
pub fn require(tool: &str, install_hint: &str) {
    if !have(tool) {
        if let Some(pkgs) = install_hint.strip_prefix("apt-get install -y ") {
            apt_install(pkgs);
        }
    }
    assert!(
        have(tool),
        "this test needs `{tool}` on PATH (install it: {install_hint})"
    );
}

/// `apt-get install -y PKGS` (after one `apt-get update`), serialised
/// across the test threads of this process. Errors show in the assert that
/// follows.
fn apt_install(pkgs: &str) {
    static APT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut updated = APT.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !have("apt-get") {
        return;
    }
    let apt = |args: &[&str]| {
        let _ = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    if !*updated {
        apt(&["update", "-qq"]);
        *updated = true;
    }
    let mut args = vec!["install", "-y", "-qq"];
    args.extend(pkgs.split_whitespace());
    apt(&args);
}

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

/// sha256sum of a file, as hex.
pub fn sha256_file(p: &Path) -> String {
    require("sha256sum", "apt-get install -y coreutils");
    let o = run_ok(Command::new("sha256sum").arg(p), Duration::from_secs(60));
    String::from_utf8(o.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// sha256 of bytes (written to a temp file and hashed with sha256sum).
pub fn sha256_bytes(b: &[u8], dir: &Path) -> String {
    let p = dir.join(format!("hash-{}", std::process::id()));
    std::fs::write(&p, b).unwrap();
    let h = sha256_file(&p);
    let _ = std::fs::remove_file(&p);
    h
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
}

/// The directory holding the libzcopy.so that cargo built with this test.
pub fn built_lib_dir() -> PathBuf {
    let dir = profile_dir();
    if dir.join("libzcopy.so").exists() {
        return dir;
    }
    let deps = dir.join("deps");
    assert!(
        deps.join("libzcopy.so").exists(),
        "libzcopy.so not found in {} (cargo test builds it)",
        dir.display()
    );
    deps
}

/// A lib dir for linking C programs against the built library: libzcopy.so
/// and its soname link libzcopy.so.<major>, both pointing at the build's .so
/// (cargo does not make the soname link).
pub fn link_dir(tmp: &Path) -> PathBuf {
    let so = built_lib_dir().join("libzcopy.so");
    let lib = tmp.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    for name in [
        "libzcopy.so".to_string(),
        format!("libzcopy.so.{}", env!("CARGO_PKG_VERSION_MAJOR")),
    ] {
        let l = lib.join(name);
        let _ = std::fs::remove_file(&l);
        std::os::unix::fs::symlink(&so, &l).unwrap();
    }
    lib
}

/// Compiles examples/<name>.c as C99 with every warning an error against
/// include/zcopy.h and the built libzcopy.so; returns the executable.
pub fn build_example(name: &str, tmp: &Path) -> PathBuf {
    require("gcc", "apt-get install -y build-essential");
    let lib = link_dir(tmp);
    let exe = tmp.join(name);
    run_ok(
        Command::new("gcc")
            .args([
                "-std=c99",
                "-O2",
                "-g",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-I",
            ])
            .arg(repo().join("include"))
            .arg(repo().join("examples").join(format!("{name}.c")))
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(&lib)
            .args(["-lzcopy", "-lpthread"])
            .arg(format!("-Wl,-rpath,{}", lib.display())),
        Duration::from_secs(120),
    );
    exe
}
