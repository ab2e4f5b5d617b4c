//! The state machine on unix socket pairs, stepped by hand as an event
//! loop would: what each step moves, holds and asks to wait for.

use super::*;

/// A connected non-blocking unix stream pair: (relay's end, peer's end).
pub(super) fn pair() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: room for two fds.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0);
    (fds[0], fds[1])
}

pub(super) fn write(fd: i32, data: &[u8]) -> isize {
    // SAFETY: data is valid for its length.
    unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) }
}

/// Reads what is there now (non-blocking): the bytes, and whether EOF was seen.
pub(super) fn read_now(fd: i32) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 => return (out, true),
            n if n > 0 => out.extend_from_slice(&buf[..n as usize]),
            _ => return (out, false),
        }
    }
}

pub(super) fn close(fds: &[i32]) {
    for &fd in fds {
        // SAFETY: the test owns fd.
        unsafe { libc::close(fd) };
    }
}

#[test]
fn an_idle_relay_waits_for_input_on_both_sides_and_holds_nothing() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    let mut c = Control::plain();
    let want = Interest {
        a: libc::POLLIN,
        b: libc::POLLIN,
    };
    assert_eq!(r.step(&mut c), Progress::Wait(want));
    assert_eq!(r.held(), 0);
    close(&[a, pa, b, pb]);
}

#[test]
fn a_full_destination_holds_the_bytes_and_asks_for_pollout() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    let mut c = Control::plain();
    let data: Vec<u8> = (0..4_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let (mut sent, mut got) = (0usize, Vec::new());
    let mut saw_pollout = false;
    // Invariant: every byte written to pa is either in the socket buffers,
    // held by the relay, or already read from pb.
    while got.len() < data.len() {
        if sent < data.len() {
            let n = write(pa, &data[sent..(sent + 200_000).min(data.len())]);
            if n > 0 {
                sent += n as usize;
            }
        }
        match r.step(&mut c) {
            Progress::Wait(i) => {
                if i.b & libc::POLLOUT != 0 {
                    saw_pollout = true;
                    assert!(r.held() > 0, "POLLOUT only with bytes held");
                }
            }
            Progress::Busy => {}
            Progress::Done(d) => panic!("done early: {d:?}"),
        }
        // Read from pb only now and then, so that b fills up.
        if saw_pollout || sent == data.len() {
            got.extend(read_now(pb).0);
        }
    }
    assert!(saw_pollout, "the destination never filled up");
    assert!(got == data, "bytes differ");
    assert_eq!(r.counts(), (data.len() as i64, 0));
    assert_eq!(r.held(), 0);
    close(&[a, pa, b, pb]);
}

#[test]
fn eof_half_closes_the_destination_and_the_other_direction_goes_on() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    let mut c = Control::plain();
    assert_eq!(write(pa, b"request"), 7);
    // SAFETY: plain shutdown of the test's fd.
    unsafe { libc::shutdown(pa, libc::SHUT_WR) };
    let i = match r.step(&mut c) {
        Progress::Wait(i) => i,
        p => panic!("{p:?}"),
    };
    // a -> b is done: nothing to wait for on a; b -> a waits for b.
    assert_eq!(
        i,
        Interest {
            a: 0,
            b: libc::POLLIN
        }
    );
    assert_eq!(read_now(pb), (b"request".to_vec(), true));
    assert_eq!(write(pb, b"answer"), 6);
    // SAFETY: as above.
    unsafe { libc::shutdown(pb, libc::SHUT_WR) };
    match r.step(&mut c) {
        Progress::Done(d) => assert_eq!(
            d,
            RelayResult {
                a_to_b: 7,
                b_to_a: 6,
                error: 0,
                error_fd: -1
            }
        ),
        p => panic!("{p:?}"),
    }
    assert_eq!(read_now(pa), (b"answer".to_vec(), true));
    close(&[a, pa, b, pb]);
}

#[test]
fn close_both_ends_at_the_first_eof_and_shuts_both_write_sides() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, true);
    let mut c = Control::plain();
    assert_eq!(write(pb, b"late"), 4);
    // SAFETY: plain shutdown of the test's fd.
    unsafe { libc::shutdown(pa, libc::SHUT_WR) };
    match r.step(&mut c) {
        Progress::Done(d) => assert_eq!((d.a_to_b, d.error, d.error_fd), (0, 0, -1)),
        p => panic!("{p:?}"),
    }
    assert!(read_now(pb).1, "b's peer sees EOF");
    assert!(read_now(pa).1, "a's peer sees EOF");
    close(&[a, pa, b, pb]);
}

#[test]
fn a_hard_error_ends_both_and_names_the_fd() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    let mut c = Control::plain();
    close(&[pa]); // a's peer is gone: writing to a fails
    assert_eq!(write(pb, b"to nobody"), 9);
    // The test harness ignores SIGPIPE, so EPIPE comes back.
    match r.step(&mut c) {
        Progress::Done(d) => assert_eq!((d.error, d.error_fd), (libc::EPIPE, a)),
        p => panic!("{p:?}"),
    }
    // Done is final: the same again, with no system call on the fds.
    assert!(matches!(r.step(&mut c), Progress::Done(_)));
    close(&[a, b, pb]);
}

#[test]
fn step_ready_leaves_a_direction_alone_until_its_fd_is_ready() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    let mut c = Control::plain();
    assert!(matches!(r.step(&mut c), Progress::Wait(_)));
    assert_eq!(write(pa, b"hello"), 5);
    let none = Interest::default();
    assert!(matches!(r.step_ready(&mut c, none), Progress::Wait(_)));
    assert_eq!(r.counts(), (0, 0), "not ready: not touched");
    let a_in = Interest {
        a: libc::POLLIN,
        b: 0,
    };
    assert!(matches!(r.step_ready(&mut c, a_in), Progress::Wait(_)));
    assert_eq!(r.counts(), (5, 0));
    assert_eq!(read_now(pb).0, b"hello");
    close(&[a, pa, b, pb]);
}

