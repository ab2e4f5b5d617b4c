//! zcopy::tokio ends a step after a short read(2) from a TCP socket
//! instead of reading again until EAGAIN (src/tokio/short.rs), trusting
//! the reactor's next edge for bytes that come later. These cases fail
//! (a timeout, or bytes that differ) if that skip loses a byte or a
//! wake-up: small messages both ways, a short read with more data right
//! behind it, and urgent data queued behind a read that stopped at the
//! mark. Every wait is bounded.
#![cfg(feature = "tokio")]

#[path = "tokio_support/mod.rs"]
mod tokio_support;

use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_support::*;

/// A wait that only a lost wake-up would exceed.
const STALL: Duration = Duration::from_secs(10);

/// Message sizes: mostly small (copy takes), some past the 8 KiB copy
/// chunk (the direction turns to splicing and back).
fn size(i: usize) -> usize {
    match i % 7 {
        0 => 1,
        1 => 64,
        2 => 700,
        3 => 4096,
        4 => 9000,
        5 => 17,
        _ => 33_000,
    }
}

/// Sends `n` messages, each followed at once by the next, and checks the
/// peer's `n` messages (same sizes, its seed) as they come.
async fn talk(s: TcpStream, n: usize, mine: u8, theirs: u8) -> TcpStream {
    let (mut r, mut w) = s.into_split();
    let send = async move {
        for i in 0..n {
            w.write_all(&pattern(size(i), mine.wrapping_add(i as u8)))
                .await
                .unwrap();
            if i % 5 == 0 {
                tokio::task::yield_now().await;
            }
        }
        w
    };
    let recv = async move {
        for i in 0..n {
            let mut got = vec![0u8; size(i)];
            timeout(STALL, r.read_exact(&mut got))
                .await
                .unwrap_or_else(|_| panic!("message {i} (seed {theirs}) stalled"))
                .unwrap();
            assert!(
                got == pattern(size(i), theirs.wrapping_add(i as u8)),
                "message {i}"
            );
        }
        r
    };
    let (w, r) = tokio::join!(send, recv);
    r.reunite(w).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_messages_both_ways_at_once_arrive_whole() {
    const N: usize = 3000;
    let (h, client, server) = proxied(zcopy::Options::default()).await;
    let c = tokio::spawn(talk(client, N, 10, 20));
    let s = tokio::spawn(talk(server, N, 20, 10));
    let (mut c, s) = (c.await.unwrap(), s.await.unwrap());
    c.shutdown().await.unwrap();
    drop(s);
    let counts = timeout(T, h).await.expect("relay did not end").unwrap();
    let total: u64 = (0..N).map(|i| size(i) as u64).sum();
    let counts = counts.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counts, (total, total));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_pong_never_waits_for_a_byte_that_already_came() {
    // Each message is answered before the next is sent: if the relay
    // missed a message's bytes (or stopped after a full read), nothing
    // else would come to wake it.
    let (h, mut client, mut server) = proxied_nodelay().await;
    for i in 0..2000usize {
        let n = size(i);
        let msg = pattern(n, i as u8);
        client.write_all(&msg).await.unwrap();
        let mut got = vec![0u8; n];
        timeout(STALL, server.read_exact(&mut got))
            .await
            .unwrap_or_else(|_| panic!("request {i} stalled"))
            .unwrap();
        assert!(got == msg);
        server.write_all(&got[..n.min(100)]).await.unwrap();
        let mut back = vec![0u8; n.min(100)];
        timeout(STALL, client.read_exact(&mut back))
            .await
            .unwrap_or_else(|_| panic!("reply {i} stalled"))
            .unwrap();
        assert!(back == msg[..n.min(100)]);
    }
    drop((client, server));
    timeout(T, h)
        .await
        .expect("relay did not end")
        .unwrap()
        .ok();
}

/// `proxied`, with TCP_NODELAY on all four sockets: a message the relay
/// writes in two parts (an 8 KiB copy, then the rest) must not wait for a
/// delayed ACK (40 ms) under Nagle's rule.
async fn proxied_nodelay() -> (
    tokio::task::JoinHandle<std::io::Result<(u64, u64)>>,
    TcpStream,
    TcpStream,
) {
    let (client, mut a) = tcp_pair().await;
    let (mut b, server) = tcp_pair().await;
    for s in [&client, &a, &b, &server] {
        s.set_nodelay(true).unwrap();
    }
    let h = tokio::spawn(async move { zcopy::tokio::copy_bidirectional(&mut a, &mut b).await });
    (h, client, server)
}

/// Two write(2)s back to back on the raw socket, no await between: the
/// relay often reads the first alone (short) while the second arrives.
fn write_twice(s: &TcpStream, one: &[u8], two: &[u8]) {
    for part in [one, two] {
        // SAFETY: a live buffer on an open socket.
        let n = unsafe { libc::send(s.as_raw_fd(), part.as_ptr().cast(), part.len(), 0) };
        assert_eq!(n, part.len() as isize);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_read_with_more_data_right_behind_it_loses_nothing() {
    let (h, client, mut server) = proxied(zcopy::Options::default()).await;
    for i in 0..3000usize {
        let (one, two) = (pattern(1 + i % 300, 1), pattern(1 + i % 41, 2));
        write_twice(&client, &one, &two);
        let mut got = vec![0u8; one.len() + two.len()];
        timeout(STALL, server.read_exact(&mut got))
            .await
            .unwrap_or_else(|_| panic!("round {i}: the second write stalled"))
            .unwrap();
        assert!(got[..one.len()] == one[..] && got[one.len()..] == two[..]);
        // Now and then a pause, so that the next pair finds the relay asleep.
        if i % 3 == 0 {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    drop((client, server));
    timeout(T, h)
        .await
        .expect("relay did not end")
        .unwrap()
        .ok();
}

/// "ab", the urgent byte, "cd", sent by `c` back to back.
fn send_with_urgent(c: &TcpStream) {
    let fd = c.as_raw_fd();
    for (b, flags) in [(&b"ab"[..], 0), (b"U", libc::MSG_OOB), (b"cd", 0)] {
        // SAFETY: a live buffer on an open socket.
        let n = unsafe { libc::send(fd, b.as_ptr().cast(), b.len(), flags) };
        assert_eq!(n, b.len() as isize);
    }
}

#[tokio::test]
async fn bytes_queued_behind_an_urgent_mark_are_not_left_waiting() {
    // Queued before the relay starts: its first read stops short at the
    // mark with "cd" behind it, and the client then waits (no close, no
    // more data) for the server's answer.
    let (client, mut a) = tcp_pair().await;
    let (mut b, mut server) = tcp_pair().await;
    send_with_urgent(&client);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let h = tokio::spawn(async move { zcopy::tokio::copy_bidirectional(&mut a, &mut b).await });
    let mut got = [0u8; 4];
    timeout(STALL, server.read_exact(&mut got))
        .await
        .expect("bytes after the urgent mark were left in the socket")
        .unwrap();
    // read(2) without SO_OOBINLINE: the urgent byte is skipped.
    assert_eq!(&got, b"abcd");
    // The same with the relay running, many times.
    for i in 0..200 {
        send_with_urgent(&client);
        timeout(STALL, server.read_exact(&mut got))
            .await
            .unwrap_or_else(|_| panic!("round {i}: stalled at the urgent mark"))
            .unwrap();
        assert_eq!(&got, b"abcd", "round {i}");
    }
    drop((client, server));
    timeout(T, h)
        .await
        .expect("relay did not end")
        .unwrap()
        .ok();
}
