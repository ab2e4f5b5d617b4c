//! The `zcopy` command (the cli/ workspace member), run as a program:
//! cp keeps data and mode bits, cat writes to a file, a pipe, an O_APPEND
//! file and a socket, relay carries echo traffic, --stats / --progress /
//! --help work for each command, errors name the path, exit codes are 0, 1
//! and 2.
//!
//! The binary is built by `cargo build -p zcopy-cli` (run from here, so a
//! plain `cargo test` works; with `cargo test --workspace` it is already
//! built and the build is a no-op).

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(60);

fn zcopy_bin() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
        let profile = profile_dir();
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "zcopy-cli", "--manifest-path"])
            .arg(repo().join("Cargo.toml"));
        if profile.file_name().and_then(|n| n.to_str()) == Some("release") {
            cmd.arg("--release");
        }
        run_ok(&mut cmd, Duration::from_secs(600));
        let bin = profile.join("zcopy");
        assert!(bin.is_file(), "{} was not built", bin.display());
        bin
    })
}

fn zcopy() -> Command {
    Command::new(zcopy_bin())
}

// ---------------------------------------------------------------- usage

#[test]
fn help_version_and_usage_errors() {
    let o = run_ok(zcopy().arg("--help"), T);
    let out = stdout_str(&o);
    for word in ["cp", "cat", "relay", "--stats", "--progress"] {
        assert!(out.contains(word), "--help lacks {word}: {out}");
    }
    for cmd in ["cp", "cat", "relay"] {
        for flag in ["--help", "-h"] {
            let o = run_ok(zcopy().args([cmd, flag]), T);
            assert!(
                stdout_str(&o).starts_with(&format!("Usage: zcopy {cmd} ")),
                "{cmd} {flag}: {}",
                stdout_str(&o)
            );
        }
    }
    let o = run_ok(zcopy().arg("--version"), T);
    assert!(
        stdout_str(&o).contains(&format!("library {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        stdout_str(&o)
    );
    for args in [
        vec![],
        vec!["bogus"],
        vec!["cp"],
        vec!["cp", "a"],
        vec!["cp", "a", "b", "c"],
        vec!["cp", "--bogus", "a", "b"],
        vec!["cat"],
        vec!["relay", "127.0.0.1:0"],
        vec!["relay", "not-an-address", "127.0.0.1:1"],
    ] {
        let o = run(zcopy().args(&args), T);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr_str(&o));
        assert!(!stderr_str(&o).is_empty(), "{args:?}: no message");
        assert!(o.stdout.is_empty(), "{args:?}: usage errors go to stderr");
    }
}

// ---------------------------------------------------------------- cp

#[test]
fn cp_copies_bytes_and_mode_bits() {
    let tmp = TempDir::new("cli-cp");
    let data = random_bytes(7 * 1024 * 1024 + 5, 3);
    let src = tmp.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o751)).unwrap();

    let dst = tmp.path().join("dst.bin");
    let o = run_ok(zcopy().arg("cp").arg(&src).arg(&dst), T);
    assert!(
        o.stderr.is_empty() && o.stdout.is_empty(),
        "cp is quiet without --stats"
    );
    assert!(std::fs::read(&dst).unwrap() == data);
    assert_eq!(
        std::fs::metadata(&dst).unwrap().permissions().mode() & 0o7777,
        0o751
    );

    // An existing, longer DST with other mode bits: truncated, mode set.
    let old = tmp.path().join("old.bin");
    std::fs::write(&old, vec![b'x'; data.len() + 10_000]).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o600)).unwrap();
    run_ok(zcopy().arg("cp").arg(&src).arg(&old), T);
    assert!(std::fs::read(&old).unwrap() == data);
    assert_eq!(
        std::fs::metadata(&old).unwrap().permissions().mode() & 0o7777,
        0o751
    );

    // DST a directory: DST/<name>.
    let dir = tmp.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    run_ok(zcopy().arg("cp").arg(&src).arg(&dir), T);
    assert!(std::fs::read(dir.join("src.bin")).unwrap() == data);

    // An empty file.
    let empty = tmp.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    run_ok(
        zcopy().arg("cp").arg(&empty).arg(tmp.path().join("empty2")),
        T,
    );
    assert_eq!(std::fs::read(tmp.path().join("empty2")).unwrap().len(), 0);

    // A procfs file (size 0, content there).
    let v = tmp.path().join("version");
    run_ok(zcopy().arg("cp").arg("/proc/version").arg(&v), T);
    assert_eq!(
        std::fs::read(&v).unwrap(),
        std::fs::read("/proc/version").unwrap()
    );
}

