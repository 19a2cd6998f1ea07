//! Replay protection: a Signature is reserved before its request is processed, so concurrent
//! copies of one signed request cannot all be accepted; a request that fails gives its
//! Signature back (it did nothing, and may be sent again).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Signatures are kept for the Timestamp window (older requests are refused for their
/// Timestamp anyway), and at most this many.
const MAX_ENTRIES: usize = 500_000;
const TTL: Duration = Duration::from_secs(2 * 3600 + 60);

#[derive(Debug, Default)]
struct Inner {
    /// Signature → when it was reserved.
    seen: HashMap<String, Instant>,
    /// The same in reservation order, for expiry (an entry whose time no longer matches the
    /// map was released and reserved again: only the map's counts).
    order: VecDeque<(Instant, String)>,
}

#[derive(Debug, Default)]
pub(crate) struct ReplayCache {
    inner: Mutex<Inner>,
}

impl ReplayCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the Signature for this request; false if it is taken (a replay, or a copy of a
    /// request still being processed).
    pub(crate) fn reserve(&self, signature: &str) -> bool {
        let mut g = self.inner();
        let now = Instant::now();
        while let Some((t, _)) = g.order.front() {
            if now.duration_since(*t) <= TTL && g.order.len() <= MAX_ENTRIES {
                break;
            }
            let (t, s) = g.order.pop_front().expect("front exists");
            if g.seen.get(&s) == Some(&t) {
                g.seen.remove(&s);
            }
        }
        if g.seen.contains_key(signature) {
            return false;
        }
        g.seen.insert(signature.to_string(), now);
        g.order.push_back((now, signature.to_string()));
        true
    }

    /// Gives a Signature back: its request failed.
    pub(crate) fn release(&self, signature: &str) {
        self.inner().seen.remove(signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_once_release_then_again() {
        let r = ReplayCache::default();
        assert!(r.reserve("a"));
        assert!(!r.reserve("a"));
        r.release("a");
        assert!(r.reserve("a"));
        assert!(r.reserve("b"));
    }
}
