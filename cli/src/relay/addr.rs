//! Relay operands: "[HOST]:PORT" to addresses, and connecting to a target
//! that has several.

use crate::args::Fail;
use crate::io_errstr;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// "[HOST]:PORT" to addresses. HOST is a name (getaddrinfo), an IPv4
/// address or an IPv6 one in brackets; no HOST means every local address
/// when listening and this machine when connecting. A malformed operand is
/// a usage error; a name that does not resolve is a failure (exit 1).
pub fn addresses(what: &str, s: &str, listen: bool) -> Result<Vec<SocketAddr>, Fail> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(Fail::Usage(format!("{what} '{s}' is not [HOST]:PORT")));
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(Fail::Usage(format!(
            "{what} '{s}': '{port}' is not a port number"
        )));
    };
    if port == 0 && !listen {
        // Port 0 means "any free port" to bind; nothing listens there.
        return Err(Fail::Usage(format!(
            "{what} '{s}': port 0 is no port to connect to"
        )));
    }
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

/// Connects to the first of the target's addresses that answers.
pub fn connect(targets: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
    for a in targets {
        match TcpStream::connect_timeout(a, Duration::from_secs(10)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}