#[test]
fn cp_stats_report_method_bytes_rate_and_pool() {
    let tmp = TempDir::new("cli-cp-stats");
    let data = random_bytes(3 * 1024 * 1024, 5);
    let src = tmp.path().join("a");
    std::fs::write(&src, &data).unwrap();
    let o = run_ok(
        zcopy()
            .args(["cp", "--stats"])
            .arg(&src)
            .arg(tmp.path().join("b")),
        T,
    );
    let err = stderr_str(&o);
    assert!(err.contains(&format!("{} bytes", data.len())), "{err}");
    assert!(err.contains("MB/s"), "{err}");
    assert!(
        [
            "method copy_file_range",
            "method sendfile",
            "method read_write"
        ]
        .iter()
        .any(|m| err.contains(m)),
        "{err}"
    );
    assert!(err.contains("pool: idle "), "{err}");
    assert!(err.contains(&src.display().to_string()), "{err}");
}

#[test]
fn cp_errors_name_the_path_and_exit_1() {
    let tmp = TempDir::new("cli-cp-err");
    let missing = tmp.path().join("missing");
    let o = run(zcopy().arg("cp").arg(&missing).arg(tmp.path().join("x")), T);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr_str(&o);
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("No such file"),
        "{err}"
    );

    let src = tmp.path().join("src");
    std::fs::write(&src, b"data").unwrap();
    let nodir = tmp.path().join("no/such/dir/out");
    let o = run(zcopy().arg("cp").arg(&src).arg(&nodir), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains(&nodir.display().to_string()),
        "{}",
        stderr_str(&o)
    );

    let o = run(zcopy().arg("cp").arg(&src).arg(&src), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_str(&o).contains("same file"), "{}", stderr_str(&o));
    assert_eq!(
        std::fs::read(&src).unwrap(),
        b"data",
        "cp onto itself must not truncate"
    );

    let o = run(
        zcopy().arg("cp").arg(tmp.path()).arg(tmp.path().join("y")),
        T,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains("is a directory"),
        "{}",
        stderr_str(&o)
    );

    let o = run(zcopy().arg("cp").arg(&src).arg("/dev/full"), T);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr_str(&o);
    assert!(
        err.contains("/dev/full") && err.contains("No space left"),
        "{err}"
    );
}

#[test]
fn progress_bar_only_on_a_terminal() {
    let tmp = TempDir::new("cli-progress");
    let data = random_bytes(40 * 1024 * 1024, 9);
    let src = tmp.path().join("big");
    std::fs::write(&src, &data).unwrap();
    // stderr a pipe: --progress draws nothing.
    let o = run_ok(
        zcopy()
            .args(["cp", "--progress"])
            .arg(&src)
            .arg(tmp.path().join("p1")),
        T,
    );
    assert!(
        o.stderr.is_empty(),
        "a bar on a non-terminal: {}",
        stderr_str(&o)
    );
    // stderr a terminal (script(1) gives the program a pty).
    require("script", "apt-get install -y bsdutils");
    let dst = tmp.path().join("p2");
    let line = format!(
        "{} cp --progress {} {}",
        zcopy_bin().display(),
        src.display(),
        dst.display()
    );
    let o = run_ok(Command::new("script").args(["-qec", &line, "/dev/null"]), T);
    let tty = stdout_str(&o);
    assert!(
        tty.contains('\r') && tty.contains("100%") && tty.contains("MiB"),
        "{tty:?}"
    );
    assert!(std::fs::read(&dst).unwrap() == data);
    // cat with --progress on a terminal, data to a file.
    let out = tmp.path().join("p3");
    let line = format!(
        "{} cat --progress {} > {}",
        zcopy_bin().display(),
        src.display(),
        out.display()
    );
    let o = run_ok(Command::new("script").args(["-qec", &line, "/dev/null"]), T);
    assert!(stdout_str(&o).contains("100%"), "{:?}", stdout_str(&o));
    assert!(std::fs::read(&out).unwrap() == data);
}

// ---------------------------------------------------------------- cat

fn cat_fixture(tmp: &std::path::Path) -> (Vec<PathBuf>, Vec<u8>) {
    let mut all = Vec::new();
    let mut paths = Vec::new();
    for (i, n) in [1_048_583usize, 13, 2 * 1024 * 1024].iter().enumerate() {
        let d = random_bytes(*n, 20 + i as u64);
        let p = tmp.join(format!("part{i}"));
        std::fs::write(&p, &d).unwrap();
        all.extend_from_slice(&d);
        paths.push(p);
    }
    (paths, all)
}

