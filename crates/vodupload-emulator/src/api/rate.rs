//! The published call rates, per SecretId and action, over sliding 60-second windows.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::protocol::Action;

#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<(String, Action), VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Counts the call and says whether it is within the limit.
    pub(crate) fn admit(&self, secret_id: &str, action: Action) -> bool {
        let Some(limit) = action.rate_limit() else {
            return true;
        };
        let now = Instant::now();
        let window = Duration::from_secs(60);
        let mut g = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let q = g.entry((secret_id.to_string(), action)).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if q.len() >= limit {
            return false;
        }
        q.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_counts() {
        let r = RateLimiter::default();
        for _ in 0..100 {
            assert!(r.admit("a", Action::Init));
        }
        assert!(!r.admit("a", Action::Init));
        assert!(r.admit("b", Action::Init));
        assert!(r.admit("a", Action::Finish));
        for _ in 0..1000 {
            assert!(r.admit("a", Action::PullEvent));
        }
    }
}
