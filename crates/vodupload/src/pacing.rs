//! Client-side pacing under the service's published rates, so a busy backend gets no 4400s.
//!
//! A sliding window rather than a token bucket: the service counts calls per minute, and a full
//! bucket refilled mid-minute would let through twice the limit within one window.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Calls per minute allowed for each action class; 0 turns pacing off for that class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimits {
    pub upload_part_per_minute: u32,
    pub init_per_minute: u32,
    pub finish_per_minute: u32,
}

impl Default for RateLimits {
    /// The service's published peaks (docs/protocol.md, "Transport").
    fn default() -> Self {
        RateLimits {
            upload_part_per_minute: 10_000,
            init_per_minute: 100,
            finish_per_minute: 100,
        }
    }
}

impl RateLimits {
    /// No pacing at all.
    pub fn unlimited() -> Self {
        RateLimits {
            upload_part_per_minute: 0,
            init_per_minute: 0,
            finish_per_minute: 0,
        }
    }
}

#[derive(Debug)]
struct Window {
    limit: usize,
    sent: Mutex<VecDeque<Instant>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Window {
    fn new(limit: u32) -> Self {
        Window {
            limit: limit as usize,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// How long to wait before a call may go; zero means it is booked now.
    fn try_book(&self, now: Instant) -> Duration {
        if self.limit == 0 {
            return Duration::ZERO;
        }
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        while sent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= WINDOW)
        {
            sent.pop_front();
        }
        if sent.len() < self.limit {
            sent.push_back(now);
            Duration::ZERO
        } else {
            WINDOW - now.duration_since(sent[0])
        }
    }
}

/// Paces the three actions independently.
#[derive(Debug)]
pub(crate) struct Pacer {
    part: Window,
    init: Window,
    finish: Window,
}

/// Who shares one budget: the service counts calls per account, so every client of one SecretId
/// on one endpoint in this process shares one pacer (a C client rebuilt by a setter included).
type PacerKey = (String, String, RateLimits);

impl Pacer {
    /// The pacer of `secret_id` on `endpoint` at `limits`: the one other live clients of that
    /// account use, or a new one.
    pub(crate) fn shared(endpoint: &str, secret_id: &str, limits: RateLimits) -> Arc<Pacer> {
        static PACERS: Mutex<Option<HashMap<PacerKey, Weak<Pacer>>>> = Mutex::new(None);
        let mut pacers = PACERS.lock().unwrap_or_else(|e| e.into_inner());
        let pacers = pacers.get_or_insert_with(HashMap::new);
        pacers.retain(|_, p| p.strong_count() > 0);
        let key = (endpoint.to_owned(), secret_id.to_owned(), limits);
        if let Some(p) = pacers.get(&key).and_then(Weak::upgrade) {
            return p;
        }
        let p = Arc::new(Pacer::new(limits));
        pacers.insert(key, Arc::downgrade(&p));
        p
    }

    pub(crate) fn new(limits: RateLimits) -> Self {
        Pacer {
            part: Window::new(limits.upload_part_per_minute),
            init: Window::new(limits.init_per_minute),
            finish: Window::new(limits.finish_per_minute),
        }
    }

    /// Blocks until `action` may be sent; `should_stop` is polled so a cancel is not held up.
    pub(crate) fn wait(&self, action: &str, should_stop: &dyn Fn() -> bool) -> bool {
        let w = match action {
            "UploadPart" => &self.part,
            "InitUpload" => &self.init,
            _ => &self.finish,
        };
        loop {
            let wait = w.try_book(Instant::now());
            if wait.is_zero() {
                return true;
            }
            log::info!(
                "pacing {action}: waiting {} ms to stay under the service's rate",
                wait.as_millis()
            );
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if should_stop() {
                    return false;
                }
                std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_books_up_to_limit_then_waits() {
        let w = Window::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(w.try_book(t0), Duration::ZERO);
        }
        let wait = w.try_book(t0 + Duration::from_secs(10));
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(w.try_book(t0 + WINDOW), Duration::ZERO);
    }

    #[test]
    fn one_pacer_per_account_and_endpoint() {
        let l = RateLimits::default();
        let a = Pacer::shared("https://h/v2", "AKID1", l);
        let b = Pacer::shared("https://h/v2", "AKID1", l);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &Pacer::shared("https://h/v2", "AKID2", l)));
        assert!(!Arc::ptr_eq(&a, &Pacer::shared("https://x/v2", "AKID1", l)));
        let weak = Arc::downgrade(&a);
        drop((a, b));
        assert!(
            weak.upgrade().is_none(),
            "the registry does not keep pacers alive"
        );
    }

    #[test]
    fn zero_is_unlimited() {
        let w = Window::new(0);
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert_eq!(w.try_book(t0), Duration::ZERO);
        }
    }
}
