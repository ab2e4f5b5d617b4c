//! The C examples zcp and relay under examples/, compiled as C99 with
//! -Wall -Wextra -Werror -pedantic against include/zcopy.h and the built
//! libzcopy.so, and exercised for real: zcp copies files, relay carries
//! echo traffic (byte for byte, several MiB) and iperf3. The file server
//! has tests/fileserver.rs.
//!
//! Needs gcc, iperf3 and sha256sum (a missing one fails the test with
//! the command that installs it).

mod support;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const T: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- zcp

#[test]
fn zcp_copies_a_file_and_names_the_method() {
    let tmp = TempDir::new("zcp");
    let zcp = build_example("zcp", tmp.path());
    let data = random_bytes(5 * 1024 * 1024 + 333, 11);
    let src = tmp.path().join("src.bin");
    let dst = tmp.path().join("dst.bin");
    std::fs::write(&src, &data).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = run_ok(Command::new(&zcp).arg(&src).arg(&dst), T);
    copy_report_method(&stdout_str(&o), "zcp: ", data.len(), &src, &dst);
    assert!(std::fs::read(&dst).unwrap() == data, "the copy differs");
    assert_eq!(sha256_file(&dst), sha256_file(&src));
    let mode = std::fs::metadata(&dst).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
}

#[test]
fn zcp_copies_procfs_files_through_a_fallback() {
    // /proc files report size 0: copy_file_range moves nothing, and the
    // dispatch must fall back and still copy the content.
    let tmp = TempDir::new("zcp-proc");
    let zcp = build_example("zcp", tmp.path());
    let dst = tmp.path().join("version");
    let o = run_ok(Command::new(&zcp).arg("/proc/version").arg(&dst), T);
    let want = std::fs::read("/proc/version").unwrap();
    assert!(!want.is_empty());
    assert_eq!(std::fs::read(&dst).unwrap(), want, "{}", stdout_str(&o));
    assert!(stdout_str(&o).contains(&format!("copied {} bytes", want.len())));
}

#[test]
fn zcp_reports_errors_with_the_path_and_exit_codes() {
    let tmp = TempDir::new("zcp-err");
    let zcp = build_example("zcp", tmp.path());
    let missing = tmp.path().join("no-such-file");
    let o = run(
        Command::new(&zcp).arg(&missing).arg(tmp.path().join("x")),
        T,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains(&missing.display().to_string()),
        "{}",
        stderr_str(&o)
    );
    let o = run(Command::new(&zcp).arg("only-one"), T);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_str(&o).contains("usage"));
    // /dev/full: ENOSPC is reported, not hidden.
    let src = tmp.path().join("s");
    std::fs::write(&src, b"some bytes").unwrap();
    let o = run(Command::new(&zcp).arg(&src).arg("/dev/full"), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr_str(&o).contains("No space left on device"),
        "{}",
        stderr_str(&o)
    );
}

// ---------------------------------------------------------------- relay

fn start_relay(tmp: &std::path::Path, target: &str) -> Server {
    let relay = build_example("relay", tmp);
    Server::start(Command::new(relay).arg("127.0.0.1:0").arg(target), T)
}

#[test]
fn relay_echoes_several_mib_byte_for_byte_on_concurrent_connections() {
    let tmp = TempDir::new("relay-echo");
    let (echo, echo_thread) = echo_server(4);
    let relay = start_relay(tmp.path(), &echo.to_string());
    let log = check_echo_relay(&relay, echo_thread, 100);
    // Every connection is logged as closed, both ends done.
    assert_eq!(log.matches("(both ends done)").count(), 4, "{log}");
}

