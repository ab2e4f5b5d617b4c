//! zcopy::tokio beyond tokio's own cases: large transfers both ways at
//! once, a side that resets, a peer that stops reading, TCP urgent data,
//! cancellation by drop, no CPU while waiting. Every wait is bounded.
//! (Options and copy: tokio_zcopy_opts.rs.)
#![cfg(feature = "tokio")]

#[path = "tokio_support/mod.rs"]
mod tokio_support;

use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;
use tokio_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_transfers_both_ways_at_once() {
    const N: usize = 48 << 20;
    let (h, client, server) = proxied(zcopy::Options::default()).await;
    let (cr, mut cw) = client.into_split();
    let (sr, mut sw) = server.into_split();
    let up = tokio::spawn(async move {
        cw.write_all(&pattern(N, 1)).await.unwrap();
        cw.shutdown().await.unwrap();
    });
    let down = tokio::spawn(async move {
        sw.write_all(&pattern(N, 2)).await.unwrap();
        sw.shutdown().await.unwrap();
    });
    let read_all = |mut r: tokio::net::tcp::OwnedReadHalf| async move {
        let mut v = Vec::new();
        r.read_to_end(&mut v).await.unwrap();
        v
    };
    let (got_s, got_c) = timeout(T, async { tokio::join!(read_all(sr), read_all(cr)) })
        .await
        .expect("transfer hung");
    assert!(got_s == pattern(N, 1), "client -> server bytes differ");
    assert!(got_c == pattern(N, 2), "server -> client bytes differ");
    up.await.unwrap();
    down.await.unwrap();
    let counts = timeout(T, h)
        .await
        .expect("relay did not end")
        .unwrap()
        .unwrap();
    assert_eq!(counts, (N as u64, N as u64));
}

#[tokio::test]
async fn a_reset_side_ends_the_relay_with_its_error() {
    let (h, client, mut server) = proxied(zcopy::Options::default()).await;
    client.write_all_ref(b"x").await;
    let mut one = [0u8; 1];
    server.read_exact(&mut one).await.unwrap();
    // SO_LINGER 0: close sends a reset.
    let lg = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a live linger struct of the size given.
    let r = unsafe {
        libc::setsockopt(
            client.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&lg as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0);
    drop(client);
    let r = timeout(T, h)
        .await
        .expect("a reset did not end the relay")
        .unwrap();
    let e = r.unwrap_err();
    assert!(
        matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_does_not_stop_the_other_direction() {
    let (h, mut client, mut server) = proxied(zcopy::Options::default()).await;
    // The server never reads: client -> server fills every buffer on the
    // way (the relay then holds bytes in a pipe, waiting for room).
    let stuffer = tokio::spawn(async move {
        let chunk = vec![9u8; 64 << 10];
        let mut sent = 0usize;
        loop {
            match timeout(Duration::from_millis(500), client.write(&chunk)).await {
                Ok(Ok(n)) => sent += n,
                Ok(Err(e)) => panic!("{e}"),
                Err(_) => return (client, sent),
            }
        }
    });
    let (mut client, sent) = timeout(T, stuffer).await.expect("stuffing hung").unwrap();
    assert!(sent > 0);
    // The other way still flows, 8 MiB of it.
    let want = pattern(8 << 20, 5);
    let w = want.clone();
    let writer = tokio::spawn(async move {
        server.write_all(&w).await.unwrap();
        server
    });
    let mut got = vec![0u8; want.len()];
    timeout(T, client.read_exact(&mut got))
        .await
        .expect("server -> client stalled")
        .unwrap();
    assert!(got == want);
    let mut server = writer.await.unwrap();
    // Now the server drains what was stuffed: nothing was lost.
    client.shutdown().await.unwrap();
    let mut drained = Vec::new();
    timeout(T, server.read_to_end(&mut drained))
        .await
        .expect("drain hung")
        .unwrap();
    assert_eq!(drained.len(), sent);
    assert!(drained.iter().all(|&b| b == 9));
    drop(server);
    let counts = timeout(T, h).await.unwrap().unwrap().unwrap();
    assert_eq!(counts, (sent as u64, want.len() as u64));
}

#[tokio::test]
async fn urgent_data_neither_ends_nor_spins_the_stream() {
    for bulk in [0usize, 2 << 20] {
        let (h, client, mut server) = proxied(zcopy::Options::default()).await;
        let mut want = pattern(bulk, 3);
        want.extend_from_slice(b"ab");
        client.write_all_ref(&want).await;
        // SAFETY: send(2) of one live byte on an open socket.
        let r = unsafe { libc::send(client.as_raw_fd(), b"U".as_ptr().cast(), 1, libc::MSG_OOB) };
        assert_eq!(r, 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        client.write_all_ref(b"cd").await;
        want.extend_from_slice(b"cd");
        let mut c = client;
        c.shutdown().await.unwrap();
        let mut got = Vec::new();
        timeout(T, server.read_to_end(&mut got))
            .await
            .expect("stalled at the urgent mark")
            .unwrap();
        // read(2) semantics without SO_OOBINLINE: the urgent byte is skipped.
        assert_eq!(got.len(), want.len(), "bulk {bulk}");
        assert!(got == want, "bulk {bulk}");
        drop(server);
        let _ = timeout(T, h).await.expect("relay did not end").unwrap();
    }
}

#[tokio::test]
async fn dropping_the_future_leaves_the_sockets_usable() {
    let (client, mut a) = tcp_pair().await;
    let (mut b, mut server) = tcp_pair().await;
    {
        let fut = zcopy::tokio::copy_bidirectional(&mut a, &mut b);
        tokio::pin!(fut);
        client.write_all_ref(b"before").await;
        let mut got = [0u8; 6];
        let r = tokio::select! {
            r = &mut fut => panic!("ended early: {r:?}"),
            r = server.read_exact(&mut got) => r,
        };
        r.unwrap();
        assert_eq!(&got, b"before");
        // The future is dropped here, mid-relay.
    }
    // Its registrations are gone; the streams work on their own again.
    client.write_all_ref(b"direct").await;
    let mut got = [0u8; 6];
    timeout(T, a.read_exact(&mut got)).await.unwrap().unwrap();
    assert_eq!(&got, b"direct");
    b.write_all(b"back").await.unwrap();
    let mut got = [0u8; 4];
    timeout(T, server.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&got, b"back");
}

#[tokio::test]
async fn an_aborted_relay_task_ends_at_once() {
    let (h, _client, _server) = proxied(zcopy::Options::default()).await;
    h.abort();
    let e = timeout(T, h).await.expect("abort hung").unwrap_err();
    assert!(e.is_cancelled());
}

/// CPU time of this thread so far (user + system): a current-thread
/// runtime runs the relay task here, and other tests' threads do not count.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills a live struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) }, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[tokio::test]
async fn a_waiting_relay_costs_no_cpu() {
    let (h, mut client, server) = proxied(zcopy::Options::default()).await;
    // Idle both ways.
    let c0 = cpu_time();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let idle = cpu_time() - c0;
    // Stuck: the server does not read, the relay holds bytes for it.
    let chunk = vec![1u8; 256 << 10];
    while let Ok(Ok(_)) = timeout(Duration::from_millis(300), client.write(&chunk)).await {}
    let c0 = cpu_time();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stuck = cpu_time() - c0;
    assert!(!h.is_finished());
    assert!(
        idle < Duration::from_millis(100),
        "idle relay used {idle:?} of CPU in 400 ms"
    );
    assert!(
        stuck < Duration::from_millis(100),
        "stuck relay used {stuck:?} of CPU in 400 ms"
    );
    drop(server);
    h.abort();
}
