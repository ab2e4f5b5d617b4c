//! Scenarios 4 and 5: many small splices between AF_UNIX socket pairs, and
//! the pool under contention from several threads.
//!
//! One transfer: write SIZE bytes into socket pair A, move them from A to
//! socket pair B with the variant under test, read SIZE bytes out of B.
//! The write and the read cost the same for every variant.

use crate::util::*;
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
    /// zcopy::pool::acquire, the two raw splices, zcopy::pool::release: the
    /// pool without the SIGPIPE guard, the F_GETFL and the direct-splice
    /// probe (what the proposed fixes would leave).
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
            Variant::PoolBare => "zcopy pool + raw splices (no guard, no probe, no fcntl)",
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

pub const PIPE_SIZE: i32 = 1 << 20;

fn socketpair() -> (i32, i32) {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0, "socketpair: errno {}", errno());
    (fds[0], fds[1])
}

fn new_pipe() -> (i32, i32) {
    let mut p = [0i32; 2];
    // SAFETY: p has room for two.
    let r = unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
    assert_eq!(r, 0, "pipe2: errno {}", errno());
    // SAFETY: plain fcntl on our pipe.
    unsafe { libc::fcntl(p[1], libc::F_SETPIPE_SZ, PIPE_SIZE) };
    (p[0], p[1])
}

fn raw_splice(from: i32, to: i32, len: usize) -> isize {
    // SAFETY: NULL offsets.
    unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_NONBLOCK,
        )
    }
}

