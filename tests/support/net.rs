//! TCP peers for the relay tests: an echo server, and a client that sends,
//! half-closes and collects what comes back.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

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
