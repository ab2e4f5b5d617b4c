//! copy_bidirectional on the relay's state machine, woken by tokio.

use super::ready::{clear, events, Watched};
use super::short::{hints, short_read_is_final};
use crate::call::control::Control;
use crate::relay::{Interest, Progress, Relay};
use crate::sys::sigpipe::SigpipeGuard;
use crate::Options;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{Interest as TokioInterest, Ready};
use tokio::time::{Instant, Sleep};

/// Steps one poll may take before it yields to the runtime (a relay whose
/// fds stay ready must not starve the other tasks of its thread).
const STEPS_PER_POLL: u32 = 32;

/// Copies data in both directions between `a` and `b` until both reach
/// end of stream, as `tokio::io::copy_bidirectional` does, with the same
/// signature and results: when one side's read reaches end of stream the
/// other side's write half is shut down (half-close) and the other
/// direction goes on; the counts returned are the bytes `a` -> `b` and
/// `b` -> `a`. Bulk data moves with splice(2) through pooled pipes,
/// never through user space; small messages are copied (cheaper there).
///
/// `a` and `b`: any two connected stream fds tokio drives (`TcpStream`,
/// `UnixStream`, or anything `AsFd` that is non-blocking). Do not read
/// or write them elsewhere while the future runs.
///
/// Cost: as in tokio's own streams, a short read from a TCP socket is
/// taken to mean "nothing more for now" (no second read only to hear
/// EAGAIN), except while urgent data is pending.
///
/// Errors: the first hard error on either side (reset, broken pipe) ends
/// both directions and is returned; `InvalidInput` for a datagram socket.
///
/// Cancel safety: dropping the future stops both directions at once. The
/// bytes already read from one side and not yet written to the other (at
/// most one pipe's worth per direction, 1 MiB with the default pool) are
/// lost, as the bytes in tokio's own buffers are when its
/// copy_bidirectional is dropped; nothing is shut down or closed.
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use tokio::net::UnixStream;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (mut a, mut client) = UnixStream::pair()?;
/// let (mut b, mut server) = UnixStream::pair()?;
/// let relay = tokio::spawn(async move { zcopy::tokio::copy_bidirectional(&mut a, &mut b).await });
/// client.write_all(b"request").await?;
/// client.shutdown().await?;
/// let mut got = Vec::new();
/// server.read_to_end(&mut got).await?;
/// server.write_all(b"reply").await?;
/// drop(server);
/// assert_eq!(relay.await.unwrap()?, (7, 5));
/// # Ok(())
/// # }
/// ```
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsFd + ?Sized,
    B: AsFd + ?Sized,
{
    copy_bidirectional_with(a, b, &Options::default()).await
}

