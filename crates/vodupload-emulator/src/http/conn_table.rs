//! The open connections, so the number of them can be bounded without locking valid clients
//! out: when the table is full, a new connection evicts the one that has been waiting for its
//! client the longest (a slow sender, or an idle keep-alive connection), if that wait is long
//! enough to tell it from a connection still in a normal exchange.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// A wait on the client shorter than this never gets a connection evicted.
pub(crate) const EVICT_MIN_WAIT: Duration = Duration::from_secs(1);

/// One connection's entry.
#[derive(Debug)]
pub(crate) struct ConnSlot {
    epoch: Instant,
    /// Milliseconds since `epoch` + 1 at which the current wait for client bytes began; 0 when
    /// the server, not the client, is the one working.
    waiting_since: AtomicU64,
    evicted: AtomicBool,
    notify: Notify,
}

impl ConnSlot {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// The connection now waits for its client (a request head, a body, a TLS handshake).
    pub(crate) fn waiting(&self) {
        self.waiting_since.store(self.now_ms(), Ordering::Relaxed);
    }

    /// The server is working on the request.
    pub(crate) fn working(&self) {
        self.waiting_since.store(0, Ordering::Relaxed);
    }

    pub(crate) fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Resolves once the connection is evicted.
    pub(crate) async fn evicted(&self) {
        if !self.is_evicted() {
            self.notify.notified().await;
        }
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::Relaxed);
        self.notify.notify_one();
    }
}

#[derive(Debug)]
pub(crate) struct ConnTable {
    epoch: Instant,
    next_id: AtomicU64,
    slots: Mutex<HashMap<u64, Arc<ConnSlot>>>,
}

/// Holds a connection's place in the table; gives it back on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    table: Arc<ConnTable>,
    id: u64,
    pub(crate) slot: Arc<ConnSlot>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.table
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

impl ConnTable {
    pub(crate) fn new() -> ConnTable {
        ConnTable {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub(crate) fn register(self: &Arc<Self>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(ConnSlot {
            epoch: self.epoch,
            waiting_since: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            notify: Notify::new(),
        });
        slot.waiting();
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, slot.clone());
        Registration {
            table: self.clone(),
            id,
            slot,
        }
    }

    /// Evicts the connection waiting on its client the longest, if it has waited at least
    /// `min_wait`; says whether one was.
    pub(crate) fn evict_longest_waiting(&self, min_wait: Duration) -> bool {
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let min_wait = min_wait.as_millis() as u64;
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let victim = slots
            .values()
            .filter(|s| !s.is_evicted())
            .filter_map(|s| {
                let since = s.waiting_since.load(Ordering::Relaxed);
                (since != 0 && now.saturating_sub(since) >= min_wait).then_some((since, s))
            })
            .min_by_key(|(since, _)| *since);
        match victim {
            Some((_, s)) => {
                s.evict();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_waiter_goes_first_and_busy_ones_never() {
        let t = Arc::new(ConnTable::new());
        let old = t.register();
        std::thread::sleep(Duration::from_millis(30));
        let newer = t.register();
        let busy = t.register();
        busy.slot.working();
        assert_eq!(t.len(), 3);
        assert!(!t.evict_longest_waiting(Duration::from_secs(60)));
        assert!(t.evict_longest_waiting(Duration::ZERO));
        assert!(old.slot.is_evicted() && !newer.slot.is_evicted());
        assert!(t.evict_longest_waiting(Duration::ZERO));
        assert!(newer.slot.is_evicted());
        assert!(
            !t.evict_longest_waiting(Duration::ZERO),
            "the busy one stays"
        );
        drop(old);
        assert_eq!(t.len(), 2);
    }
}
