//! `zcopy relay LISTEN TARGET`: a TCP proxy, one thread per direction.

use crate::args::{Fail, Opts};
use crate::progress::{mb_per_s, method, print_pool};
use crate::{errstr, io_errstr};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use zcopy::transfer::Transfer;
use zcopy::{ZCOPY_ALL, ZCOPY_METHOD_NONE};

pub const HELP: &str = "\
Usage: zcopy relay [--stats] [HOST]:PORT HOST:PORT

Accepts TCP connections on the first [HOST]:PORT (no HOST: every address;
port 0 picks a free one; the address is printed on stderr) and connects
each to the second HOST:PORT (no HOST: this machine). HOST is a name, an
IPv4 address or an IPv6 one in brackets; names are looked up once, at the
start, and a name that does not resolve is an error (exit 1). Each
direction is a thread moving bytes with splice through the library's pipe
pool; at end of stream the other side gets a half-close (shutdown of its
write side), and both sockets close when both directions are done. Runs
until killed.

  --stats      per connection bytes each way, duration, MB/s, methods and
               pool counters on stderr
  -h, --help   this help
";

/// "[HOST]:PORT" to addresses. HOST is a name (getaddrinfo), an IPv4
/// address or an IPv6 one in brackets; no HOST means every local address
/// when listening and this machine when connecting. A malformed operand is
/// a usage error; a name that does not resolve is a failure (exit 1).
fn addresses(what: &str, s: &str, listen: bool) -> Result<Vec<SocketAddr>, Fail> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(Fail::Usage(format!("{what} '{s}' is not [HOST]:PORT")));
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(Fail::Usage(format!(
            "{what} '{s}': '{port}' is not a port number"
        )));
    };
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(h) => h,
        None if host.is_empty() && listen => "0.0.0.0",
        None if host.is_empty() => "127.0.0.1",
        None => host,
    };
    let found: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            eprintln!(
                "zcopy relay: cannot resolve the {what} host '{host}': {}",
                io_errstr(&e)
            );
            return Err(Fail::Error);
        }
    };
    if found.is_empty() {
        eprintln!("zcopy relay: the {what} host '{host}' has no address");
        return Err(Fail::Error);
    }
    Ok(found)
}

