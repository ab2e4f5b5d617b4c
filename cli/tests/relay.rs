//! `zcopy relay`: echo traffic both ways with --stats, `:PORT` and host
//! names, a name that does not resolve, a busy port.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;
use support::*;

/// An echo server for `conns` connections; each half-closes after its
/// client's end of stream.
fn echo_server(conns: usize) -> (SocketAddr, JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        for _ in 0..conns {
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
    (addr, h)
}

/// Sends `data` through the relay, half-closes, and returns what came back.
fn echo_through(relay: SocketAddr, data: &[u8]) -> Vec<u8> {
    let s = TcpStream::connect(relay).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut w = s.try_clone().unwrap();
    let d2 = data.to_vec();
    let writer = std::thread::spawn(move || {
        w.write_all(&d2).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    (&s).read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    got
}

#[test]
fn relay_carries_echo_traffic_with_stats() {
    let (target, echo) = echo_server(2);
    let relay = Relay::start(&["--stats", "127.0.0.1:0", &target.to_string()]);
    for (i, n) in [4 * 1024 * 1024 + 7, 3].into_iter().enumerate() {
        let data = random_bytes(n, 200 + i as u64);
        let got = echo_through(relay.addr, &data);
        assert!(
            got == data,
            "connection {i}: {} bytes back of {}",
            got.len(),
            data.len()
        );
    }
    echo.join().unwrap();
    let log = relay.wait_log("bytes to target", 2);
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
fn relay_takes_port_only_and_host_names() {
    let (target, echo) = echo_server(2);
    let port = target.port().to_string();
    // ":0": every address; "localhost:PORT" (from /etc/hosts, no DNS).
    let relay = Relay::start(&[":0", &format!("localhost:{port}")]);
    assert!(relay.addr.ip().is_unspecified(), "{}", relay.addr);
    let data = random_bytes(100_000, 5);
    assert!(echo_through(relay.local(), &data) == data);
    drop(relay);
    // ":PORT" as the target: this machine.
    let relay = Relay::start(&["127.0.0.1:0", &format!(":{port}")]);
    assert!(echo_through(relay.addr, &data) == data);
    echo.join().unwrap();
}

#[test]
fn relay_reports_a_name_that_does_not_resolve() {
    // A label over 63 bytes: the resolver refuses the name itself, so the
    // lookup fails without a query leaving the machine.
    let host = format!("{}.invalid", "a".repeat(70));
    for args in [
        [format!("{host}:80"), "127.0.0.1:9".to_string()],
        ["127.0.0.1:0".to_string(), format!("{host}:80")],
    ] {
        let o = run(zcopy().arg("relay").args(&args), T);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr_str(&o));
        let err = stderr_str(&o);
        assert!(
            err.contains("cannot resolve") && err.contains(&host),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("Try 'zcopy --help'"),
            "not a usage error: {err}"
        );
    }
}

#[test]
fn relay_cannot_listen_on_a_busy_port() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let o = run(zcopy().args(["relay", &addr, "127.0.0.1:9"]), T);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr_str(&o).contains(&addr), "{}", stderr_str(&o));
}
