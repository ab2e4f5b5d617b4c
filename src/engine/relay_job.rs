//! A `Relay` (src/relay) as a worker drives it.
//!
//! The relay's fds are registered edge-triggered for both read and write,
//! so an edge on a_fd arrives as "readable and writable" even when only
//! data came in. The relay's last `Interest` tells which direction waits
//! for which edge (a -> b waits for a readable or b writable; b -> a for b
//! readable or a writable), so a step runs only the directions an edge
//! concerns: a ping-pong round trip then costs no probing splice of the
//! idle direction. A direction that stopped for its budget, a first step,
//! and an error or hang-up on either fd run both.

use super::job::{Job, Ready, RelayResult, Step, A_IN, A_OUT, B_IN, B_OUT};
use crate::control::Control;
use crate::options::Settings;
use crate::relay::{Interest, NonBlocking, Progress, Relay};

/// One relay with its control and the O_NONBLOCK guard of its fds.
pub struct RelayJob {
    relay: Relay,
    control: Control,
    /// What each direction waited for after the last step.
    interest: Interest,
    /// Restores the fds' flags when the job is dropped (before `done`).
    _flags: NonBlocking,
}

impl RelayJob {
    /// Switches the fds to O_NONBLOCK (restored on drop) and makes the
    /// relay. The idle clock and the cancel fd are the worker's, so the
    /// relay's control gets neither (and no EINTR: nothing waits here).
    pub fn new(a: i32, b: i32, settings: Settings) -> Result<RelayJob, i32> {
        let flags = NonBlocking::set(a, b).map_err(|(e, _)| e)?;
        let control = Control::new(Settings {
            close_both: settings.close_both,
            ..Settings::default()
        });
        Ok(RelayJob {
            relay: Relay::new(a, b, settings.close_both),
            control,
            interest: Interest {
                a: libc::POLLIN | libc::POLLOUT,
                b: libc::POLLIN | libc::POLLOUT,
            },
            _flags: flags,
        })
    }
}

/// Which directions an edge concerns: (a -> b, b -> a).
fn concerned(i: Interest, ready: Ready) -> (bool, bool) {
    let ab = (i.a & libc::POLLIN != 0 && ready & A_IN != 0)
        || (i.b & libc::POLLOUT != 0 && ready & B_OUT != 0);
    let ba = (i.b & libc::POLLIN != 0 && ready & B_IN != 0)
        || (i.a & libc::POLLOUT != 0 && ready & A_OUT != 0);
    (ab, ba)
}

impl Job for RelayJob {
    fn fds(&self) -> (i32, i32) {
        self.relay.fds()
    }

    fn step(&mut self, ready: Ready) -> Step {
        let (ab, ba) = concerned(self.interest, ready);
        if !ab && !ba {
            return Step::Wait; // an edge neither direction waits for
        }
        match self.relay.step_directions(&mut self.control, ab, ba) {
            Progress::Wait(i) => {
                self.interest = i;
                Step::Wait
            }
            Progress::Busy => {
                // Both run next time: a budget stop has no edge to wait for.
                self.interest = Interest {
                    a: libc::POLLIN | libc::POLLOUT,
                    b: libc::POLLIN | libc::POLLOUT,
                };
                Step::Again
            }
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

    #[test]
    fn an_edge_runs_only_the_directions_waiting_for_it() {
        let i = Interest {
            a: libc::POLLIN,
            b: libc::POLLIN,
        };
        // Data on a (reported readable and writable): only a -> b.
        assert_eq!(concerned(i, A_IN | A_OUT), (true, false));
        assert_eq!(concerned(i, B_IN | B_OUT), (false, true));
        // a -> b holds bytes for b; b -> a waits for b's data.
        let i = Interest {
            a: 0,
            b: libc::POLLIN | libc::POLLOUT,
        };
        assert_eq!(concerned(i, A_IN | A_OUT), (false, false));
        assert_eq!(concerned(i, B_OUT), (true, false));
        assert_eq!(concerned(i, B_IN | B_OUT), (true, true));
    }
}
