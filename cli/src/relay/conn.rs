//! One connection: connect to the target, relay both ways with
//! zcopy_relay's semantics (in this thread, or on the engine), report.

use super::addr::connect;
use crate::stats::{human, mb_per_s, print_pool};
use crate::{errstr, io_errstr};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Weak};
use std::time::Instant;
use zcopy::engine::{Engine, RelayResult};
use zcopy::options::Options;

/// What every connection of one `zcopy relay` shares.
pub struct Shared {
    pub targets: Vec<SocketAddr>,
    /// ZCOPY_OPT_CLOSE_BOTH and the idle timeout, as given.
    pub opts: Options,
    pub stats: bool,
    /// With --threads: the engine the relays go to.
    pub engine: Option<Arc<Engine>>,
}

/// Runs in a thread of its own: the connect may take up to its timeout.
/// Without an engine the relay then runs here too (zcopy_relay moves both
/// directions in the calling thread); with one, this thread ends once the
/// pair is handed over, and the engine's thread reports and closes.
pub fn serve(client: TcpStream, peer: SocketAddr, shared: &Shared) {
    let upstream = match connect(&shared.targets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "zcopy relay: {peer}: cannot connect to {}: {}",
                shared.targets[0],
                io_errstr(&e)
            );
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let target = upstream.peer_addr().unwrap_or(shared.targets[0]);
    let (c, u) = (client.as_raw_fd(), upstream.as_raw_fd());
    let end = Ending {
        peer,
        target,
        start: Instant::now(),
        stats: shared.stats,
        engine: shared.engine.as_ref().map(Arc::downgrade),
        client_fd: c,
    };
    let Some(engine) = &shared.engine else {
        let r = zcopy::relay::relay(c, u, Some(&shared.opts));
        end.report(&r);
        return; // both sockets close here
    };
    // The sockets live in the callback until the relay is over.
    let done = Box::new(move |r: RelayResult| {
        end.report(&r);
        drop((client, upstream));
    });
    if let Err(e) = engine.add(c, u, Some(&shared.opts), Some(done)) {
        // Not started: done is dropped unused, and the sockets with it.
        eprintln!(
            "zcopy relay: {peer}: the engine refused the connection: {}",
            errstr(e)
        );
    }
}

/// What the report at a connection's end needs.
struct Ending {
    peer: SocketAddr,
    target: SocketAddr,
    start: Instant,
    stats: bool,
    engine: Option<Weak<Engine>>,
    /// To tell which side an error_fd names.
    client_fd: i32,
}

impl Ending {
    fn report(&self, r: &RelayResult) {
        let (peer, target) = (self.peer, self.target);
        // EPIPE/ECONNRESET: a peer went away, the everyday end of a proxied
        // connection. ETIMEDOUT: the idle timeout the user asked for.
        let quiet = [0, libc::EPIPE, libc::ECONNRESET, libc::ETIMEDOUT];
        if !quiet.contains(&r.error) {
            let side = if r.error_fd < 0 {
                "relay"
            } else if r.error_fd == self.client_fd {
                "client"
            } else {
                "target"
            };
            eprintln!(
                "zcopy relay: {peer}: {} ({side}) after {} bytes to target, {} to client",
                errstr(r.error),
                r.a_to_b,
                r.b_to_a
            );
        }
        if !self.stats {
            return;
        }
        let took = self.start.elapsed();
        let why = match r.error {
            0 => "both ends closed".to_string(),
            libc::ETIMEDOUT => "idle timeout".to_string(),
            e => errstr(e),
        };
        // Two short lines rather than one of ~140 columns: who, then what.
        eprintln!("zcopy relay: {peer} -> {target} ended: {why}");
        eprintln!(
            "zcopy relay: {} bytes to target, {} bytes to client, {:.3} s, {:.1} MB/s",
            r.a_to_b,
            r.b_to_a,
            took.as_secs_f64(),
            mb_per_s((r.a_to_b + r.b_to_a).max(0) as u64, took)
        );
        if let Some(e) = self.engine.as_ref().and_then(Weak::upgrade) {
            let s = e.stats();
            eprintln!(
                "zcopy relay: engine: threads {}, active {}, finished {}, {}, pipes {}",
                e.threads(),
                s.active,
                s.finished,
                human(s.bytes),
                s.pipes_in_use
            );
        }
        print_pool("relay");
    }
}
