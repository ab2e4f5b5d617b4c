//! `zcopy relay`: echo traffic both ways with --stats (a thread per
//! connection and the engine), `:PORT` and host names, a name that does
//! not resolve, a busy port, --idle-timeout, --close-both, --threads.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;
use support::*;

/// A target on 127.0.0.1 that accepts `conns` connections (None: any
/// number) and serves each in a thread of its own; the handle ends after
/// the last accept.
fn target<F>(conns: Option<usize>, serve: F) -> (SocketAddr, JoinHandle<()>)
where
    F: Fn(TcpStream) + Send + Sync + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let serve = std::sync::Arc::new(serve);
    let h = std::thread::spawn(move || {
        for s in l.incoming().take(conns.unwrap_or(usize::MAX)) {
            let Ok(s) = s else { break };
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            let f = std::sync::Arc::clone(&serve);
            std::thread::spawn(move || f(s));
        }
    });
    (addr, h)
}

/// An echo server for `conns` connections; each half-closes after its
/// client's end of stream.
fn echo_server(conns: usize) -> (SocketAddr, JoinHandle<()>) {
    target(Some(conns), |mut s| {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 || s.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = s.shutdown(Shutdown::Write);
    })
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
    // A thread per connection (zcopy_relay), then the engine.
    for mode in [&[][..], &["--threads", "1"][..]] {
        let (target, echo) = echo_server(2);
        let target = target.to_string();
        let mut args = vec!["--stats", "127.0.0.1:0", &target];
        args.extend_from_slice(mode);
        let relay = Relay::start(&args);
        for (i, n) in [4 * 1024 * 1024 + 7, 3].into_iter().enumerate() {
            let data = random_bytes(n, 200 + i as u64);
            let got = echo_through(relay.addr, &data);
            assert!(
                got == data,
                "{mode:?} connection {i}: {} bytes back of {}",
                got.len(),
                data.len()
            );
        }
        echo.join().unwrap();
        let log = relay.wait_log("bytes to target", 2);
        let n = 4 * 1024 * 1024 + 7;
        assert!(
            log.contains(&format!("{n} bytes to target, {n} bytes to client")),
            "{mode:?}: {log}"
        );
        assert!(log.contains("ended: both ends closed"), "{mode:?}: {log}");
        assert!(log.contains("pool: idle"), "{mode:?}: {log}");
        for l in log.lines() {
            assert!(
                l.chars().count() < 100,
                "{mode:?}: {} columns: {l}",
                l.chars().count()
            );
        }
        if !mode.is_empty() {
            assert!(log.contains("engine: threads 1, active "), "{log}");
        }
    }
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

/// A target that accepts and then says nothing, keeping each socket open
/// until the test ends; `closed` counts the connections the relay closed.
struct SilentTarget {
    addr: SocketAddr,
    closed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

fn silent_target() -> SilentTarget {
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = std::sync::Arc::clone(&closed);
    let (addr, _) = target(None, move |mut s| {
        // Reads (and drops) whatever comes until the relay closes.
        let mut buf = [0u8; 4096];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    SilentTarget { addr, closed }
}

/// How long until `s` reads end of stream (or a reset), at most `limit`.
fn time_to_close(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let t0 = std::time::Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut b = [0u8; 16];
    match s.read(&mut b) {
        Ok(0) => Some(t0.elapsed()),
        Ok(n) => panic!("{n} unexpected bytes"),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(t0.elapsed()),
        Err(_) => None, // still open at the limit
    }
}

#[test]
fn idle_timeout_closes_a_silent_connection_only() {
    for mode in [&[][..], &["--threads", "2"][..]] {
        let target = silent_target();
        let t = target.addr.to_string();
        let mut args = vec!["--idle-timeout", "1", "127.0.0.1:0", &t];
        args.extend_from_slice(mode);
        let relay = Relay::start(&args);
        // A busy connection: a byte every 100 ms for 2.5 s outlives the
        // 1 s timeout, since every byte restarts the clock.
        let mut busy = TcpStream::connect(relay.addr).unwrap();
        let mut silent = TcpStream::connect(relay.addr).unwrap();
        let pinger = std::thread::spawn(move || {
            for _ in 0..25 {
                busy.write_all(b"x").unwrap();
                std::thread::sleep(Duration::from_millis(100));
            }
            busy
        });
        let took = time_to_close(&mut silent, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{mode:?}: the silent connection is still open after 20 s"));
        assert!(
            took >= Duration::from_millis(900),
            "{mode:?}: closed after {took:?}"
        );
        let mut busy = pinger.join().unwrap();
        assert_eq!(
            time_to_close(&mut busy, Duration::from_millis(200)),
            None,
            "{mode:?}: the busy connection was closed"
        );
        // ... and it too closes once it falls silent.
        assert!(
            time_to_close(&mut busy, Duration::from_secs(20)).is_some(),
            "{mode:?}"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while target.closed.load(std::sync::atomic::Ordering::SeqCst) < 2
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            target.closed.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "{mode:?}: the target side stays open"
        );
    }
    // Without the flag a silent connection stays.
    let target = silent_target();
    let relay = Relay::start(&["127.0.0.1:0", &target.addr.to_string()]);
    let mut silent = TcpStream::connect(relay.addr).unwrap();
    assert_eq!(
        time_to_close(&mut silent, Duration::from_millis(1500)),
        None
    );
}

/// A target that answers only after the request's end of stream, late.
fn late_answer_target(conns: usize) -> (SocketAddr, JoinHandle<()>) {
    target(Some(conns), |mut s| {
        let mut req = Vec::new();
        let _ = s.read_to_end(&mut req);
        std::thread::sleep(Duration::from_millis(300));
        let _ = s.write_all(b"late answer");
    })
}

#[test]
fn close_both_ends_at_the_first_end_of_stream() {
    for mode in [&[][..], &["--threads", "1"][..]] {
        for close_both in [false, true] {
            let (target, server) = late_answer_target(1);
            let t = target.to_string();
            let mut args = vec!["127.0.0.1:0", &t];
            args.extend_from_slice(mode);
            if close_both {
                args.push("--close-both");
            }
            let relay = Relay::start(&args);
            let mut s = TcpStream::connect(relay.addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            s.write_all(b"request").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            server.join().unwrap();
            let want: &[u8] = if close_both { b"" } else { b"late answer" };
            assert_eq!(got, want, "{mode:?} close_both {close_both}");
        }
    }
}

#[test]
fn threads_flag_runs_every_connection_on_the_engine() {
    let (target, echo) = echo_server(8);
    let relay = Relay::start(&["--threads", "2", "127.0.0.1:0", &target.to_string()]);
    // Eight connections open at once, each checked with a round trip.
    let mut conns = Vec::new();
    for i in 0..8u64 {
        let mut s = TcpStream::connect(relay.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let data = random_bytes(10_000 + i as usize, 300 + i);
        s.write_all(&data).unwrap();
        let mut back = vec![0u8; data.len()];
        s.read_exact(&mut back).unwrap();
        assert!(back == data, "connection {i}");
        conns.push(s);
    }
    // main + 2 engine threads (one spare); the connect threads are gone
    // once each connection is on the engine (a thread each makes 9 or more).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while relay.threads() > 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let n = relay.threads();
    assert!(n <= 4, "{n} threads in the relay with 8 connections");
    for s in &conns {
        s.shutdown(Shutdown::Write).unwrap();
    }
    for mut s in conns {
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
    echo.join().unwrap();
}
