//! Engine tests that need a job of their own (the C tests in
//! ctests/engine_*.c cover the relay semantics through the ABI).

use super::job::{Job, Ready, RelayResult, Step};
use super::worker::NewRelay;
use super::Engine;
use std::sync::mpsc;
use std::time::Duration;

/// A job that panics in its first step, on fds that epoll accepts.
struct Panicking {
    fds: (i32, i32),
}

impl Job for Panicking {
    fn fds(&self) -> (i32, i32) {
        self.fds
    }
    fn step(&mut self, _: Ready) -> Step {
        panic!("a bug in a relay step");
    }
    fn finish(self: Box<Self>, error: i32, error_fd: i32) -> RelayResult {
        RelayResult::failed(error, error_fd)
    }
    fn interest(&self) -> (i16, i16) {
        (libc::POLLIN, libc::POLLIN)
    }
    fn bytes(&self) -> u64 {
        0
    }
    fn pipes(&self) -> u64 {
        0
    }
}

fn socketpair() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: room for two fds.
    let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) };
    assert_eq!(r, 0);
    (fds[0], fds[1])
}

#[test]
fn a_panicking_step_ends_only_its_relay_with_epanic() {
    let engine = Engine::new(1).unwrap();
    let (a, b) = socketpair();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    engine
        .submit(NewRelay {
            job: Box::new(Panicking { fds: (a, b) }),
            idle_ns: 0,
            cancel: None,
            done: Some(Box::new(move |r| tx.send(r).unwrap())),
            claim: None,
        })
        .unwrap();
    let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(r.error, super::EPANIC);
    // The worker survived: a real relay on the same thread still runs.
    let (c, d) = socketpair();
    engine
        .add(a, c, None, Some(Box::new(move |r| tx2.send(r).unwrap())))
        .unwrap();
    // SAFETY: plain writes/closes of our own fds.
    unsafe {
        assert_eq!(libc::write(b, b"ping".as_ptr().cast(), 4), 4);
        libc::shutdown(b, libc::SHUT_WR);
        libc::shutdown(d, libc::SHUT_WR);
    }
    let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!((r.a_to_b, r.b_to_a, r.error), (4, 0, 0));
    let s = engine.stats();
    assert_eq!(
        (s.active, s.finished, s.bytes, s.pipes_in_use),
        (0, 2, 4, 0)
    );
    for fd in [a, b, c, d] {
        // SAFETY: our own fds.
        unsafe { libc::close(fd) };
    }
}

#[test]
fn dropping_the_engine_cancels_running_relays() {
    let engine = Engine::new(2).unwrap();
    let (tx, rx) = mpsc::channel();
    let mut fds = Vec::new();
    for _ in 0..8 {
        let (a, x) = socketpair();
        let (b, y) = socketpair();
        let tx = tx.clone();
        engine
            .add(a, b, None, Some(Box::new(move |r| tx.send(r).unwrap())))
            .unwrap();
        fds.extend([a, x, b, y]);
    }
    drop(engine);
    let results: Vec<RelayResult> = rx.try_iter().collect();
    assert_eq!(results.len(), 8, "every done ran before drop returned");
    assert!(results.iter().all(|r| r.error == libc::ECANCELED));
    for fd in fds {
        // SAFETY: our own fds, still open (the engine never closes them).
        assert_eq!(unsafe { libc::close(fd) }, 0);
    }
}

/// A job whose first `pipes()` (called by the loop after a step, outside
/// the step's guard) panics: a bug in the loop's own path.
struct PanicsInTheLoop {
    fds: (i32, i32),
    armed: std::cell::Cell<bool>,
}

impl Job for PanicsInTheLoop {
    fn fds(&self) -> (i32, i32) {
        self.fds
    }
    fn step(&mut self, _: Ready) -> Step {
        Step::Wait
    }
    fn finish(self: Box<Self>, error: i32, error_fd: i32) -> RelayResult {
        RelayResult::failed(error, error_fd)
    }
    fn interest(&self) -> (i16, i16) {
        (libc::POLLIN, libc::POLLIN)
    }
    fn bytes(&self) -> u64 {
        0
    }
    fn pipes(&self) -> u64 {
        if self.armed.replace(false) {
            panic!("a bug in the loop");
        }
        0
    }
}

#[test]
fn a_panic_in_the_loop_ends_that_workers_relays_and_the_loop_goes_on() {
    let engine = Engine::new(1).unwrap();
    let (a, b) = socketpair();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    engine
        .submit(NewRelay {
            job: Box::new(PanicsInTheLoop {
                fds: (a, b),
                armed: std::cell::Cell::new(true),
            }),
            idle_ns: 0,
            cancel: None,
            done: Some(Box::new(move |r| tx.send(r).unwrap())),
            claim: None,
        })
        .unwrap();
    let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(r.error, super::EPANIC);
    let (c, d) = socketpair();
    engine
        .add(a, c, None, Some(Box::new(move |r| tx2.send(r).unwrap())))
        .unwrap();
    // SAFETY: plain shutdowns of our own fds.
    unsafe {
        libc::shutdown(b, libc::SHUT_WR);
        libc::shutdown(d, libc::SHUT_WR);
    }
    let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(r.error, 0, "the worker still relays after the panic");
    assert_eq!(engine.stats().finished, 2);
    for fd in [a, b, c, d] {
        // SAFETY: our own fds.
        unsafe { libc::close(fd) };
    }
}
