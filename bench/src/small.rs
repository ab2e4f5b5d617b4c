//! Scenarios 4 and 5: many small splices between AF_UNIX socket pairs, and
//! the pool under contention from several threads.
//!
//! One transfer: write SIZE bytes into socket pair A, move them from A to
//! socket pair B with the variant under test, read SIZE bytes out of B.
//! The write and the read cost the same for every variant.

use crate::prelude::*;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// zcopy_splice: a pooled pipe (the thread's cached one).
    Pool,
    /// zcopy_splice, with zcopy_pool_drain() after every call, so each call
    /// makes a new pooled pipe.
    PoolDrained,
    /// Raw syscalls: pipe2 + F_SETPIPE_SZ + splice in + splice out + 2 close.
    Fresh,
    /// Raw splice in, splice out, through one pipe kept for the whole run
    /// (the floor: the least a splice-based transfer can cost).
    Raw,
    /// recv into a buffer, send it out: the copy a plain relay does.
    ReadWrite,
    /// zcopy::pool::acquire, the two splices through the pooled pipe,
    /// zcopy::pool::release: the pool without the SIGPIPE guard and the fd
    /// checks (F_GETFL, two fstat) a zcopy_splice call makes first.
    PoolBare,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Pool => "zcopy_splice (pool)",
            Variant::PoolDrained => "zcopy_splice, pool drained after each call",
            Variant::Fresh => "raw splice, fresh pipe per call",
            Variant::Raw => "raw splice, one pipe (floor)",
            Variant::ReadWrite => "read/write (user buffer)",
            Variant::PoolBare => "zcopy pool + raw splices (no guard, no fd checks)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Variant::Pool => "pool",
            Variant::PoolDrained => "drained",
            Variant::Fresh => "fresh",
            Variant::Raw => "raw",
            Variant::ReadWrite => "rw",
            Variant::PoolBare => "bare",
        }
    }

    pub fn from_key(k: &str) -> Option<Variant> {
        [
            Variant::Pool,
            Variant::PoolDrained,
            Variant::Fresh,
            Variant::Raw,
            Variant::ReadWrite,
            Variant::PoolBare,
        ]
        .into_iter()
        .find(|v| v.key() == k)
    }
}

/// Runs `count` transfers of `size` bytes; returns transfers per second.
pub fn run(v: Variant, size: usize, count: usize) -> f64 {
    let (a0, a1) = socketpair();
    let (b0, b1) = socketpair();
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
    let mut back = vec![0u8; size];
    let mut buf = vec![0u8; size];
    let kept = if v == Variant::Raw {
        Some(new_pipe())
    } else {
        None
    };
    // One checked transfer first (also warms the pool and the caches).
    let mut one = |check: bool| {
        write_full(a0, &data).expect("write A");
        match v {
            Variant::Pool | Variant::PoolDrained => {
                let r = crate::abi::splice(b0, a1, size as i64);
                assert!(
                    r.handled && r.error == 0 && r.written == size as i64,
                    "zcopy_splice: {:?}",
                    r
                );
                if v == Variant::PoolDrained {
                    crate::abi::pool_drain();
                }
            }
            Variant::Fresh => {
                let p = new_pipe();
                splice_through(p, a1, b0, size);
                // SAFETY: closing our pipe.
                unsafe {
                    libc::close(p.0);
                    libc::close(p.1);
                }
            }
            Variant::Raw => splice_through(kept.unwrap(), a1, b0, size),
            Variant::PoolBare => {
                let mut p = zcopy::pool::acquire().expect("pipe");
                let mut left = size;
                while left > 0 {
                    let n = p.fill_from(a1, left).expect("splice in");
                    while p.held() > 0 {
                        p.empty_into(b0, p.held()).expect("splice out");
                    }
                    left -= n;
                }
                zcopy::pool::release(p);
            }
            Variant::ReadWrite => {
                read_full(a1, &mut buf).expect("read A");
                write_full(b0, &buf).expect("write B");
            }
        }
        read_full(b1, &mut back).expect("read B");
        if check {
            assert_eq!(back, data, "{} corrupted the data", v.name());
        }
    };
    one(true);
    let t0 = Instant::now();
    for _ in 0..count {
        one(false);
    }
    let dt = t0.elapsed().as_secs_f64();
    one(true);
    // SAFETY: closing our fds.
    unsafe {
        for fd in [a0, a1, b0, b1] {
            libc::close(fd);
        }
        if let Some(p) = kept {
            libc::close(p.0);
            libc::close(p.1);
        }
    }
    count as f64 / dt
}

/// `threads` threads each run `count` transfers at once; returns the total
/// transfers per second (all threads' transfers over the wall time).
pub fn contended(v: Variant, threads: usize, size: usize, count: usize) -> f64 {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads + 1));
    let mut hs = Vec::new();
    for _ in 0..threads {
        let b = barrier.clone();
        hs.push(std::thread::spawn(move || {
            b.wait();
            run(v, size, count)
        }));
    }
    barrier.wait();
    let t0 = Instant::now();
    for h in hs {
        h.join().expect("contention thread panicked");
    }
    (threads * count) as f64 / t0.elapsed().as_secs_f64()
}

/// Child mode for strace: `small VARIANT SIZE COUNT`.
pub fn child(args: &[String]) -> i32 {
    let v = Variant::from_key(&args[0]).expect("variant");
    let size: usize = args[1].parse().expect("size");
    let count: usize = args[2].parse().expect("count");
    let rate = run(v, size, count);
    println!("{:.0}", rate);
    0
}