/// socket -> pipe -> socket with raw syscalls (blocking sockets, so EAGAIN
/// cannot come from the sockets; the pipe never fills past SIZE).
fn through(p: (i32, i32), src: i32, dst: i32, size: usize) {
    let mut left = size;
    while left > 0 {
        let n = raw_splice(src, p.1, left);
        assert!(n > 0, "splice in: {} errno {}", n, errno());
        let mut m = n as usize;
        while m > 0 {
            let k = raw_splice(p.0, dst, m);
            assert!(k > 0, "splice out: {} errno {}", k, errno());
            m -= k as usize;
        }
        left -= n as usize;
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
                let r = zcopy::ffi::zcopy_splice(b0, a1, size as i64);
                assert!(
                    r.handled && r.error == 0 && r.written == size as i64,
                    "zcopy_splice: {:?}",
                    r
                );
                if v == Variant::PoolDrained {
                    zcopy::ffi::zcopy_pool_drain();
                }
            }
            Variant::Fresh => {
                let p = new_pipe();
                through(p, a1, b0, size);
                // SAFETY: closing our pipe.
                unsafe {
                    libc::close(p.0);
                    libc::close(p.1);
                }
            }
            Variant::Raw => through(kept.unwrap(), a1, b0, size),
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

/// Scenario 4.
pub fn scenario_small(quick: bool, rounds: usize, exe: &std::path::Path) -> Section {
    let count = if quick { 20_000 } else { 100_000 };
    let variants = [
        Variant::Pool,
        Variant::Fresh,
        Variant::Raw,
        Variant::PoolDrained,
        Variant::ReadWrite,
        Variant::PoolBare,
    ];
    let sizes = [4096usize, 65536];
    let mut sec = Section {
        key: "small".into(),
        title: "4. Small transfers".into(),
        intro: format!(
            "{} transfers per run over AF_UNIX socket pairs: write SIZE bytes into pair A, \
             move them A -> B with the variant, read them out of B (the write and the read are \
             the same for every variant). {} interleaved rounds; medians in transfers/s.",
            count, rounds
        ),
        ..Default::default()
    };
    let mut t = Table::new(&[
        "variant",
        "4 KiB /s",
        "vs raw floor",
        "64 KiB /s",
        "vs raw floor",
    ]);
    let mut res = vec![vec![Vec::new(); variants.len()]; sizes.len()];
    for r in 0..rounds {
        eprintln!("bench: small transfers, round {}/{}", r + 1, rounds);
        for (si, &size) in sizes.iter().enumerate() {
            for (vi, &v) in variants.iter().enumerate() {
                res[si][vi].push(run(v, size, count));
            }
        }
    }
    let med: Vec<Vec<f64>> = res
        .iter()
        .map(|per| per.iter().map(|x| median(x)).collect())
        .collect();
    for (vi, &v) in variants.iter().enumerate() {
        let mut row = vec![v.name().to_string()];
        for m in &med {
            row.push(f(m[vi], 0));
            row.push(ratio(m[vi] / m[2]));
        }
        t.row(row);
    }
    sec.tables.push((String::new(), t));
    for (si, &size) in sizes.iter().enumerate() {
        let pool = med[si][0];
        let fresh = med[si][1];
        let raw = med[si][2];
        sec.targets.push(Target {
            what: format!("{}: pool >= 1.5x fresh pipe", size_name(size as u64)),
            met: Some(pool >= 1.5 * fresh),
            detail: format!(
                "{} ({} vs {} /s)",
                ratio(pool / fresh),
                f(pool, 0),
                f(fresh, 0)
            ),
        });
        sec.targets.push(Target {
            what: format!("{}: pool within 15% of raw splice", size_name(size as u64)),
            met: Some(pool >= 0.85 * raw),
            detail: format!(
                "{} of raw ({} vs {} /s)",
                ratio(pool / raw),
                f(pool, 0),
                f(raw, 0)
            ),
        });
        // Time per transfer spent above the floor.
        sec.notes.push(format!(
            "{}: zcopy_splice costs {:.2} us per transfer more than the raw floor \
             ({:.2} us vs {:.2} us per whole transfer).",
            size_name(size as u64),
            1e6 / pool - 1e6 / raw,
            1e6 / pool,
            1e6 / raw
        ));
    }
    // What zcopy_splice does on top of the raw floor, each piece timed alone.
    let costs = overhead_parts(if quick { 100_000 } else { 400_000 });
    let per4k = 1e9 / med[0][0];
    let mut ot = Table::new(&[
        "piece of zcopy_splice (socket -> socket)",
        "ns per call",
        "share of a 4 KiB transfer",
    ]);
    let mut sum = 0.0;
    for (name, ns) in &costs {
        sum += ns;
        ot.row(vec![
            name.clone(),
            f(*ns, 0),
            format!("{:.1}%", 100.0 * ns / per4k),
        ]);
    }
    ot.row(vec![
        "sum of the pieces".into(),
        f(sum, 0),
        format!("{:.1}%", 100.0 * sum / per4k),
    ]);
    ot.row(vec![
        "measured gap to the raw floor (4 KiB)".into(),
        f(1e9 / med[0][0] - 1e9 / med[0][2], 0),
        format!(
            "{:.1}%",
            100.0 * (1e9 / med[0][0] - 1e9 / med[0][2]) / per4k
        ),
    ]);
    sec.tables.push(("Where the time above the floor goes (each piece timed alone in a loop; a 4 KiB transfer takes ".to_string() + &f(per4k, 0) + " ns with the pool)", ot));
    for (si, &size) in sizes.iter().enumerate() {
        let (pool, fresh, raw) = (med[si][0], med[si][1], med[si][2]);
        if pool < 0.85 * raw {
            sec.notes.push(format!(
                "Diagnosis ({} pool vs raw, {}): per call zcopy_splice makes 4 system calls the floor does not (strace above): the SIGPIPE guard's 2 rt_sigprocmask ({:.0} ns, {:.1}% of a transfer), fcntl(F_GETFL) for the O_APPEND check ({:.0} ns, {:.1}%) and the direct-splice probe that fails with EINVAL between two sockets ({:.0} ns, {:.1}%). Proposed fixes in src/: (1) sys.rs SigpipeGuard: skip blocking when SIGPIPE's disposition is SIG_IGN (Rust, Python and Go programs and most servers ignore it), checked with one sigaction(SIGPIPE, NULL, &old) or cached and re-checked every N calls, saving 1-2 syscalls; (2) splice.rs: remember per thread the last (dst, src) found to be non-pipes and go straight to the pool: a stale entry is harmless because a pipe also works through a pooled pipe (one extra splice), saving the probe; (3) only check O_APPEND when the probe/pump says EINVAL (rescue() already delivers the drained bytes), saving the fcntl. The pool with those three removed (row 'zcopy pool + raw splices') runs at {} of the floor; the rest of the gap beyond the pieces timed alone is the indirect cost of the extra kernel entries on this VM.",
                size_name(size as u64),
                ratio(pool / raw),
                costs[0].1,
                100.0 * costs[0].1 * pool / 1e9,
                costs[1].1,
                100.0 * costs[1].1 * pool / 1e9,
                costs[2].1,
                100.0 * costs[2].1 * pool / 1e9,
                ratio(med[si][5] / raw)
            ));
        }
        if pool < 1.5 * fresh {
            sec.notes.push(format!(
                "Diagnosis ({} pool vs fresh pipe, {}): the pool removes the whole cost of a fresh pipe (pipe2 + F_SETPIPE_SZ + 2 close = {:.2} us per transfer here), but at this size moving the bytes dominates: even the raw floor, with no pool code at all, is only {} of the fresh-pipe rate, so 1.5x cannot be reached by any pool; zcopy is at {} of that floor.",
                size_name(size as u64),
                ratio(pool / fresh),
                1e6 / fresh - 1e6 / raw,
                ratio(raw / fresh),
                ratio(pool / raw)
            ));
        }
    }
    // Syscalls per transfer, from strace -c of a short child run.
    if which("strace").is_some() {
        let mut st = Table::new(&[
            "variant (4 KiB)",
            "syscalls per transfer",
            "breakdown per transfer",
        ]);
        for v in [Variant::Pool, Variant::Raw, Variant::Fresh] {
            match strace_counts(exe, &["small", v.key(), "4096", "2000"], 2002.0) {
                Ok((total, parts)) => st.row(vec![v.name().into(), f(total, 2), parts]),
                Err(e) => sec
                    .notes
                    .push(format!("strace of {} failed: {}", v.name(), e)),
            }
        }
        sec.tables.push(("System calls (strace -c -f, 2,000 transfers of 4 KiB; the endpoints' write+read are 2 of them)".into(), st));
    } else {
        sec.notes
            .push("strace not installed: no system call counts (apt-get install -y strace)".into());
    }
    sec
}

/// Runs the bench binary in child mode under `strace -c -f` and returns the
/// syscalls per `per` unit, with the main ones listed.
pub fn strace_counts(
    exe: &std::path::Path,
    args: &[&str],
    per: f64,
) -> Result<(f64, String), String> {
    let mut argv: Vec<std::ffi::OsString> = vec![exe.as_os_str().to_owned(), "--child".into()];
    argv.extend(args.iter().map(std::ffi::OsString::from));
    strace_argv(&argv, per)
}

/// Runs a command under `strace -c -f`; syscalls per `per` units, and the
/// main ones.
pub fn strace_argv(argv: &[std::ffi::OsString], per: f64) -> Result<(f64, String), String> {
    let out = std::env::temp_dir().join(format!("zcopy-bench-strace-{}.txt", std::process::id()));
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-c", "-f", "-o"]).arg(&out).args(argv);
    let r = run_capture(&mut cmd, std::time::Duration::from_secs(120))?;
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    if !r.0 {
        return Err(r.2.trim().to_string());
    }
    parse_strace(
        &text,
        per,
        &[
            "execve", "mmap", "mprotect", "openat", "read", "write", "close",
        ],
    )
}

/// Parses strace -c output into (total per unit, "name N, ..." breakdown).
/// `startup` names are counted as they are (process startup noise is small
/// next to thousands of transfers).
pub fn parse_strace(text: &str, per: f64, _startup: &[&str]) -> Result<(f64, String), String> {
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut total = 0.0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 5 || cols[0].starts_with('-') || cols[0] == "%" {
            continue;
        }
        let name = cols[cols.len() - 1].to_string();
        // columns: % time, seconds, usecs/call, calls, [errors], syscall
        let calls: f64 = match cols[3].parse() {
            Ok(c) => c,
            Err(_) => continue,
        };
        if name == "total" {
            total = calls;
            continue;
        }
        rows.push((name, calls));
    }
    if total == 0.0 {
        return Err(format!(
            "no strace summary in: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    rows.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    let parts: Vec<String> = rows
        .iter()
        .filter(|(_, c)| c / per >= 0.05)
        .take(6)
        .map(|(n, c)| format!("{} {:.2}", n, c / per))
        .collect();
    Ok((total / per, parts.join(", ")))
}

/// Scenario 5.
pub fn scenario_contention(quick: bool, rounds: usize) -> Section {
    let count = if quick { 10_000 } else { 50_000 };
    let threads = [1usize, 2, 4, 8];
    let mut sec = Section {
        key: "contention".into(),
        title: "5. Pool under contention".into(),
        intro: format!(
            "T threads at once, each with its own socket pairs, each doing {} transfers of 4 KiB \
             (as in scenario 4). Total transfers/s over the wall time; {} interleaved rounds, \
             medians. The raw-splice floor (one private pipe per thread, no pool) shows what the \
             machine itself allows.",
            count, rounds
        ),
        ..Default::default()
    };
    let vs = [Variant::Pool, Variant::Raw];
    let mut res = vec![vec![Vec::new(); threads.len()]; vs.len()];
    for r in 0..rounds {
        eprintln!("bench: contention, round {}/{}", r + 1, rounds);
        for (ti, &t) in threads.iter().enumerate() {
            for (vi, &v) in vs.iter().enumerate() {
                res[vi][ti].push(contended(v, t, 4096, count));
            }
        }
    }
    let med: Vec<Vec<f64>> = res
        .iter()
        .map(|x| x.iter().map(|y| median(y)).collect())
        .collect();
    let mut t = Table::new(&[
        "threads",
        "zcopy_splice /s",
        "scaling vs 1 thread",
        "raw floor /s",
        "raw scaling",
        "zcopy vs raw",
    ]);
    for (ti, &th) in threads.iter().enumerate() {
        t.row(vec![
            th.to_string(),
            f(med[0][ti], 0),
            ratio(med[0][ti] / med[0][0]),
            f(med[1][ti], 0),
            ratio(med[1][ti] / med[1][0]),
            ratio(med[0][ti] / med[1][ti]),
        ]);
    }
    sec.tables.push((String::new(), t));
    // The pool alone (acquire + release, no syscall) with 1 and 2 threads:
    // a slowdown with 2 threads is cache-line traffic on shared state.
    let pairs = if quick { 200_000 } else { 1_000_000 };
    let mut pt = Table::new(&["threads", "pool acquire + release, ns per pair (median)"]);
    let mut per_t = Vec::new();
    for th in [1usize, 2] {
        let mut v = Vec::new();
        for _ in 0..rounds {
            v.push(pool_pairs(th, pairs));
        }
        per_t.push(median(&v));
        pt.row(vec![th.to_string(), f(median(&v), 1)]);
    }
    sec.tables.push((
        "The pool alone: zcopy::pool::acquire + release(empty) in a loop, each thread its own loop"
            .into(),
        pt,
    ));
    sec.notes.push(format!(
        "With 2 threads one acquire+release pair costs {:.2}x what it costs alone.",
        per_t[1] / per_t[0]
    ));
    let s2 = med[0][1] / med[0][0];
    sec.targets.push(Target {
        what: "2 threads >= 1.7x one thread".into(),
        met: Some(s2 >= 1.7),
        detail: format!(
            "{} (the raw floor without any pool scales {})",
            ratio(s2),
            ratio(med[1][1] / med[1][0])
        ),
    });
    if s2 < 1.7 {
        sec.notes.push(format!(
            "Diagnosis (2 threads {}): the raw floor, which shares nothing between threads, scales {} on this machine at the same time, so most of the gap is the 2-core machine (other processes, the socket work of both threads). The pool's own part: an acquire+release pair costs {:.0} ns alone and {:.0} ns with 2 threads, because every acquire and release updates the global atomic counters (IDLE, IN_USE, REUSED, claim_idle_place's CAS on IDLE), which sit on shared cache lines that bounce between the cores. That is {:.1}% of a 4 KiB transfer. Proposed fix in src/pool.rs: count thread-slot hits in thread-local counters (folded into the totals by stats() and at thread exit) and skip claim_idle_place for the thread slot, so the fast path touches no shared cache line.",
            ratio(s2),
            ratio(med[1][1] / med[1][0]),
            per_t[0],
            per_t[1],
            100.0 * per_t[1] * med[0][1] / 2.0 / 1e9
        ));
    }
    let stats = zcopy::pool::stats();
    sec.notes.push(format!(
        "Pool counters after the scenarios in this process: created {}, reused {}, discarded {}, idle {}.",
        stats.created, stats.reused, stats.discarded, stats.idle
    ));
    sec
}

/// Times the pieces zcopy_splice adds to the two splices of the floor:
/// returns (name, ns per call).
pub fn overhead_parts(n: usize) -> Vec<(String, f64)> {
    let (a0, a1) = socketpair();
    let (b0, b1) = socketpair();
    let time = |f: &mut dyn FnMut()| {
        for _ in 0..1000 {
            f();
        }
        let t0 = Instant::now();
        for _ in 0..n {
            f();
        }
        t0.elapsed().as_secs_f64() * 1e9 / n as f64
    };
    let mut out = Vec::new();
    out.push((
        "SIGPIPE guard: 2 rt_sigprocmask (zcopy::sigpipe::SigpipeGuard new + drop)".to_string(),
        time(&mut || {
            let g = zcopy::sigpipe::SigpipeGuard::new();
            drop(std::hint::black_box(g));
        }),
    ));
    out.push((
        "O_APPEND check: fcntl(dst, F_GETFL)".to_string(),
        time(&mut || {
            let _ = std::hint::black_box(zcopy::sys::fd_flags(b0));
        }),
    ));
    out.push((
        "direct-splice probe: splice(src socket, dst socket) -> EINVAL".to_string(),
        time(&mut || {
            std::hint::black_box(raw_splice(a1, b0, 4096));
        }),
    ));
    out.push((
        "pool acquire + release (thread slot, no syscall)".to_string(),
        time(&mut || {
            let p = zcopy::pool::acquire().expect("pipe");
            zcopy::pool::release(std::hint::black_box(p));
        }),
    ));
    // SAFETY: closing our fds.
    unsafe {
        for fd in [a0, a1, b0, b1] {
            libc::close(fd);
        }
    }
    out
}

/// `threads` threads each do `n` pool acquire+release pairs at once;
/// returns ns per pair as seen by one thread (wall time / n).
pub fn pool_pairs(threads: usize, n: usize) -> f64 {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads));
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let b = barrier.clone();
            std::thread::spawn(move || {
                let p = zcopy::pool::acquire().expect("pipe");
                zcopy::pool::release(p);
                b.wait();
                let t0 = Instant::now();
                for _ in 0..n {
                    let p = zcopy::pool::acquire().expect("pipe");
                    zcopy::pool::release(std::hint::black_box(p));
                }
                t0.elapsed().as_secs_f64() * 1e9 / n as f64
            })
        })
        .collect();
    let v: Vec<f64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    v.iter().sum::<f64>() / v.len() as f64
}