/// Bytes that differ from message to message and from byte to byte.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(31) ^ seed.wrapping_mul(2_654_435_761) ^ (i >> 9)) as u8)
        .collect()
}

/// Writes `msg` into `from` (as fast as the socket takes it) and steps the
/// relay until `to` got exactly as many bytes; returns them and whether
/// `splicing` was seen true after some step.
fn relay_message(
    r: &mut Relay,
    c: &mut Control,
    (from, to): (i32, i32),
    msg: &[u8],
    splicing: impl Fn(&Relay) -> bool,
) -> (Vec<u8>, bool) {
    let (mut sent, mut got, mut spliced) = (0, Vec::new(), false);
    for _ in 0..1_000_000 {
        if got.len() >= msg.len() {
            return (got, spliced);
        }
        if sent < msg.len() {
            let n = write(from, &msg[sent..]);
            if n > 0 {
                sent += n as usize;
            }
        }
        match r.step(c) {
            Progress::Done(d) => panic!("done early: {d:?}"),
            Progress::Wait(_) | Progress::Busy => {}
        }
        spliced |= splicing(r);
        got.extend(read_now(to).0);
    }
    panic!(
        "stuck: {} of {} bytes sent, {} arrived",
        sent,
        msg.len(),
        got.len()
    );
}

#[test]
fn mixed_message_sizes_switch_copy_and_splice_and_every_byte_arrives_both_ways() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    let mut c = Control::plain();
    // Small, large, in between; ending with a run of small ones.
    let sizes = [
        1usize,
        64,
        4096,
        1 << 20,
        7,
        100_000,
        16 << 10,
        1 << 20,
        3,
        64,
        64,
        64,
        64,
        2,
    ];
    let (mut ab_spliced, mut ba_spliced) = (false, false);
    let (mut total, mut seed) = (0i64, 0u32);
    for &n in &sizes {
        let msg = pattern(n, seed);
        let (got, s) = relay_message(&mut r, &mut c, (pa, pb), &msg, |r| r.ab.splicing());
        assert!(got == msg, "a -> b: a {n}-byte message differs");
        ab_spliced |= s;
        let msg = pattern(n, seed + 1);
        let (got, s) = relay_message(&mut r, &mut c, (pb, pa), &msg, |r| r.ba.splicing());
        assert!(got == msg, "b -> a: a {n}-byte message differs");
        ba_spliced |= s;
        total += n as i64;
        seed += 2;
        if n == 1 {
            // The first message was copied: it was small.
            assert!(!r.ab.splicing() && !r.ba.splicing());
        }
    }
    assert!(ab_spliced && ba_spliced, "1 MiB messages switch to splice");
    assert!(
        !r.ab.splicing() && !r.ba.splicing(),
        "a run of small takes switches back to copying"
    );
    assert_eq!(r.counts(), (total, total));
    assert_eq!((r.held(), r.pipes()), (0, 0));
    close(&[a, pa, b, pb]);
}

#[test]
fn a_slow_reader_gets_copied_leftovers_in_order_with_no_pipe_held() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    let mut c = Control::plain();
    let mut sent = Vec::new();
    // Small messages, one per step, until b is full and bytes are held.
    for i in 0..100_000u32 {
        let msg = pattern(1000, i);
        assert_eq!(write(pa, &msg), 1000);
        sent.extend_from_slice(&msg);
        let p = r.step(&mut c);
        assert_eq!(
            r.pipes(),
            0,
            "copied bytes are held in a buffer, not a pipe"
        );
        if matches!(p, Progress::Wait(i) if i.b & libc::POLLOUT != 0) {
            break;
        }
    }
    assert!(r.held() > 0, "b never filled up");
    assert!(
        r.held() <= 8 << 10,
        "at most one copy chunk (8 KiB) is held"
    );
    assert!(!r.ab.splicing());
    // Read slowly; every byte comes, in order, the held ones first.
    let mut got = Vec::new();
    let mut buf = vec![0u8; 3000];
    while got.len() < sent.len() {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(pb, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            got.extend_from_slice(&buf[..n as usize]);
        }
        assert!(!matches!(r.step(&mut c), Progress::Done(_)));
        assert_eq!(r.pipes(), 0);
    }
    assert!(got == sent, "bytes differ or came out of order");
    assert_eq!((r.counts(), r.held()), ((sent.len() as i64, 0), 0));
    close(&[a, pa, b, pb]);
}

#[test]
fn level_mode_copies_small_messages_and_a_short_read_ends_the_step() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    r.set_level_triggered(true);
    let mut c = Control::plain();
    assert_eq!(write(pa, b"ping"), 4);
    // A short copy take: delivered, and the step waits for a again.
    let want = Interest {
        a: libc::POLLIN,
        b: libc::POLLIN,
    };
    assert_eq!(r.step(&mut c), Progress::Wait(want));
    assert_eq!(read_now(pb).0, b"ping");
    assert!(!r.ab.splicing());
    assert_eq!(write(pa, b"x"), 1);
    // SAFETY: plain shutdown of the test's fd.
    unsafe { libc::shutdown(pa, libc::SHUT_WR) };
    // The byte goes out first, then the EOF is seen and passed on.
    assert!(matches!(r.step(&mut c), Progress::Wait(_)));
    assert!(matches!(r.step(&mut c), Progress::Wait(_)));
    assert_eq!(read_now(pb), (b"x".to_vec(), true));
    assert_eq!(r.counts(), (5, 0));
    close(&[a, pa, b, pb]);
}