#[test]
fn cat_to_a_pipe_a_file_and_an_append_file() {
    let tmp = TempDir::new("cli-cat");
    let (paths, all) = cat_fixture(tmp.path());
    // stdout a pipe.
    let o = run_ok(zcopy().arg("cat").args(&paths), T);
    assert!(
        o.stdout == all,
        "pipe: {} bytes, want {}",
        o.stdout.len(),
        all.len()
    );
    // stdout a regular file.
    let out = tmp.path().join("out");
    let f = std::fs::File::create(&out).unwrap();
    run_own_stdout(zcopy().arg("cat").args(&paths).stdout(Stdio::from(f)), T);
    assert!(std::fs::read(&out).unwrap() == all);
    // stdout an O_APPEND file (>>).
    let app = tmp.path().join("append");
    std::fs::write(&app, b"HEAD").unwrap();
    let f = std::fs::OpenOptions::new().append(true).open(&app).unwrap();
    run_own_stdout(zcopy().arg("cat").args(&paths).stdout(Stdio::from(f)), T);
    let got = std::fs::read(&app).unwrap();
    assert!(got.starts_with(b"HEAD") && got[4..] == all[..]);
    // stdin as "-", between files.
    let stdin_data = random_bytes(300_000, 77);
    let mut child = zcopy()
        .arg("cat")
        .arg(&paths[1])
        .arg("-")
        .arg(&paths[1])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a watchdog kills the child if it is not done in time.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let pid = child.id() as i32;
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(T).is_err() {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut sin = child.stdin.take().unwrap();
    let d2 = stdin_data.clone();
    let w = std::thread::spawn(move || sin.write_all(&d2));
    let mut got = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut got).unwrap();
    w.join().unwrap().unwrap();
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    assert!(status.success(), "{status}");
    let small = std::fs::read(&paths[1]).unwrap();
    let want: Vec<u8> = [small.clone(), stdin_data, small].concat();
    assert!(got == want);
}

#[test]
fn cat_to_a_socket() {
    let tmp = TempDir::new("cli-cat-sock");
    let (paths, all) = cat_fixture(tmp.path());
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        peer.read_to_end(&mut v).map(|_| v)
    });
    let o = run_own_stdout(
        zcopy()
            .args(["cat", "--stats"])
            .args(&paths)
            .stdout(Stdio::from(std::os::fd::OwnedFd::from(out))),
        T,
    );
    let got = reader.join().unwrap().unwrap();
    assert!(
        got == all,
        "socket: {} bytes, want {}",
        got.len(),
        all.len()
    );
    let err = stderr_str(&o);
    // file -> socket is sendfile's case.
    assert!(err.contains("method sendfile"), "{err}");
    assert!(err.contains(&format!("total {} bytes", all.len())), "{err}");
}

#[test]
fn cat_reports_a_bad_file_and_goes_on() {
    let tmp = TempDir::new("cli-cat-err");
    let (paths, _) = cat_fixture(tmp.path());
    let missing = tmp.path().join("missing");
    let o = run(
        zcopy()
            .arg("cat")
            .arg(&paths[1])
            .arg(&missing)
            .arg(&paths[1]),
        T,
    );
    assert_eq!(o.status.code(), Some(1));
    let small = std::fs::read(&paths[1]).unwrap();
    assert_eq!(o.stdout, [small.clone(), small].concat());
    let err = stderr_str(&o);
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("No such file"),
        "{err}"
    );
    let o = run(zcopy().arg("cat").arg(tmp.path()), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains(&tmp.path().display().to_string()),
        "{}",
        stderr_str(&o)
    );
}

// ---------------------------------------------------------------- relay

#[test]
fn relay_carries_echo_traffic_with_stats() {
    // An echo server for two connections.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = l.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s.shutdown(Shutdown::Write);
            });
        }
    });
    let relay = Server::start(
        zcopy()
            .args(["relay", "--stats", "127.0.0.1:0"])
            .arg(target.to_string()),
        T,
    );
    for (i, n) in [4 * 1024 * 1024 + 7, 3].into_iter().enumerate() {
        let data = random_bytes(n, 200 + i as u64);
        let s = TcpStream::connect(relay.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut w = s.try_clone().unwrap();
        let d2 = data.clone();
        let writer = std::thread::spawn(move || {
            w.write_all(&d2).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::new();
        (&s).read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert!(
            got == data,
            "connection {i}: {} bytes back of {}",
            got.len(),
            data.len()
        );
    }
    echo.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while relay.log_text().matches("bytes to target").count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = relay.log_text();
    assert!(
        log.contains(&format!(
            "{} bytes to target (splice), {} bytes to client (splice)",
            4 * 1024 * 1024 + 7,
            4 * 1024 * 1024 + 7
        )),
        "{log}"
    );
    assert!(log.contains("pool: idle"), "{log}");
}

#[test]
fn relay_cannot_listen_on_a_busy_port() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let o = run(zcopy().args(["relay", &addr, "127.0.0.1:9"]), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_str(&o).contains(&addr), "{}", stderr_str(&o));
}
