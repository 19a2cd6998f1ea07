//! The generic cell rate algorithm: a rate of one call every `interval`, with bursts of up to
//! `burst` calls, kept as one number, the theoretical arrival time (TAT) of the next call.
//!
//! A call at `now` may go when `TAT - tolerance <= now` (tolerance = (burst - 1) × interval);
//! it then moves TAT to `max(TAT, now) + interval`. Otherwise it waits `TAT - tolerance - now`.
//! The same arithmetic runs in the Redis script of [`super::redis_store`], on the server's clock.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A burst of a tenth of a second's worth of calls (at least one): enough to absorb a few
/// milliseconds of jitter between the client and the service, small enough that a short
/// upload's average rate is the cap, not the cap plus a burst.
pub(crate) fn burst(per_minute: u32) -> u32 {
    per_minute.div_ceil(600).max(1)
}

/// The spacing of calls at `per_minute`.
pub(crate) fn interval(per_minute: u32) -> Duration {
    Duration::from_secs(60) / per_minute.max(1)
}

/// One in-process rate.
#[derive(Debug)]
pub(crate) struct Gcra {
    /// None: not limited.
    interval: Option<Duration>,
    tolerance: Duration,
    tat: Mutex<Option<Instant>>,
}

impl Gcra {
    /// `per_minute` calls a minute; 0: unlimited.
    pub(crate) fn per_minute(per_minute: u32) -> Self {
        let interval = (per_minute > 0).then(|| interval(per_minute));
        Gcra {
            tolerance: interval.unwrap_or_default() * (burst(per_minute) - 1),
            interval,
            tat: Mutex::new(None),
        }
    }

    /// Books a call at `now` if it may go (zero), else how long to wait before asking again.
    pub(crate) fn book(&self, now: Instant) -> Duration {
        let Some(interval) = self.interval else {
            return Duration::ZERO;
        };
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let next = tat.map_or(now, |t| t.max(now));
        let allowed_at = next.checked_sub(self.tolerance).unwrap_or(now);
        if allowed_at <= now {
            *tat = Some(next + interval);
            Duration::ZERO
        } else {
            allowed_at - now
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        // 600 a minute: one every 100 ms, bursts of 1.
        let g = Gcra::per_minute(600);
        let t0 = Instant::now();
        assert_eq!(g.book(t0), Duration::ZERO);
        assert_eq!(g.book(t0), Duration::from_millis(100));
        assert_eq!(g.book(t0 + Duration::from_millis(100)), Duration::ZERO);
        // 6,000 a minute: every 10 ms, bursts of 10.
        let g = Gcra::per_minute(6000);
        for _ in 0..10 {
            assert_eq!(g.book(t0), Duration::ZERO);
        }
        assert_eq!(g.book(t0), Duration::from_millis(10));
        // Any 60 s holds at most the cap plus the burst.
        let g = Gcra::per_minute(3000);
        let (mut now, mut sent) = (t0, 0);
        while now < t0 + Duration::from_secs(60) {
            let wait = g.book(now);
            if wait.is_zero() {
                sent += 1;
            } else {
                now += wait;
            }
        }
        assert!((3000..=3000 + burst(3000)).contains(&sent), "{sent}");
        assert_eq!(Gcra::per_minute(0).book(t0), Duration::ZERO);
    }
}
