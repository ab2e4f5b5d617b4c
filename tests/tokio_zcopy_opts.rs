//! zcopy::tokio's options (idle timeout, cancel, close-both, nowait
//! refused) and copy from a file on sendfile. Every wait is bounded.
#![cfg(feature = "tokio")]

#[path = "tokio_support/mod.rs"]
mod tokio_support;

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;
use tokio_support::*;

#[tokio::test]
async fn idle_timeout_cancel_and_close_both() {
    // Idle: nothing moves for 100 ms.
    let opts = zcopy::Options::default().idle_timeout(Duration::from_millis(100));
    let t0 = std::time::Instant::now();
    let (h, _c, _s) = proxied(opts).await;
    let e = timeout(T, h).await.unwrap().unwrap().unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    assert!(t0.elapsed() >= Duration::from_millis(100));

    // Bytes keep an idle clock from running out.
    let opts = zcopy::Options::default().idle_timeout(Duration::from_millis(300));
    let (h, client, mut server) = proxied(opts).await;
    for _ in 0..6 {
        client.write_all_ref(b"tick").await;
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!h.is_finished(), "timed out while bytes were moving");
    h.abort();

    // Cancel from another task.
    let c = zcopy::Canceller::new().unwrap();
    let (h, _c2, _s2) = proxied(zcopy::Options::default().cancel(&c)).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!h.is_finished());
    c.cancel().unwrap();
    let e = timeout(T, h)
        .await
        .expect("cancel ignored")
        .unwrap()
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ECANCELED));

    // Close-both: the client's EOF ends both directions.
    let (h, mut client, mut server) = proxied(zcopy::Options::default().close_both(true)).await;
    client.write_all(b"bye").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    timeout(T, server.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"bye");
    let counts = timeout(T, h)
        .await
        .expect("close-both waited")
        .unwrap()
        .unwrap();
    assert_eq!(counts, (3, 0));
    let mut rest = Vec::new();
    timeout(T, client.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(rest.is_empty());

    // NOWAIT makes no sense here.
    let (mut a, _x) = tcp_pair().await;
    let (mut b, _y) = tcp_pair().await;
    let o = zcopy::Options::default().nowait(true);
    let e = zcopy::tokio::copy_bidirectional_with(&mut a, &mut b, &o)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_sends_a_file_through_a_slow_reader() {
    let dir = std::env::temp_dir().join(format!("zcopy-tokio-copy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("src.bin");
    let want = pattern((20 << 20) + 4321, 7);
    std::fs::write(&path, &want).unwrap();
    let mut file = tokio::fs::File::open(&path).await.unwrap();
    let (mut sock, mut peer) = tcp_pair().await;
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            // A slow reader: the socket fills, copy must wait for room.
            tokio::time::sleep(Duration::from_micros(200)).await;
            match peer.read(&mut buf).await.unwrap() {
                0 => return got,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    let n = timeout(T, zcopy::tokio::copy(&mut file, &mut sock))
        .await
        .expect("copy hung")
        .unwrap();
    assert_eq!(n, want.len() as u64);
    drop(sock);
    let got = timeout(T, reader).await.unwrap().unwrap();
    assert!(got == want);
    // A socket is no file to send from: Unsupported, nothing taken.
    let (mut s1, _s2) = tcp_pair().await;
    let (mut s3, _s4) = tcp_pair().await;
    let e = zcopy::tokio::copy(&mut s1, &mut s3).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::Unsupported);
    std::fs::remove_dir_all(dir).unwrap();
}
