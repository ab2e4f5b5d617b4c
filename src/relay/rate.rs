//! A relay direction's rate limit: a token bucket in bytes.
//!
//! Tokens accrue at `rate` bytes per second up to `burst` (1/20 s of the
//! rate, at least 8 KiB or one second's worth when that is less); a step
//! may deliver what the bucket holds, and may overshoot by what one system
//! call moved (the bucket goes negative: that debt is waited out, so the
//! average stays exact). Below half a burst the direction sleeps until
//! the bucket is back at half a burst: one wake-up per half burst (25 ms
//! at any rate above 160 KB/s), not one per byte.

/// One direction's bucket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    rate: i64,
    burst: i64,
    tokens: i64,
    /// When `tokens` was last brought up to date (monotonic ns).
    at: i64,
}

impl Bucket {
    /// A full bucket for `rate` bytes per second (> 0), as of `now`.
    pub(crate) fn new(rate: i64, now: i64) -> Bucket {
        let burst = (rate / 20).max(rate.min(8192)).max(1);
        Bucket {
            rate,
            burst,
            tokens: burst,
            at: now,
        }
    }

    fn refill(&mut self, now: i64) {
        let ns = now.saturating_sub(self.at);
        if ns <= 0 {
            return;
        }
        // i128: rate * ns overflows i64 past ~9 s at 1 GB/s.
        let add = (self.rate as i128 * ns as i128 / 1_000_000_000) as i64;
        if add > 0 {
            self.tokens = self.tokens.saturating_add(add).min(self.burst);
            // Only the time that bought whole bytes is used up.
            self.at += (add as i128 * 1_000_000_000 / self.rate as i128) as i64;
        }
        if self.tokens >= self.burst {
            self.at = now;
        }
    }

    /// The bytes a step may deliver now; 0 means wait until `ready_at`.
    pub(crate) fn allowance(&mut self, now: i64) -> i64 {
        self.refill(now);
        if self.tokens >= self.threshold() {
            self.tokens
        } else {
            0
        }
    }

    /// `n` bytes were delivered.
    pub(crate) fn spend(&mut self, n: i64) {
        self.tokens = self.tokens.saturating_sub(n);
    }

    /// When the bucket is back at half a burst (monotonic ns).
    pub(crate) fn ready_at(&self) -> i64 {
        let missing = (self.threshold() - self.tokens).max(0) as i128;
        let rate = self.rate as i128;
        let ns = (missing * 1_000_000_000 + rate - 1) / rate;
        self.at.saturating_add(ns.min(i64::MAX as i128) as i64)
    }

    fn threshold(&self) -> i64 {
        (self.burst / 2).max(1)
    }
}

use super::{Flow, Relay, Want, RELAY_STEP_BUDGET};

impl Relay {
    /// Limits each direction to a rate in bytes per second (0: no limit),
    /// from now on (a token bucket each: relay/rate.rs).
    pub fn set_rates(&mut self, a_to_b: i64, b_to_a: i64) {
        let now = crate::call::control::now_ns();
        for (i, rate) in [a_to_b, b_to_a].into_iter().enumerate() {
            self.buckets[i] = (rate > 0).then(|| Bucket::new(rate, now));
        }
        if self.buckets.iter().all(Option::is_none) {
            self.ab.set_cap(usize::MAX);
            self.ba.set_cap(usize::MAX);
        }
    }

    /// After a step that said Wait: the time (monotonic ns) at which a
    /// direction held back by its rate limit may move again; the driver
    /// steps the relay then even if no fd became ready. None: no direction
    /// is held back.
    pub fn throttled_until(&self) -> Option<i64> {
        self.throttled_until
    }

    /// True once `fd` (a or b) reported a hang-up: a driver watches it only
    /// for what a direction waits for (its POLLHUP would repeat for ever);
    /// every other fd is watched for errors even when nothing waits on it.
    pub fn hung_up(&self, fd: i32) -> bool {
        (fd == self.a && self.hung[0]) || (fd == self.b && self.hung[1])
    }

