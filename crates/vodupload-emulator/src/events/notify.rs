//! POSTs each event to the callback URL from its own thread, one at a time, so a slow or dead
//! receiver never holds up an answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::{NOTIFY_RETRIES, NOTIFY_RETRY_DELAY, NOTIFY_TIMEOUT};

/// Counters of the callback deliveries, shared with the delivery thread.
#[derive(Debug, Default)]
pub(crate) struct NotifyCounters {
    pub attempts: AtomicU64,
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
}

/// Where the delivery of one event stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
    Queued,
    Delivered { attempts: u32 },
    Failed { attempts: u32, problem: String },
}

/// The delivery state of each event sequence number, for the inspector (bounded: the oldest
/// entries go first).
#[derive(Debug, Default)]
pub(crate) struct Deliveries {
    inner: Mutex<HashMap<u64, Delivery>>,
}

const DELIVERIES_KEPT: usize = 10_000;

impl Deliveries {
    fn set(&self, seq: u64, d: Delivery) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= DELIVERIES_KEPT
            && !m.contains_key(&seq)
            && let Some(&oldest) = m.keys().min()
        {
            m.remove(&oldest);
        }
        m.insert(seq, d);
    }

    pub(crate) fn get(&self, seq: u64) -> Option<Delivery> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&seq)
            .cloned()
    }
}

/// The delivery thread. Dropping it (the emulator stopping) ends the thread once the attempt in
/// progress is over; deliveries not done by then are dropped (the events stay in the PullEvent
/// queue).
#[derive(Debug)]
pub(crate) struct Notifier {
    tx: mpsc::Sender<(u64, Vec<u8>)>,
    stop: Arc<AtomicBool>,
    deliveries: Arc<Deliveries>,
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What a delivery thread needs besides its jobs.
struct Deliverer {
    agent: ureq::Agent,
    url: String,
    shown: String,
    quiet: bool,
    counters: Arc<NotifyCounters>,
    deliveries: Arc<Deliveries>,
    stop: Arc<AtomicBool>,
}

impl Notifier {
    pub(crate) fn start(
        url: String,
        quiet: bool,
        counters: Arc<NotifyCounters>,
        deliveries: Arc<Deliveries>,
    ) -> std::io::Result<Notifier> {
        let (tx, rx) = mpsc::channel::<(u64, Vec<u8>)>();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(NOTIFY_TIMEOUT))
            // A callback on this machine must not go through a proxy from the environment.
            .proxy(None)
            .user_agent(concat!("vodupload-emulator/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        let stop = Arc::new(AtomicBool::new(false));
        let d = Deliverer {
            agent,
            shown: redact_url(&url),
            url,
            quiet,
            counters,
            deliveries: deliveries.clone(),
            stop: stop.clone(),
        };
        std::thread::Builder::new()
            .name("vodupload-emulator-notify".into())
            .spawn(move || {
                while let Ok((seq, body)) = rx.recv() {
                    if d.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    d.deliver(seq, &body);
                }
            })?;
        Ok(Notifier {
            tx,
            stop,
            deliveries,
        })
    }

    /// Queues one delivery; never blocks.
    pub(crate) fn send(&self, seq: u64, body: Vec<u8>) {
        self.deliveries.set(seq, Delivery::Queued);
        let _ = self.tx.send((seq, body));
    }
}

impl Deliverer {
    fn deliver(&self, seq: u64, body: &[u8]) {
        let attempts = 1 + NOTIFY_RETRIES;
        for attempt in 1..=attempts {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            self.counters.attempts.fetch_add(1, Ordering::Relaxed);
            let outcome = self
                .agent
                .post(&self.url)
                .header("Content-Type", "application/json")
                .send(body);
            let problem = match outcome {
                // The answer's body is ignored; only its status says whether it arrived.
                Ok(resp) if resp.status().is_success() => {
                    self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                    self.deliveries
                        .set(seq, Delivery::Delivered { attempts: attempt });
                    report(
                        self.quiet,
                        false,
                        &format!(
                            "event notification POSTed to {} (attempt {attempt})",
                            self.shown
                        ),
                    );
                    return;
                }
                Ok(resp) => format!("HTTP {}", resp.status().as_u16()),
                Err(ureq::Error::Timeout(_)) => {
                    format!("no answer within {} s", NOTIFY_TIMEOUT.as_secs())
                }
                Err(e) => e.to_string(),
            };
            if attempt < attempts {
                report(
                    self.quiet,
                    true,
                    &format!(
                        "event notification to {} failed ({problem}), attempt {attempt}/{attempts}; retrying",
                        self.shown
                    ),
                );
                let until = std::time::Instant::now() + NOTIFY_RETRY_DELAY;
                while std::time::Instant::now() < until && !self.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            } else {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                report(
                    self.quiet,
                    true,
                    &format!(
                        "event notification to {} failed ({problem}) after {attempts} attempts; the event stays available to PullEvent",
                        self.shown
                    ),
                );
                self.deliveries
                    .set(seq, Delivery::Failed { attempts, problem });
            }
        }
    }
}

/// Verbose: stderr. Quiet (library use): through `log`.
fn report(quiet: bool, problem: bool, line: &str) {
    match (quiet, problem) {
        (false, _) => eprintln!("{line}"),
        (true, true) => log::warn!("{line}"),
        (true, false) => log::debug!("{line}"),
    }
}

/// The callback URL without its query string or user info (which may carry a token), for logs.
pub(crate) fn redact_url(url: &str) -> String {
    match url.parse::<ureq::http::Uri>() {
        Ok(u) => format!(
            "{}://{}{}",
            u.scheme_str().unwrap_or("http"),
            u.authority()
                .map(|a| a.as_str().rsplit('@').next().unwrap_or("").to_string())
                .unwrap_or_default(),
            u.path()
        ),
        Err(_) => "(the callback URL)".to_string(),
    }
}

/// Checks a callback URL: http or https, with a host, without user info.
pub(crate) fn check_notify_url(url: &str) -> Result<(), String> {
    let u: ureq::http::Uri = url
        .parse()
        .map_err(|_| format!("the notify URL {:?} does not parse", redact_url(url)))?;
    match u.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(format!(
                "the notify URL {} must start with http:// or https://",
                redact_url(url)
            ));
        }
    }
    match u.authority() {
        Some(a) if !a.host().is_empty() && !a.as_str().contains('@') => Ok(()),
        Some(_) => Err("the notify URL must have a host and no user:password@".to_string()),
        None => Err(format!("the notify URL {} has no host", redact_url(url))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_notify_url("http://127.0.0.1:9/cb?token=x").is_ok());
        assert!(check_notify_url("https://example.com/").is_ok());
        assert!(check_notify_url("ftp://example.com/").is_err());
        assert!(check_notify_url("not a url").is_err());
        assert!(check_notify_url("http://user:pw@example.com/").is_err());
        assert_eq!(
            redact_url("http://127.0.0.1:9/cb?token=secret"),
            "http://127.0.0.1:9/cb"
        );
        assert!(
            !check_notify_url("http://u:secret@h/")
                .unwrap_err()
                .contains("secret")
        );
    }
}