#[test]
fn engine_relay_echoes_concurrent_connections_and_reports_them_on_sigterm() {
    let tmp = TempDir::new("engine-relay");
    let (echo, echo_thread) = echo_server(9);
    let exe = build_example("engine_relay", tmp.path());
    let relay = Server::start(
        Command::new(exe)
            .arg("127.0.0.1:0")
            .arg(echo.to_string())
            .arg("2"),
        T,
    );
    let addr = relay.addr();
    let clients: Vec<_> = (0..8u64)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let data = random_bytes(3 * 1024 * 1024 + i as usize * 977, 200 + i);
                let got = roundtrip(&addr, data.clone()).map_err(|e| format!("client {i}: {e}"))?;
                if got != data {
                    return Err(format!("client {i}: {} bytes back, differ", got.len()));
                }
                Ok(data.len() as u64)
            })
        })
        .collect();
    let mut total = 0;
    for c in clients {
        match c.join().unwrap() {
            Ok(n) => total += n,
            Err(e) => panic!("{e}\nrelay log:\n{}", relay.log_text()),
        }
    }
    // A client that half-closes after 3 bytes still gets its echo.
    assert_eq!(roundtrip(&addr, b"foo".to_vec()).unwrap(), b"foo");
    echo_thread.join().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(relay.bg.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !relay.log_text().contains("stopping") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = relay.log_text();
    let want = format!(
        "0 active, 9 finished, {} bytes, 0 pipes in use",
        2 * (total + 3)
    );
    assert!(log.contains(&want), "want {want:?} in:\n{log}");
}

#[test]
fn relay_closes_the_client_when_the_target_refuses() {
    let tmp = TempDir::new("relay-refused");
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = dead.local_addr().unwrap().to_string();
    drop(dead); // nothing listens there now
    let relay = start_relay(tmp.path(), &target);
    let s = TcpStream::connect(relay.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 16];
    let n = (&s).read(&mut buf);
    assert!(matches!(n, Ok(0)) || n.is_err(), "expected EOF, got {n:?}");
}

/// The "bytes" value of `"key": { ... "bytes": N` in iperf3's JSON.
fn iperf_number(json: &str, key: &str, field: &str) -> f64 {
    let at = json
        .find(&format!("\"{key}\""))
        .unwrap_or_else(|| panic!("no {key} in iperf3 output"));
    let rest = &json[at..];
    let f = rest
        .find(&format!("\"{field}\""))
        .unwrap_or_else(|| panic!("no {field} in {key}"));
    let num: String = rest[f + field.len() + 2..]
        .trim_start_matches([':', ' ', '\t', '\n'])
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '+' || *c == '-')
        .collect();
    num.parse()
        .unwrap_or_else(|_| panic!("bad number {num:?} for {key}.{field}"))
}

#[test]
fn relay_carries_iperf3_both_ways() {
    require("iperf3", "apt-get install -y iperf3");
    let tmp = TempDir::new("relay-iperf");
    let port = free_port();
    let mut server = Bg::spawn(
        Command::new("iperf3")
            .args(["-s", "-B", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    wait_tcp_listen(port, T, &mut server);
    let relay = start_relay(tmp.path(), &format!("127.0.0.1:{port}"));
    for reverse in [false, true] {
        let mut cmd = Command::new("iperf3");
        cmd.args([
            "-c",
            "127.0.0.1",
            "-p",
            &relay.port.to_string(),
            "-t",
            "2",
            "-J",
        ]);
        if reverse {
            cmd.arg("-R");
        }
        let o = run_ok(&mut cmd, T);
        let json = stdout_str(&o);
        assert!(
            !json.contains("\"error\""),
            "iperf3 reported an error: {json}\nrelay log:\n{}",
            relay.log_text()
        );
        let bytes = iperf_number(&json, "sum_received", "bytes");
        let bps = iperf_number(&json, "sum_received", "bits_per_second");
        assert!(bytes > 0.0, "no bytes received through the relay: {json}");
        eprintln!(
            "iperf3 through relay.c{}: {:.0} MB received, {:.2} Gbit/s",
            if reverse { " (-R)" } else { "" },
            bytes / 1e6,
            bps / 1e9
        );
    }
}