pub fn run(o: &Opts) -> Result<(), Fail> {
    let [listen, target] = &o.args[..] else {
        return Err(Fail::Usage(format!(
            "expected [HOST]:PORT HOST:PORT, got {} argument(s)",
            o.args.len()
        )));
    };
    let listen_addrs = addresses("listen address", listen, true)?;
    let targets: Arc<[SocketAddr]> = addresses("target address", target, false)?.into();
    let listener = TcpListener::bind(&listen_addrs[..]).map_err(|e| {
        eprintln!("zcopy relay: cannot listen on {listen}: {}", io_errstr(&e));
        Fail::Error
    })?;
    let local = listener.local_addr().map_err(|_| Fail::Error)?;
    let shown: Vec<String> = targets.iter().map(|a| a.to_string()).collect();
    eprintln!(
        "zcopy relay: listening on {local}, forwarding to {}",
        shown.join(" or ")
    );
    let stats = o.stats;
    loop {
        let (client, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: report, breathe, go on.
                eprintln!("zcopy relay: accept on {local}: {}", io_errstr(&e));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let targets = Arc::clone(&targets);
        let spawned = std::thread::Builder::new()
            .name(format!("relay {peer}"))
            .spawn(move || serve(client, peer, &targets, stats));
        if let Err(e) = spawned {
            eprintln!("zcopy relay: cannot start a thread for {peer}: {e}");
        }
    }
}

/// Connects to the first of the target's addresses that answers.
fn connect(targets: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
    for a in targets {
        match TcpStream::connect_timeout(a, Duration::from_secs(10)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// One direction: src -> dst until EOF, then half-close dst. On an error
/// both sockets are shut down so that the other direction ends too.
fn one_way(dst: &TcpStream, src: &TcpStream) -> Transfer {
    let t = zcopy::dispatch::copy(dst.as_raw_fd(), src.as_raw_fd(), ZCOPY_ALL);
    if t.error == 0 {
        let _ = dst.shutdown(Shutdown::Write);
    } else {
        let _ = dst.shutdown(Shutdown::Both);
        let _ = src.shutdown(Shutdown::Both);
    }
    t
}

/// Starts a thread for the client -> target direction.
type Spawn = fn(Box<dyn FnOnce() -> Transfer + Send>) -> std::io::Result<JoinHandle<Transfer>>;

fn spawn_thread(f: Box<dyn FnOnce() -> Transfer + Send>) -> std::io::Result<JoinHandle<Transfer>> {
    std::thread::Builder::new().spawn(f)
}

/// Both directions of one connection: (to target, to client). The thread
/// for client -> target is started first, and when it cannot be, both
/// sockets are shut down at once: running target -> client alone would
/// carry one way only, for as long as the target talks.
fn carry(
    client: &Arc<TcpStream>,
    upstream: &Arc<TcpStream>,
    spawn: Spawn,
) -> std::io::Result<(Transfer, Transfer)> {
    let (c2, u2) = (Arc::clone(client), Arc::clone(upstream));
    let up = match spawn(Box::new(move || one_way(&u2, &c2))) {
        Ok(h) => h,
        Err(e) => {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
            return Err(e);
        }
    };
    let down = one_way(client, upstream);
    // A panic in the thread is a bug; count that direction as nothing moved.
    let up = up.join().unwrap_or(Transfer::done(ZCOPY_METHOD_NONE, 0, 0));
    Ok((up, down))
}

fn serve(client: TcpStream, peer: SocketAddr, targets: &[SocketAddr], stats: bool) {
    let upstream = match connect(targets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "zcopy relay: {peer}: cannot connect to {}: {}",
                targets[0],
                io_errstr(&e)
            );
            return;
        }
    };
    let target = upstream.peer_addr().unwrap_or(targets[0]);
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let start = Instant::now();
    let (client, upstream) = (Arc::new(client), Arc::new(upstream));
    let (up, down) = match carry(&client, &upstream, spawn_thread) {
        Ok(both) => both,
        Err(e) => {
            eprintln!("zcopy relay: {peer}: cannot start a thread: {e}");
            return;
        }
    };
    for (dir, t) in [("to target", &up), ("to client", &down)] {
        if t.error != 0 && t.error != libc::EPIPE {
            eprintln!(
                "zcopy relay: {peer}: {dir}: {} after {} bytes",
                errstr(t.error),
                t.written
            );
        }
    }
    if stats {
        let took = start.elapsed();
        eprintln!(
            "zcopy relay: {peer} <-> {target}: {} bytes to target ({}), {} bytes to client ({}), {:.3} s, {:.1} MB/s",
            up.written,
            method(up.method),
            down.written,
            method(down.method),
            took.as_secs_f64(),
            mb_per_s((up.written + down.written).max(0) as u64, took)
        );
        print_pool("relay");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn tcp_pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    /// A failed spawn of the client -> target thread ends the connection at
    /// once: both peers see end of stream, and carry returns the error. The
    /// target here never closes, so a carry that ran target -> client
    /// first would never return.
    #[test]
    fn failed_spawn_closes_both_sides_at_once() {
        let (mut client_peer, client) = tcp_pair();
        let (upstream, mut target_peer) = tcp_pair();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (c, u) = (Arc::new(client), Arc::new(upstream));
            let r = carry(&c, &u, |_| {
                Err(std::io::Error::from_raw_os_error(libc::EAGAIN)) // as pthread_create
            });
            let _ = tx.send(r.map(|_| ()).map_err(|e| e.raw_os_error()));
        });
        let r = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("carry did not return after a failed spawn");
        assert_eq!(r, Err(Some(libc::EAGAIN)));
        for peer in [&mut client_peer, &mut target_peer] {
            peer.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut b = [0u8; 1];
            assert_eq!(peer.read(&mut b).unwrap(), 0, "not closed");
        }
    }
}
