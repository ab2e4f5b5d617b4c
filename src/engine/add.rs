//! Adding a relay (validated in the caller's thread, then handed to a
//! worker's inbox), and reaching a running relay by its id: its live
//! counts, cancelling it.

use super::registry::{Claim, Handle};
use super::worker::NewRelay;
use super::{relay_job, Done, Engine};
use crate::call::options::{Options, Settings};
use crate::relay::check_pair;
use crate::sys::errno;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Bytes to deliver first: (a to b, b to a).
pub type Prefixes = (Vec<u8>, Vec<u8>);

impl Engine {
    /// Hands `a` and `b` to a worker; `done` gets the result once. Errors
    /// (nothing started, `done` not called): EBADF (an fd negative or not
    /// open), EINVAL (a and b one file, a socket that is not a stream, bad
    /// options), EPERM (an fd epoll cannot watch: a regular file, a
    /// directory, a device such as /dev/null), EEXIST (a or b, or a dup of
    /// either, is in a relay of this engine that is still running), EMFILE
    /// (no fd left for the cancel fd's dup), ECANCELED (the engine is
    /// stopping), ESTALE (in a child forked after the engine was made), or
    /// fcntl's errno switching an fd to O_NONBLOCK.
    pub fn add(
        &self,
        a: i32,
        b: i32,
        opts: Option<&Options>,
        done: Option<Done>,
    ) -> Result<(), i32> {
        self.add_relay(a, b, Prefixes::default(), opts, done)
            .map(|_| ())
    }

    /// `add` with bytes to deliver first in each direction (see
    /// zcopy_engine_add_prefixed), returning the relay's id (>= 1), by which
    /// `counts` and `cancel` find it while it runs.
    pub fn add_relay(
        &self,
        a: i32,
        b: i32,
        prefixes: Prefixes,
        opts: Option<&Options>,
        done: Option<Done>,
    ) -> Result<u64, i32> {
        if self.inherited() {
            return Err(libc::ESTALE);
        }
        if a < 0 || b < 0 {
            return Err(libc::EBADF);
        }
        if a == b {
            return Err(libc::EINVAL);
        }
        let settings = Settings::from_options_waiting(opts)?;
        let ids = check_pair(a, b).map_err(|(e, _)| e)?;
        for fd in [a, b] {
            let st = crate::sys::fstat(fd)?;
            match st.st_mode & libc::S_IFMT {
                libc::S_IFREG | libc::S_IFDIR => return Err(libc::EPERM),
                // A device may have no poll method: ask epoll itself.
                libc::S_IFCHR | libc::S_IFBLK => self.probe.probe(fd)?,
                _ => {}
            }
        }
        // From here on the pair is this relay's until its worker ends it.
        let worker = self.next.fetch_add(1, Relaxed) % self.threads.len();
        let id = self.next_id.fetch_add(1, Relaxed);
        let claim = self
            .registry
            .claim(ids, Arc::new(Handle::new(id, worker)))?;
        let started = self.start(a, b, prefixes, settings, claim.clone(), done);
        if started.is_err() {
            self.registry.release(&claim);
        }
        started.map(|()| id)
    }

    /// The bytes a running relay delivered so far, (a to b, b to a), as its
    /// worker last accounted them (after every step that moved bytes).
    /// ENOENT once it ended (its `done` may be running) or for an unknown
    /// id; ESTALE in a forked child.
    pub fn counts(&self, id: u64) -> Result<(i64, i64), i32> {
        if self.inherited() {
            return Err(libc::ESTALE);
        }
        Ok(self.registry.handle(id)?.counts())
    }

    /// Ends a running relay: its worker is woken and ends it with
    /// ECANCELED (its `done` gets the counts) on its next turn. ENOENT when
    /// it already ended; ESTALE in a forked child.
    pub fn cancel(&self, id: u64) -> Result<(), i32> {
        if self.inherited() {
            return Err(libc::ESTALE);
        }
        let h = self.registry.handle(id)?;
        let t = &self.threads[h.worker];
        t.shared
            .inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cancels
            .push(id);
        t.shared.waker.wake();
        Ok(())
    }

    /// add, once the pair is claimed: the job, the cancel fd's dup, the
    /// hand-over.
    fn start(
        &self,
        a: i32,
        b: i32,
        prefixes: Prefixes,
        settings: Settings,
        claim: Claim,
        done: Option<Done>,
    ) -> Result<(), i32> {
        let job = relay_job::RelayJob::new(a, b, prefixes, settings)?;
        let cancel = match settings.cancel_fd {
            None => None,
            // SAFETY: F_DUPFD_CLOEXEC takes an int; the fd was checked open.
            Some(fd) => match unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) } {
                d if d < 0 => return Err(errno()),
                d => Some(d),
            },
        };
        self.submit(NewRelay {
            job: Box::new(job),
            idle_ns: settings.idle_timeout_ms.saturating_mul(1_000_000),
            cancel,
            done,
            claim: Some(claim),
        })
    }

    /// Gives a validated relay to its worker (the one its claim names;
    /// round robin over the workers, chosen by add; the first for a job of
    /// the engine's own tests, which claims nothing).
    pub(super) fn submit(&self, nr: NewRelay) -> Result<(), i32> {
        let w = nr.claim.as_ref().map_or(0, |c| c.handle.worker);
        let t = &self.threads[w];
        {
            let mut inbox = t.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
            if inbox.stop {
                drop(inbox);
                if let Some(c) = nr.cancel {
                    // SAFETY: our own dup.
                    unsafe { libc::close(c) };
                }
                return Err(libc::ECANCELED);
            }
            inbox.jobs.push(nr);
            // Counted under the lock: the worker cannot finish it first.
            self.added.fetch_add(1, Relaxed);
        }
        t.shared.waker.wake();
        Ok(())
    }
}
