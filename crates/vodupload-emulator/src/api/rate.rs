//! The call rates per SecretId, enforced as rates: each action class (UploadPart; InitUpload and
//! FinishUpload each) may be called `N` times a minute on average (one call every 60 s / N), with
//! bursts of up to `burst_secs` seconds' worth of calls. The default burst is a whole minute's
//! worth, as lenient as a per-minute count for the first minute, so test suites and clients that
//! do not pace (the provider's SDKs) are refused only when they keep over the rate; a burst of a
//! second (`--rate-burst-secs 1`) holds callers to the rate itself, as a fleet of servers sharing
//! one account must be. The client paces at the rate with bursts of a tenth of a second, so the
//! delays a request meets between its pacing and this check (reading the part, the network, a
//! busy machine) must add up to most of the burst before a paced client is refused.
//!
//! Each (SecretId, action) keeps the earliest time its next call conforms (GCRA's "theoretical
//! arrival time"); a call earlier than that by more than the burst allows is refused with 4400.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::protocol::Action;

/// The service's published caps, calls a minute.
pub(crate) const DEFAULT_UPLOAD_PART_PER_MINUTE: u32 = 10_000;
pub(crate) const DEFAULT_INIT_FINISH_PER_MINUTE: u32 = 100;

/// The burst a rate allows by default, in seconds' worth of calls.
pub(crate) const DEFAULT_BURST_SECS: u32 = 60;

/// The rates to enforce, calls a minute (0: not limited), and the burst each allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub upload_part_per_minute: u32,
    /// InitUpload and FinishUpload, each.
    pub init_finish_per_minute: u32,
    /// Calls that may come at once, in seconds' worth of the rate (at least one call).
    pub burst_secs: u32,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            upload_part_per_minute: DEFAULT_UPLOAD_PART_PER_MINUTE,
            init_finish_per_minute: DEFAULT_INIT_FINISH_PER_MINUTE,
            burst_secs: DEFAULT_BURST_SECS,
        }
    }
}

impl Rates {
    /// Calls a minute for `action`; None: not limited.
    pub(crate) fn per_minute(&self, action: Action) -> Option<u32> {
        let n = match action {
            Action::Part => self.upload_part_per_minute,
            Action::Init | Action::Finish => self.init_finish_per_minute,
            Action::PullEvent | Action::ConfirmEvent => 0,
        };
        (n > 0).then_some(n)
    }
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    rates: Rates,
    next_due: Mutex<HashMap<(String, Action), Instant>>,
}

impl RateLimiter {
    pub(crate) fn new(rates: Rates) -> Self {
        RateLimiter {
            rates,
            next_due: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn rates(&self) -> Rates {
        self.rates
    }

    /// Counts the call if it conforms to its rate; false (not counted) otherwise.
    pub(crate) fn admit(&self, secret_id: &str, action: Action) -> bool {
        self.admit_at(secret_id, action, Instant::now())
    }

    fn admit_at(&self, secret_id: &str, action: Action, now: Instant) -> bool {
        let Some(per_minute) = self.rates.per_minute(action) else {
            return true;
        };
        let spacing = Duration::from_secs(60) / per_minute;
        let burst = (per_minute as u64 * self.rates.burst_secs as u64)
            .div_ceil(60)
            .clamp(1, u32::MAX as u64) as u32;
        let slack = spacing * (burst - 1);
        let mut due = self.next_due.lock().unwrap_or_else(|p| p.into_inner());
        let next = due
            .get(&(secret_id.to_string(), action))
            .map_or(now, |&t| t.max(now));
        if next > now + slack {
            return false;
        }
        due.insert((secret_id.to_string(), action), next + spacing);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_call_per_spacing() {
        // Bursts of a second. 60 a minute: one a second, bursts of 1; 6,000: every 10 ms, bursts
        // of 100.
        let r = RateLimiter::new(Rates {
            upload_part_per_minute: 6000,
            init_finish_per_minute: 60,
            burst_secs: 1,
        });
        let t0 = Instant::now();
        assert!(r.admit_at("a", Action::Init, t0));
        assert!(!r.admit_at("a", Action::Init, t0));
        assert!(
            r.admit_at("a", Action::Finish, t0),
            "each action has its own rate"
        );
        assert!(
            r.admit_at("b", Action::Init, t0),
            "each SecretId has its own"
        );
        assert!(r.admit_at("a", Action::Init, t0 + Duration::from_secs(1)));
        for _ in 0..100 {
            assert!(r.admit_at("a", Action::Part, t0));
        }
        assert!(!r.admit_at("a", Action::Part, t0));
        assert!(r.admit_at("a", Action::Part, t0 + Duration::from_millis(10)));
        for _ in 0..1000 {
            assert!(
                r.admit_at("a", Action::PullEvent, t0),
                "events are not limited"
            );
        }
    }

    #[test]
    fn zero_is_unlimited() {
        let r = RateLimiter::new(Rates {
            upload_part_per_minute: 0,
            init_finish_per_minute: 0,
            burst_secs: 1,
        });
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert!(r.admit_at("a", Action::Part, t0) && r.admit_at("a", Action::Init, t0));
        }
    }

    #[test]
    fn the_default_burst_is_a_minutes_worth() {
        let r = RateLimiter::new(Rates::default());
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(r.admit_at("a", Action::Init, t0));
        }
        assert!(!r.admit_at("a", Action::Init, t0));
        assert!(r.admit_at("a", Action::Init, t0 + Duration::from_millis(600)));
    }
}
