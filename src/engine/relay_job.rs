//! A `Relay` (src/relay) as a worker drives it.
//!
//! The worker hands over the events each fd reported since the last step;
//! `Relay::step_ready` runs only the directions those events concern (a
//! direction blocked on an fd with no event is skipped without a system
//! call). The relay runs in level mode, since the worker's registrations
//! are level-triggered (see epoll.rs): a short take ends a direction's
//! step without the EAGAIN probe. So a ping-pong round trip costs two
//! system calls per direction (read + write in the relay's copy mode,
//! two splices for larger takes) and one epoll_wait shared by every
//! connection ready at that moment. A direction that stopped for its budget always
//! runs, ready or not.

use super::add::Prefixes;
use super::job::{
    Job, Ready, RelayResult, Step, A_ERR, A_HUP, A_IN, A_OUT, B_ERR, B_HUP, B_IN, B_OUT,
};
use crate::call::control::Control;
use crate::call::nonblock::NonBlocking;
use crate::call::options::Settings;
use crate::relay::{Interest, Progress, Relay};

/// One relay with its control and the O_NONBLOCK guard of its fds.
pub struct RelayJob {
    relay: Relay,
    control: Control,
    /// What each fd waited for after the last Wait.
    interest: Interest,
    /// Restores the fds' flags when the job is dropped (before `done`).
    _flags: NonBlocking,
}

impl RelayJob {
    /// Switches the fds to O_NONBLOCK (restored on drop) and makes the
    /// relay. The idle clock and the cancel fd are the worker's, so the
    /// relay's control gets neither (and no EINTR: nothing waits here).
    pub fn new(
        a: i32,
        b: i32,
        (a_to_b, b_to_a): Prefixes,
        settings: Settings,
    ) -> Result<RelayJob, i32> {
        let flags = NonBlocking::required(a, b).map_err(|(e, _)| e)?;
        let control = Control::new(Settings {
            close_both: settings.close_both,
            ..Settings::default()
        });
        let mut relay = Relay::with_prefixes(a, b, settings.close_both, a_to_b, b_to_a);
        relay.set_level_triggered(true);
        relay.set_rates(settings.rate_a_to_b, settings.rate_b_to_a);
        Ok(RelayJob {
            relay,
            control,
            interest: Interest {
                a: libc::POLLIN,
                b: libc::POLLIN,
            },
            _flags: flags,
        })
    }
}

/// The worker's ready bits as poll events per fd.
fn events(ready: Ready) -> Interest {
    let ev = |bits: [(Ready, i16); 4]| {
        bits.iter()
            .filter(|(bit, _)| ready & bit != 0)
            .fold(0, |acc, (_, e)| acc | e)
    };
    let (inp, out, err, hup) = (libc::POLLIN, libc::POLLOUT, libc::POLLERR, libc::POLLHUP);
    Interest {
        a: ev([(A_IN, inp), (A_OUT, out), (A_ERR, err), (A_HUP, hup)]),
        b: ev([(B_IN, inp), (B_OUT, out), (B_ERR, err), (B_HUP, hup)]),
    }
}

impl Job for RelayJob {
    fn fds(&self) -> (i32, i32) {
        self.relay.fds()
    }

    fn step(&mut self, ready: Ready) -> Step {
        match self.relay.step_ready(&mut self.control, events(ready)) {
            Progress::Wait(i) => {
                self.interest = i;
                Step::Wait
            }
            Progress::Busy => Step::Again,
            Progress::Done(r) => Step::Done(r),
        }
    }

    fn finish(self: Box<Self>, error: i32, error_fd: i32) -> RelayResult {
        let (a_to_b, b_to_a) = self.relay.counts();
        RelayResult {
            a_to_b,
            b_to_a,
            error,
            error_fd,
        }
    }

    fn interest(&self) -> (i16, i16) {
        (self.interest.a, self.interest.b)
    }

    fn throttled_until(&self) -> Option<i64> {
        self.relay.throttled_until()
    }

    fn counts(&self) -> (i64, i64) {
        self.relay.counts()
    }

    fn bytes(&self) -> u64 {
        let (ab, ba) = self.relay.counts();
        (ab + ba) as u64
    }

    fn pipes(&self) -> u64 {
        self.relay.pipes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::job::ALL;

    #[test]
    fn ready_bits_map_to_each_fds_events() {
        let i = events(A_IN | B_OUT);
        assert_eq!((i.a, i.b), (libc::POLLIN, libc::POLLOUT));
        let i = events(ALL);
        let both = libc::POLLIN | libc::POLLOUT;
        assert_eq!((i.a, i.b), (both, both));
        assert_eq!(events(0), Interest::default());
        let i = events(A_ERR | A_HUP | B_HUP);
        assert_eq!(i.a, libc::POLLERR | libc::POLLHUP);
        assert_eq!(i.b, libc::POLLHUP);
    }
}
