//! TCP peers for the relay tests: an echo server, a client that sends,
//! half-closes and collects what comes back, and the check every example
//! relay (C, Node.js, Go) must pass.

use super::files::random_bytes;
use super::process::Server;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Socket timeouts that bound every peer (a relay that stalls fails the
/// test instead of hanging it).
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// An echo server for `conns` connections: echoes each until EOF, then
/// half-closes. Bounded by socket timeouts.
pub fn echo_server(conns: usize) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let mut hs = Vec::new();
        for _ in 0..conns {
            let Ok((mut s, _)) = l.accept() else { return };
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            hs.push(std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = s.shutdown(Shutdown::Write);
            }));
        }
        for h in hs {
            let _ = h.join();
        }
    });
    (addr, h)
}

/// Sends `data` through `addr`, half-closes, and returns what came back.
pub fn roundtrip(addr: &str, data: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut w = s.try_clone()?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for chunk in data.chunks(100_000) {
            w.write_all(chunk)?;
        }
        w.shutdown(Shutdown::Write)
    });
    let mut got = Vec::new();
    let r = (&s).read_to_end(&mut got);
    let w = writer.join().unwrap();
    r?;
    w.map_err(|e| std::io::Error::new(e.kind(), format!("writer: {e}")))?;
    Ok(got)
}

/// Sends 3 x 6 MiB at once and then "foo" through `relay`, which forwards
/// to the echo server `echo_thread` serves (4 connections): every byte must
/// come back, the relay must pass each half-close on instead of hanging
/// (Go's splice proxy test), and it must log each connection as closed with
/// the bytes of each direction. Returns the relay's log, for the caller's
/// own checks of how it says it carried them. `seed` varies the data.
pub fn check_echo_relay(
    relay: &Server,
    echo_thread: std::thread::JoinHandle<()>,
    seed: u64,
) -> String {
    let addr = relay.addr();
    let started = Instant::now();
    let clients: Vec<_> = (0..3u64)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let data = random_bytes(6 * 1024 * 1024 + i as usize * 4099, seed + i);
                let got = roundtrip(&addr, data.clone()).map_err(|e| format!("client {i}: {e}"))?;
                if got.len() != data.len() {
                    return Err(format!(
                        "client {i}: {} bytes back, sent {}",
                        got.len(),
                        data.len()
                    ));
                }
                if got != data {
                    return Err(format!("client {i}: the bytes differ"));
                }
                Ok(())
            })
        })
        .collect();
    for c in clients {
        if let Err(e) = c.join().unwrap() {
            panic!("{e}\nrelay log:\n{}", relay.log_text());
        }
    }
    let got = roundtrip(&addr, b"foo".to_vec()).unwrap();
    assert_eq!(got, b"foo", "relay log:\n{}", relay.log_text());
    eprintln!(
        "relay echo: 3 x 6 MiB and \"foo\" in {:?}",
        started.elapsed()
    );
    echo_thread.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while relay.log_text().matches("relay: closed").count() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = relay.log_text();
    assert_eq!(log.matches("relay: closed").count(), 4, "{log}");
    assert!(
        log.contains("6291456 bytes to target") && log.contains("3 bytes to client"),
        "{log}"
    );
    log
}
