//! The tokio proxy of the zcopy::tokio benchmark (bench/tokio_bench.sh):
//! one program, the relay loop chosen on the command line, so that every
//! variant runs the same runtime, accept loop and connect.
//!
//!     tokio-proxy MODE LISTEN_ADDR TARGET_ADDR
//!
//! MODE: `tokio` (tokio::io::copy_bidirectional, its 8 KiB buffers),
//! `tokio64k` (tokio::io::copy_bidirectional_with_sizes, 64 KiB each way),
//! `zcopy` (zcopy::tokio::copy_bidirectional), `tokio-splice` (the
//! published crate tokio-splice 0.2.1, zero_copy_bidirectional),
//! `zcopy-std` (zcopy on the streams after `into_std`: only zcopy's own
//! registration of each fd is left in the reactor).

use tokio::net::{TcpListener, TcpStream};

async fn relay(mode: &str, mut c: TcpStream, mut u: TcpStream) -> std::io::Result<(u64, u64)> {
    match mode {
        "tokio" => tokio::io::copy_bidirectional(&mut c, &mut u).await,
        "tokio64k" => tokio::io::copy_bidirectional_with_sizes(&mut c, &mut u, 65536, 65536).await,
        "zcopy" => zcopy::tokio::copy_bidirectional(&mut c, &mut u).await,
        // The same with the streams taken out of the reactor first
        // (into_std), so that only zcopy's own registration gets events.
        "zcopy-std" => {
            let (mut c, mut u) = (c.into_std()?, u.into_std()?);
            zcopy::tokio::copy_bidirectional(&mut c, &mut u).await
        }
        "tokio-splice" => tokio_splice::zero_copy_bidirectional(&mut c, &mut u).await,
        m => panic!("unknown mode {m}"),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, listen, target] = args.as_slice() else {
        eprintln!(
            "usage: tokio-proxy tokio|tokio64k|zcopy|tokio-splice|zcopy-std LISTEN_ADDR TARGET_ADDR"
        );
        std::process::exit(2);
    };
    // TOKIO_PROXY_PIPE_SIZE: the zcopy pool's pipe size, for experiments
    // (bench/tokio_bulk_manycore.sh passes the environment through).
    if let Some(size) = std::env::var("TOKIO_PROXY_PIPE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        zcopy::pool::configure(0, size)?;
    }
    let listener = TcpListener::bind(listen).await?;
    eprintln!(
        "tokio-proxy {mode}: listening on {}",
        listener.local_addr()?
    );
    loop {
        let (client, _) = listener.accept().await?;
        let _ = client.set_nodelay(true);
        let (mode, target) = (mode.clone(), target.clone());
        tokio::spawn(async move {
            let Ok(up) = TcpStream::connect(&target).await else {
                return;
            };
            let _ = up.set_nodelay(true);
            let _ = relay(&mode, client, up).await;
        });
    }
}