    /// Steps direction `i` (0: a -> b, 1: b -> a) within its rate limit:
    /// at most what its bucket allows, or not at all (Blocked(Time), and
    /// `throttled_until` says when) while the bucket refills.
    pub(super) fn step_limited(
        &mut self,
        i: usize,
        now: Option<i64>,
        ready: Option<(bool, bool)>,
    ) -> Flow {
        let d = if i == 0 { &mut self.ab } else { &mut self.ba };
        let (Some(bucket), Some(now)) = (self.buckets[i].as_mut(), now) else {
            return d.step_told(RELAY_STEP_BUDGET, ready);
        };
        if d.ended() {
            return d.step_told(RELAY_STEP_BUDGET, ready);
        }
        let allowed = bucket.allowance(now);
        if allowed == 0 {
            // No event is asked for meanwhile: the next step must try.
            d.unblock();
            let at = bucket.ready_at();
            self.throttled_until = Some(self.throttled_until.map_or(at, |t| t.min(at)));
            return Flow::Blocked(Want::Time);
        }
        d.set_cap(usize::try_from(allowed).unwrap_or(usize::MAX));
        let before = d.delivered();
        let flow = d.step_told(allowed.min(RELAY_STEP_BUDGET), ready);
        bucket.spend(d.delivered() - before);
        flow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn a_full_bucket_allows_its_burst_then_waits_for_half_of_it() {
        let mut b = Bucket::new(10_000_000, 0);
        assert_eq!(b.allowance(0), 500_000);
        b.spend(500_000);
        assert_eq!(b.allowance(0), 0);
        // Half a burst (250 000 bytes) takes 25 ms at 10 MB/s.
        assert_eq!(b.ready_at(), 25_000_000);
        assert_eq!(b.allowance(24_000_000), 0);
        assert_eq!(b.allowance(25_000_000), 250_000);
    }

    #[test]
    fn an_overshoot_is_waited_out_so_the_average_holds() {
        let mut b = Bucket::new(1_000_000, 0);
        let mut moved = 0;
        let mut now = 0;
        // A caller that always moves 3x what it may, for 10 s.
        while now < 10 * S {
            let a = b.allowance(now);
            if a > 0 {
                b.spend(3 * a);
                moved += 3 * a;
            }
            now = b.ready_at().max(now + 1);
        }
        let rate = moved as f64 / 10.0;
        assert!((rate - 1_000_000.0).abs() < 60_000.0, "{rate}");
    }

    #[test]
    fn small_rates_get_a_bucket_of_at_least_one_byte() {
        let mut b = Bucket::new(1, 0);
        assert_eq!(b.allowance(0), 1);
        b.spend(1);
        assert_eq!(b.allowance(S / 2), 0);
        assert_eq!(b.allowance(S), 1);
    }
}

#[cfg(test)]
mod relay_rate_tests {
    use crate::call::control::Control;
    use crate::call::options::Settings;
    use crate::relay::{Progress, Relay};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_limited_relay_takes_no_more_than_its_bucket_per_step() {
        let (c, a) = UnixStream::pair().unwrap();
        let (b, s) = UnixStream::pair().unwrap();
        for x in [&a, &b] {
            x.set_nonblocking(true).unwrap();
        }
        use std::io::Write;
        (&c).write_all(&[7u8; 20000]).unwrap();
        let mut relay = Relay::new(a.as_raw_fd(), b.as_raw_fd(), false);
        relay.set_rates(1000, 0);
        let mut ctl = Control::new(Settings::default());
        // The bucket's 1000 bytes, then the budget stops the step.
        assert_eq!(relay.step(&mut ctl), Progress::Busy);
        assert_eq!(relay.counts(), (1000, 0));
        // Half a burst (500 bytes) is 0.5 s away: nothing moves, no event
        // is asked for a, and the driver is told when to come back.
        let p = relay.step(&mut ctl);
        assert_eq!(relay.counts(), (1000, 0));
        let Progress::Wait(i) = p else {
            panic!("{p:?}")
        };
        assert_eq!(i.a, 0);
        let until = relay.throttled_until().expect("throttled");
        let left = until - crate::call::control::now_ns();
        assert!(left > 400_000_000 && left <= 500_000_000, "{left}");
        drop(s);
    }
}
