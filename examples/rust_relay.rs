//! A blocking TCP proxy: a thread per connection, each running
//! zcopy::relay (splice through pooled pipes for bulk data, half-close
//! passed on, an idle timeout).
//!
//!     cargo run --example rust_relay -- LISTEN_ADDR TARGET_ADDR [IDLE_SECS]
//!
//! Logs each connection's end on stderr with the bytes of each direction.
#![forbid(unsafe_code)]

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: rust_relay LISTEN_ADDR TARGET_ADDR [IDLE_SECS]");
        std::process::exit(2);
    }
    let idle = args.get(2).map_or(Ok(300), |s| s.parse()).unwrap_or(300);
    let listener = TcpListener::bind(&args[0])?;
    eprintln!("relay: listening on {}", listener.local_addr()?);
    let opts = zcopy::Options::default().idle_timeout(Duration::from_secs(idle));
    for client in listener.incoming() {
        let (client, target, opts) = (client?, args[1].clone(), opts.clone());
        std::thread::spawn(move || serve(client, &target, &opts));
    }
    Ok(())
}

fn serve(client: TcpStream, target: &str, opts: &zcopy::Options) {
    let peer = client.peer_addr().map_or("?".into(), |a| a.to_string());
    let upstream = match TcpStream::connect(target) {
        Ok(s) => s,
        Err(e) => return eprintln!("relay: {peer}: cannot reach {target}: {e}"),
    };
    match zcopy::relay(&client, &upstream, opts) {
        Ok(c) => eprintln!(
            "relay: closed {peer}: {} bytes to target, {} bytes to client (both ends done)",
            c.a_to_b, c.b_to_a
        ),
        Err(e) => eprintln!(
            "relay: closed {peer}: {} bytes to target, {} bytes to client ({e})",
            e.counts().a_to_b,
            e.counts().b_to_a
        ),
    }
}
