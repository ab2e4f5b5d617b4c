//! What the zcopy::tokio tests share: TCP pairs, a proxied connection,
//! test data, writes through a shared reference.
#![allow(dead_code)]

use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

pub const T: Duration = Duration::from_secs(30);

pub async fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (c, s) = tokio::join!(TcpStream::connect(addr), l.accept());
    (c.unwrap(), s.unwrap().0)
}

/// client <-> (a relay b) <-> server: the relay task and the two ends.
pub async fn proxied(
    opts: zcopy::Options,
) -> (
    tokio::task::JoinHandle<std::io::Result<(u64, u64)>>,
    TcpStream,
    TcpStream,
) {
    let (client, mut a) = tcp_pair().await;
    let (mut b, server) = tcp_pair().await;
    let h =
        tokio::spawn(
            async move { zcopy::tokio::copy_bidirectional_with(&mut a, &mut b, &opts).await },
        );
    (h, client, server)
}

pub fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
        .collect()
}

pub trait WriteRef {
    async fn write_all_ref(&self, b: &[u8]);
}
impl WriteRef for TcpStream {
    async fn write_all_ref(&self, mut b: &[u8]) {
        while !b.is_empty() {
            self.writable().await.unwrap();
            match self.try_write(b) {
                Ok(n) => b = &b[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
    }
}
