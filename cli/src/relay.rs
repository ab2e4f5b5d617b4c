//! `zcopy relay [HOST]:PORT HOST:PORT`: a TCP proxy on zcopy_relay (both
//! directions in one thread per connection) or, with --threads, on the
//! relay engine (a few threads for every connection).

mod addr;
mod conn;

use crate::args::{Fail, Global, RelayArgs};
use crate::io_errstr;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use zcopy::engine::Engine;
use zcopy::options::Options;
use zcopy::ZCOPY_OPT_CLOSE_BOTH;

pub fn run(g: &Global, o: &RelayArgs) -> Result<(), Fail> {
    let [listen, target] = &o.addresses[..] else {
        return Err(Fail::Usage(format!(
            "expected [HOST]:PORT HOST:PORT, got {} argument(s)",
            o.addresses.len()
        )));
    };
    let listen_addrs = addr::addresses("listen address", listen, true)?;
    let targets = addr::addresses("target address", target, false)?;
    let mut opts = Options {
        idle_timeout_ms: o.idle_timeout.unwrap_or(0),
        ..Options::default()
    };
    if o.close_both {
        opts.flags |= ZCOPY_OPT_CLOSE_BOTH;
    }
    let engine = match o.threads.map(Engine::new) {
        None => None,
        Some(Ok(e)) => Some(Arc::new(e)),
        Some(Err(e)) => {
            eprintln!("zcopy relay: cannot start the engine: {}", crate::errstr(e));
            return Err(Fail::Error);
        }
    };
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
    let shared = Arc::new(conn::Shared {
        targets,
        opts,
        stats: g.stats,
        engine,
    });
    // Invariant: every accepted connection has a thread, or was reported
    // and closed.
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
        let s = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name(format!("relay {peer}"))
            .spawn(move || conn::serve(client, peer, &s));
        if let Err(e) = spawned {
            eprintln!("zcopy relay: cannot start a thread for {peer}: {e}");
        }
    }
}
