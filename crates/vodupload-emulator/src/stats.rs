//! Counters, and the log of recent requests the inspector shows (never a query string, a key or
//! a signature: method, path, action, SecretId, fileSha, result).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::events::NotifyCounters;

/// A snapshot of the emulator's counters.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Stats {
    /// Every HTTP request, whatever its path.
    pub requests: u64,
    pub init_calls: u64,
    pub part_calls: u64,
    pub finish_calls: u64,
    pub pull_calls: u64,
    pub confirm_calls: u64,
    /// "Video Upload Completed" events queued (one per file finished).
    pub events_created: u64,
    /// Events removed by ConfirmEvent.
    pub events_confirmed: u64,
    /// POSTs to the notify URL, retries included.
    pub notify_attempts: u64,
    /// Events the notify URL accepted (a 2xx answer).
    pub notify_delivered: u64,
    /// Events whose every attempt failed.
    pub notify_failed: u64,
    /// Parts accepted and stored (a re-sent part counts again).
    pub parts_stored: u64,
    /// When the first and the last of them were accepted, Unix milliseconds (0: none yet): the
    /// rate the service took parts at is `parts_stored` over that span.
    pub first_part_unix_ms: u64,
    pub last_part_unix_ms: u64,
    pub part_bytes_stored: u64,
    pub faults_injected: u64,
    /// Protocol answers with an error code (negative, or 4000 and up), injected `-10004`s and
    /// HTTP 502s included (not 404s of unknown paths or files).
    pub errors_returned: u64,
    /// Calls refused for their SecretId's call rate (4400).
    pub rate_limited: u64,
    /// Calls refused because their Signature was already used (4500).
    pub replays_refused: u64,
    /// Calls accepted with a Timestamp in milliseconds instead of seconds (as the provider's
    /// Node.js SDK sends it; the service reads both). A client of this protocol should keep it 0.
    pub millisecond_timestamps: u64,
    pub connections_accepted: u64,
    /// Connections closed to make room for a new one (the connection limit was reached).
    pub connections_evicted: u64,
    /// Connections answered 503 at once (the limit reached, none to evict).
    pub connections_refused: u64,
    /// Requests whose head or body did not arrive within the time limits.
    pub requests_timed_out: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub init_calls: AtomicU64,
    pub part_calls: AtomicU64,
    pub finish_calls: AtomicU64,
    pub pull_calls: AtomicU64,
    pub confirm_calls: AtomicU64,
    pub events_created: AtomicU64,
    pub events_confirmed: AtomicU64,
    pub parts_stored: AtomicU64,
    /// 0 until the first part.
    pub first_part_unix_ms: AtomicU64,
    pub last_part_unix_ms: AtomicU64,
    pub part_bytes_stored: AtomicU64,
    pub faults_injected: AtomicU64,
    pub errors_returned: AtomicU64,
    pub rate_limited: AtomicU64,
    pub replays_refused: AtomicU64,
    pub millisecond_timestamps: AtomicU64,
    pub connections_accepted: AtomicU64,
    pub connections_evicted: AtomicU64,
    pub connections_refused: AtomicU64,
    pub requests_timed_out: AtomicU64,
    /// Injected faults by kind: fail, drop, http502, truncate, slow.
    pub faults_by_kind: [AtomicU64; 5],
}

impl Counters {
    /// Counts a stored part and when it was stored.
    pub(crate) fn part_stored(&self, unix_ms: u64) {
        bump(&self.parts_stored);
        // Starts at 0 (Default): the first store sets it from 0 to its time, as from "none".
        let _ = self
            .first_part_unix_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (t == 0 || unix_ms < t).then_some(unix_ms)
            });
        self.last_part_unix_ms.fetch_max(unix_ms, Ordering::Relaxed);
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self, notify: &NotifyCounters) -> Stats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            requests: g(&self.requests),
            init_calls: g(&self.init_calls),
            part_calls: g(&self.part_calls),
            finish_calls: g(&self.finish_calls),
            pull_calls: g(&self.pull_calls),
            confirm_calls: g(&self.confirm_calls),
            events_created: g(&self.events_created),
            events_confirmed: g(&self.events_confirmed),
            notify_attempts: g(&notify.attempts),
            notify_delivered: g(&notify.delivered),
            notify_failed: g(&notify.failed),
            parts_stored: g(&self.parts_stored),
            first_part_unix_ms: g(&self.first_part_unix_ms),
            last_part_unix_ms: g(&self.last_part_unix_ms),
            part_bytes_stored: g(&self.part_bytes_stored),
            faults_injected: g(&self.faults_injected),
            errors_returned: g(&self.errors_returned),
            rate_limited: g(&self.rate_limited),
            replays_refused: g(&self.replays_refused),
            millisecond_timestamps: g(&self.millisecond_timestamps),
            connections_accepted: g(&self.connections_accepted),
            connections_evicted: g(&self.connections_evicted),
            connections_refused: g(&self.connections_refused),
            requests_timed_out: g(&self.requests_timed_out),
        }
    }

    pub(crate) fn faults_by_kind(&self) -> [(&'static str, u64); 5] {
        let names = ["fail", "drop", "http502", "truncate", "slow"];
        std::array::from_fn(|i| (names[i], self.faults_by_kind[i].load(Ordering::Relaxed)))
    }
}

/// One line of the recent-requests log.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestRecord {
    pub at_unix_ms: u64,
    pub method: String,
    pub path: String,
    pub action: String,
    pub secret_id: String,
    pub file_sha: String,
    /// The protocol code, or the HTTP status when there was no protocol answer.
    pub result: String,
    pub ms: u64,
    pub fault: String,
}

impl RequestRecord {
    pub(crate) fn new(method: &str, path: &str) -> RequestRecord {
        RequestRecord {
            at_unix_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            method: method.to_string(),
            path: path.to_string(),
            action: String::new(),
            secret_id: String::new(),
            file_sha: String::new(),
            result: String::new(),
            ms: 0,
            fault: String::new(),
        }
    }
}

/// The latest requests, newest last.
#[derive(Debug, Default)]
pub(crate) struct RecentRequests {
    inner: Mutex<VecDeque<RequestRecord>>,
}

pub(crate) const RECENT_KEPT: usize = 200;

impl RecentRequests {
    pub(crate) fn push(&self, r: RequestRecord) {
        let mut q = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() == RECENT_KEPT {
            q.pop_front();
        }
        q.push_back(r);
    }

    pub(crate) fn list(&self) -> Vec<RequestRecord> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}