/// [`copy_bidirectional`] under `opts`: [`Options::idle_timeout`] ends it
/// with `TimedOut` once no byte moved either way for that long (the
/// runtime needs its time driver), [`Options::cancel`] ends it with raw
/// OS error ECANCELED, [`Options::close_both`] ends both directions at
/// the first end of stream. [`Options::nowait`] is `InvalidInput`;
/// [`Options::resume_on_eintr`] changes nothing (no signal reaches a
/// reactor wait).
///
/// ```
/// use std::time::Duration;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (mut a, _client) = tokio::net::UnixStream::pair()?;
/// let (mut b, _server) = tokio::net::UnixStream::pair()?;
/// let opts = zcopy::Options::default().idle_timeout(Duration::from_millis(50));
/// let err = zcopy::tokio::copy_bidirectional_with(&mut a, &mut b, &opts).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// # Ok(())
/// # }
/// ```
pub async fn copy_bidirectional_with<A, B>(
    a: &mut A,
    b: &mut B,
    opts: &Options,
) -> io::Result<(u64, u64)>
where
    A: AsFd + ?Sized,
    B: AsFd + ?Sized,
{
    let settings = opts.settings()?;
    if settings.nowait {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // PRIORITY: urgent data pending, when a short read must not end a
    // step (short.rs).
    let both = TokioInterest::READABLE | TokioInterest::WRITABLE | TokioInterest::PRIORITY;
    let wa = Watched::new(a.as_fd(), both)?;
    let wb = Watched::new(b.as_fd(), both)?;
    crate::relay::check_pair(wa.raw(), wb.raw())
        .map_err(|(e, _)| io::Error::from_raw_os_error(e))?;
    let cancel = match opts.canceller() {
        Some(c) => Some(Watched::new(c.as_fd(), TokioInterest::READABLE)?),
        None => None,
    };
    let idle = opts.get_idle_timeout();
    let mut d = Driver {
        relay: Relay::new(wa.raw(), wb.raw(), settings.close_both),
        tcp: [short_read_is_final(wa.raw()), short_read_is_final(wb.raw())],
        a: wa,
        b: wb,
        cancel,
        idle,
        sleep: idle.map(|t| Box::pin(tokio::time::sleep(t))),
        waiting: None,
        sigpipe_ignored: crate::sys::sigpipe::sigpipe_ignored(),
    };
    // Both plain TCP sockets (what short.rs checked): recv/send.
    d.relay.set_socket_io(d.tcp[0] && d.tcp[1]);
    poll_fn(|cx| d.poll(cx)).await
}

/// One copy_bidirectional in flight.
struct Driver {
    relay: Relay,
    a: Watched,
    b: Watched,
    cancel: Option<Watched>,
    /// A short read(2) from a (0) or b (1) means it was drained (short.rs).
    tcp: [bool; 2],
    idle: Option<std::time::Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// What the last step waited for; None before the first step and
    /// after a Busy one.
    waiting: Option<Interest>,
    /// SIGPIPE was ignored when the call began (Rust programs ignore it
    /// from the start).
    sigpipe_ignored: bool,
}

impl Driver {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(u64, u64)>> {
        if let Some(c) = &self.cancel {
            // Never cleared: a cancelled handle stays readable.
            if c.read(cx)?.is_some() {
                return Poll::Ready(Err(io::Error::from_raw_os_error(libc::ECANCELED)));
            }
        }
        // Invariant at the head of each round: `waiting` is what the last
        // step met EAGAIN on, and every guard below is a fresh readiness
        // (or a registered waker).
        for _ in 0..STEPS_PER_POLL {
            let (mut ar, mut aw) = (self.a.read(cx)?, self.a.write(cx)?);
            let (mut br, mut bw) = (self.b.read(cx)?, self.b.write(cx)?);
            let ready = Interest {
                a: events(&ar) | events(&aw),
                b: events(&br) | events(&bw),
            };
            let hup = libc::POLLHUP | libc::POLLERR;
            let can_move = |w: Interest| {
                w.a & ready.a != 0 || w.b & ready.b != 0 || (ready.a | ready.b) & hup != 0
            };
            if let Some(w) = self.waiting {
                if !can_move(w) {
                    return idle_check(&mut self.sleep, cx);
                }
            }
            let urgent_a = ar.is_some() && self.a.urgent();
            let urgent_b = br.is_some() && self.b.urgent();
            self.relay.set_read_hints(
                hints(self.tcp[0], ar.is_some(), urgent_a),
                hints(self.tcp[1], br.is_some(), urgent_b),
            );
            let before = self.relay.counts();
            let progress = {
                // A splice to a peer that is gone raises SIGPIPE: blocked
                // for the step unless the process ignores it (checked once
                // per call: one system call per step would cost small
                // messages dearly).
                let _sigpipe = (!self.sigpipe_ignored).then(SigpipeGuard::new);
                let mut ctl = Control::plain();
                match self.waiting {
                    None => self.relay.step(&mut ctl),
                    Some(_) => self.relay.step_ready(&mut ctl, ready),
                }
            };
            if self.relay.counts() != before {
                touch(&mut self.sleep, self.idle);
            }
            match progress {
                Progress::Done(r) if r.error == 0 => {
                    return Poll::Ready(Ok((r.a_to_b as u64, r.b_to_a as u64)))
                }
                Progress::Done(r) => {
                    return Poll::Ready(Err(io::Error::from_raw_os_error(r.error)))
                }
                Progress::Busy => self.waiting = None,
                Progress::Wait(w) => {
                    // A read that met EAGAIN, or a short read(2) the hints
                    // trusted; either way past any urgent mark.
                    let read = Ready::READABLE | Ready::PRIORITY;
                    clear(&mut ar, w.a & libc::POLLIN != 0, read);
                    clear(&mut aw, w.a & libc::POLLOUT != 0, Ready::WRITABLE);
                    clear(&mut br, w.b & libc::POLLIN != 0, read);
                    clear(&mut bw, w.b & libc::POLLOUT != 0, Ready::WRITABLE);
                    self.waiting = Some(w);
                }
            }
        }
        // Still moving after the round's steps: let the other tasks run.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A byte moved: the idle clock starts again.
fn touch(sleep: &mut Option<Pin<Box<Sleep>>>, idle: Option<std::time::Duration>) {
    if let (Some(s), Some(t)) = (sleep.as_mut(), idle) {
        s.as_mut().reset(Instant::now() + t);
    }
}

/// Nothing can move: Pending, unless the idle clock ran out.
fn idle_check(
    sleep: &mut Option<Pin<Box<Sleep>>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(u64, u64)>> {
    match sleep.as_mut().map(|s| s.as_mut().poll(cx)) {
        Some(Poll::Ready(())) => Poll::Ready(Err(io::Error::from_raw_os_error(libc::ETIMEDOUT))),
        _ => Poll::Pending,
    }
}
