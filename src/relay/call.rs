//! zcopy_relay: one `Relay` driven with poll(2) in the calling thread (no
//! thread of its own), through `Control` for the idle timeout, the cancel
//! fd and EINTR.
//!
//! For the length of the call the fds are switched to O_NONBLOCK (the
//! state machine never blocks) and SIGPIPE is blocked in the thread; both
//! are undone on every way out, unwinding included, by guard objects.

use super::pair::check_pair;
use super::resume;
use super::{Interest, Progress, Relay, RelayResult};
use crate::call::control::Control;
use crate::call::nonblock::NonBlocking;
use crate::call::options::{Options, Settings};
use crate::sys::sigpipe::SigpipeGuard;

/// Relays between `a` and `b` until both directions are done, an error
/// ends it, or the caller's options do; see zcopy_relay in the header.
pub fn relay(a: i32, b: i32, opts: Option<&Options>) -> RelayResult {
    relay_prefixed(a, b, &[], &[], opts)
}

/// `relay`, delivering `a_to_b` to b and `b_to_a` to a before anything
/// else; see zcopy_relay_prefixed. With both prefixes empty it is `relay`
/// (and resumes a relay kept across EINTR); a prefix while a relay is kept
/// for these fds is EINVAL (the kept one is left as it was).
pub fn relay_prefixed(
    a: i32,
    b: i32,
    a_to_b: &[u8],
    b_to_a: &[u8],
    opts: Option<&Options>,
) -> RelayResult {
    if a < 0 || b < 0 {
        return RelayResult::failed(libc::EBADF, -1);
    }
    if a == b {
        return RelayResult::failed(libc::EINVAL, -1);
    }
    let settings = match Settings::from_options_waiting(opts) {
        Ok(s) => s,
        Err(e) => return RelayResult::failed(e, -1),
    };
    // Two different stream endpoints (a dup of one socket, or a datagram
    // socket, is EINVAL before anything moves).
    let ids = match check_pair(a, b) {
        Ok(ids) => ids,
        Err((e, fd)) => return RelayResult::failed(e, fd),
    };
    let _flags = match NonBlocking::required(a, b) {
        Ok(g) => g,
        Err((e, fd)) => return RelayResult::failed(e, fd),
    };
    let mut sigpipe = SigpipeGuard::new();
    let mut relay = match resume::take(a, b, ids) {
        Some(kept) if a_to_b.is_empty() && b_to_a.is_empty() => kept,
        Some(kept) => {
            // New bytes cannot go before bytes already taken from the
            // same sources: resume with zcopy_relay first.
            resume::save(kept, ids);
            return RelayResult::failed(libc::EINVAL, -1);
        }
        None => Relay::with_prefixes(a, b, false, a_to_b.to_vec(), b_to_a.to_vec()),
    };
    relay.set_close_both(settings.close_both);
    relay.set_rates(settings.rate_a_to_b, settings.rate_b_to_a);
    // Level mode stays off: measured with iperf3 through examples/relay.c
    // (bench/results/relay.md), the poll it saves an EAGAIN for costs more
    // under a steady stream, where the probe usually finds new bytes.
    relay.set_level_triggered(false);
    let start = relay.counts();
    let mut control = Control::new(settings);
    let end = drive(&mut relay, &mut control);
    let (ab, ba) = relay.counts();
    let r = RelayResult {
        a_to_b: ab - start.0,
        b_to_a: ba - start.1,
        error: end.0,
        error_fd: end.1,
    };
    if r.error == libc::EINTR {
        resume::save(relay, ids);
    }
    // Even a relay that ended well may have raised a SIGPIPE: the last
    // push of close-both ignores its EPIPE. Have the guard consume one the
    // call raised in every case (it costs one sigpending).
    sigpipe.error = if r.error != 0 { r.error } else { libc::EPIPE };
    r
}

/// Steps and waits until the relay is done or the control ends it:
/// (errno, fd) with fd -1 for the control's own errors.
fn drive(relay: &mut Relay, control: &mut Control) -> (i32, i32) {
    let (a, b) = relay.fds();
    // The first step (and one after Busy) tries everything; the others
    // only what poll reported.
    let mut ready: Option<Interest> = None;
    // Invariant: every wait is for an EAGAIN the last step saw, so the
    // loop sleeps whenever nothing can move, and never spins.
    loop {
        // Rate-limited (one clock read per round at most): a relay whose
        // bytes never stop still notices its cancel fd within ~5 ms.
        if let Err(e) = control.check() {
            return (e, -1);
        }
        let progress = match ready.take() {
            Some(r) => relay.step_ready(control, r),
            None => relay.step(control),
        };
        let interest = match progress {
            Progress::Done(r) => return (r.error, r.error_fd),
            // Bytes may have come for the other direction meanwhile, with
            // no poll to say so: a plain step tries it again (one EAGAIN
            // per budget at worst), so a busy direction never starves it.
            Progress::Busy => continue,
            Progress::Wait(i) => i,
        };
        // An fd with nothing to wait for stays in the set with no events:
        // poll still reports its POLLERR / POLLHUP, so a reset on a side no
        // direction is using ends the relay at once. Once it has hung up
        // it is left out (fd -1 is skipped by poll): that POLLHUP is sticky
        // and would wake us for nothing, for ever.
        let entry = |fd: i32, events: i16| libc::pollfd {
            fd: if events == 0 && relay.hung_up(fd) {
                -1
            } else {
                fd
            },
            events,
            revents: 0,
        };
        let mut fds = [entry(a, interest.a), entry(b, interest.b)];
        // A direction held back by its rate limit goes on at this time,
        // whatever the fds do: the wait ends then (EAGAIN) and a plain step
        // follows.
        let until = relay.throttled_until();
        match control.wait(&mut fds, until) {
            Err(libc::EAGAIN) if until.is_some() => ready = None,
            Ok(()) => {
                ready = Some(Interest {
                    a: fds[0].revents,
                    b: fds[1].revents,
                })
            }
            Err(libc::EBADF) => {
                // POLLNVAL: an fd was closed under the call.
                let fd = if fds[0].revents & libc::POLLNVAL != 0 {
                    a
                } else if fds[1].revents & libc::POLLNVAL != 0 {
                    b
                } else {
                    -1
                };
                return (libc::EBADF, fd);
            }
            Err(e) => return (e, -1),
        }
    }
}
