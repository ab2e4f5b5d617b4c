//! A tokio TCP proxy on zcopy::tokio::copy_bidirectional: tokio's own
//! proxy recipe, with bulk data spliced instead of copied.
//!
//!     cargo run --features tokio --example tokio_proxy -- LISTEN_ADDR TARGET_ADDR
#![forbid(unsafe_code)]

// (Without the feature it only says so: no [[example]] table with
// required-features, which the Python sdist's copy of Cargo.toml, carrying
// no examples/, could not parse.)
#[cfg(not(feature = "tokio"))]
fn main() {
    eprintln!(
        "tokio_proxy needs zcopy's tokio feature: cargo run --features tokio --example tokio_proxy"
    );
    std::process::exit(2);
}

#[cfg(feature = "tokio")]
#[tokio::main]
async fn main() -> std::io::Result<()> {
    use tokio::net::{TcpListener, TcpStream};
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, target] = args.as_slice() else {
        eprintln!("usage: tokio_proxy LISTEN_ADDR TARGET_ADDR");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(listen).await?;
    eprintln!("relay: listening on {}", listener.local_addr()?);
    loop {
        let (mut client, peer) = listener.accept().await?;
        let target = target.clone();
        tokio::spawn(async move {
            let mut upstream = match TcpStream::connect(&target).await {
                Ok(s) => s,
                Err(e) => return eprintln!("relay: {peer}: cannot reach {target}: {e}"),
            };
            match zcopy::tokio::copy_bidirectional(&mut client, &mut upstream).await {
                Ok((up, down)) => {
                    eprintln!("relay: closed {peer}: {up} bytes to target, {down} bytes to client")
                }
                Err(e) => eprintln!("relay: closed {peer}: {e}"),
            }
        });
    }
}
