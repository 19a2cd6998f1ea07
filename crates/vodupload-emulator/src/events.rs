//! Event notification "Video Upload Completed" (PROTOCOL.md): the event a finished upload
//! creates, the reliable queue served by PullEvent / ConfirmEvent, and the callback POSTer.
//!
//! The queue keeps one file per event under `events/` in the state directory, written to a
//! temporary name and renamed into place, so a restarted emulator serves every unconfirmed event
//! again; ConfirmEvent deletes the file. Events belong to the SecretId that finished the upload:
//! each credential is its own app.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// PullEvent answers at most this many events at once (the service's own batch size).
pub(crate) const MAX_PULL: usize = 16;
/// ConfirmEvent takes at most this many `msgHandle.N`.
pub(crate) const MAX_CONFIRM: usize = 16;
/// The callback is given this long per attempt (PROTOCOL.md: 5 s).
pub(crate) const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts after the first (PROTOCOL.md: 2 retries).
pub(crate) const NOTIFY_RETRIES: u32 = 2;
/// Pause between two attempts.
pub(crate) const NOTIFY_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The JSON of a "Video Upload Completed" event, as PROTOCOL.md gives it.
pub(crate) fn new_file_upload(file_id: &str, file_url: &str, file_name: &str) -> Value {
    json!({
        "version": "4.0",
        "eventType": "NewFileUpload",
        "data": {
            "fileId": file_id,
            "fileUrl": file_url,
            "fileName": file_name,
            "sourceType": "ServerUpload",
            "sourceContext": "",
            "transcodeTaskId": "",
            "procedureTaskId": "",
        }
    })
}

/// One queued event, as stored in `events/{seq:020}.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredEvent {
    pub seq: u64,
    pub msg_handle: String,
    pub secret_id: String,
    pub created_unix: i64,
    pub event_content: Value,
}

#[derive(Debug, Default)]
struct QueueInner {
    /// Oldest first.
    events: BTreeMap<u64, StoredEvent>,
    by_handle: HashMap<String, u64>,
    next_seq: u64,
}

/// The persistent event queue.
#[derive(Debug)]
pub(crate) struct EventQueue {
    dir: PathBuf,
    inner: Mutex<QueueInner>,
    tmp_counter: AtomicU64,
}

const TMP_PREFIX: &str = ".tmp-";

fn event_file_name(seq: u64) -> String {
    format!("{seq:020}.json")
}

impl EventQueue {
    /// Opens (creating) `root/events` and reads back the events it holds. Leftover temporary
    /// files and files that do not parse are removed.
    pub(crate) fn open(root: &Path) -> io::Result<EventQueue> {
        let dir = root.join("events");
        fs::create_dir_all(&dir)?;
        let mut inner = QueueInner::default();
        for e in fs::read_dir(&dir)? {
            let path = e?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let event: Option<StoredEvent> = if name.starts_with(TMP_PREFIX) {
                None
            } else {
                fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
            };
            match event {
                Some(ev) if name == event_file_name(ev.seq) && !ev.msg_handle.is_empty() => {
                    inner.next_seq = inner.next_seq.max(ev.seq + 1);
                    inner.by_handle.insert(ev.msg_handle.clone(), ev.seq);
                    inner.events.insert(ev.seq, ev);
                }
                _ => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        Ok(EventQueue {
            dir,
            inner: Mutex::new(inner),
            tmp_counter: AtomicU64::new(0),
        })
    }

    fn inner(&self) -> MutexGuard<'_, QueueInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an event for `secret_id`, on disk before it is visible.
    pub(crate) fn push(&self, secret_id: &str, content: Value) -> io::Result<StoredEvent> {
        let mut rng = rand::rng();
        let mut inner = self.inner();
        let msg_handle = loop {
            let r: [u8; 16] = rng.random();
            let h: String = r.iter().map(|b| format!("{b:02x}")).collect();
            if !inner.by_handle.contains_key(&h) {
                break h;
            }
        };
        let ev = StoredEvent {
            seq: inner.next_seq,
            msg_handle,
            secret_id: secret_id.to_string(),
            created_unix: crate::store::now_unix(),
            event_content: content,
        };
        let bytes = serde_json::to_vec_pretty(&ev).map_err(io::Error::other)?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!("{TMP_PREFIX}{}-{n}", std::process::id()));
        let written = fs::write(&tmp, bytes)
            .and_then(|()| fs::rename(&tmp, self.dir.join(event_file_name(ev.seq))));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        inner.next_seq += 1;
        inner.by_handle.insert(ev.msg_handle.clone(), ev.seq);
        inner.events.insert(ev.seq, ev.clone());
        Ok(ev)
    }

    /// The oldest unconfirmed events of `secret_id`, at most `max`. They stay queued.
    pub(crate) fn pull(&self, secret_id: &str, max: usize) -> Vec<StoredEvent> {
        self.inner()
            .events
            .values()
            .filter(|e| e.secret_id == secret_id)
            .take(max)
            .cloned()
            .collect()
    }

    /// Removes the events of `secret_id` with these handles; handles that are unknown, already
    /// confirmed or another SecretId's are ignored. Returns how many were removed.
    pub(crate) fn confirm(&self, secret_id: &str, handles: &[String]) -> io::Result<u64> {
        let mut inner = self.inner();
        let mut removed = 0;
        for h in handles {
            let Some(&seq) = inner.by_handle.get(h) else {
                continue;
            };
            if inner
                .events
                .get(&seq)
                .is_none_or(|e| e.secret_id != secret_id)
            {
                continue;
            }
            match fs::remove_file(self.dir.join(event_file_name(seq))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            inner.by_handle.remove(h);
            inner.events.remove(&seq);
            removed += 1;
        }
        Ok(removed)
    }
}

/// Counters of the callback deliveries, shared with the delivery thread.
#[derive(Debug, Default)]
pub(crate) struct NotifyCounters {
    pub attempts: AtomicU64,
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
}

/// POSTs events to the callback URL from its own thread, one at a time, so a slow or dead
/// receiver never holds up an answer. Dropping it (the emulator stopping) ends the thread once
/// the attempt in progress is over; deliveries not done by then are dropped (the events stay in
/// the PullEvent queue).
#[derive(Debug)]
pub(crate) struct Notifier {
    tx: mpsc::Sender<Vec<u8>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Notifier {
    pub(crate) fn start(
        url: String,
        quiet: bool,
        counters: Arc<NotifyCounters>,
    ) -> io::Result<Notifier> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(NOTIFY_TIMEOUT))
            // A callback on this machine must not go through a proxy from the environment.
            .proxy(None)
            .user_agent(concat!("vodupload-emulator/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        let shown = redact_url(&url);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("vodupload-emulator-notify".into())
            .spawn(move || {
                while let Ok(body) = rx.recv() {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    deliver(&agent, &url, &shown, &body, quiet, &counters, &stopped);
                }
            })?;
        Ok(Notifier { tx, stop })
    }

    /// Queues one delivery; never blocks.
    pub(crate) fn send(&self, body: Vec<u8>) {
        let _ = self.tx.send(body);
    }
}

#[allow(clippy::too_many_arguments)]
fn deliver(
    agent: &ureq::Agent,
    url: &str,
    shown: &str,
    body: &[u8],
    quiet: bool,
    counters: &NotifyCounters,
    stop: &AtomicBool,
) {
    let attempts = 1 + NOTIFY_RETRIES;
    for attempt in 1..=attempts {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        counters.attempts.fetch_add(1, Ordering::Relaxed);
        let outcome = agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body);
        let problem = match outcome {
            // The answer's body is ignored; only its status says whether it arrived.
            Ok(resp) if resp.status().is_success() => {
                counters.delivered.fetch_add(1, Ordering::Relaxed);
                report(
                    quiet,
                    false,
                    &format!("event notification POSTed to {shown} (attempt {attempt})"),
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
                quiet,
                true,
                &format!(
                    "event notification to {shown} failed ({problem}), attempt {attempt}/{attempts}; retrying"
                ),
            );
            let until = std::time::Instant::now() + NOTIFY_RETRY_DELAY;
            while std::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
        } else {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            report(
                quiet,
                true,
                &format!(
                    "event notification to {shown} failed ({problem}) after {attempts} attempts; the event stays available to PullEvent"
                ),
            );
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
    fn queue_survives_reopen_and_confirm_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let q = EventQueue::open(dir.path()).unwrap();
        let a = q.push("A", json!({"n": 1})).unwrap();
        let b = q.push("A", json!({"n": 2})).unwrap();
        let c = q.push("B", json!({"n": 3})).unwrap();
        assert_ne!(a.msg_handle, b.msg_handle);
        let pulled: Vec<u64> = q.pull("A", 16).iter().map(|e| e.seq).collect();
        assert_eq!(pulled, vec![a.seq, b.seq]);
        assert_eq!(q.pull("A", 1).len(), 1);
        // Another SecretId's handle is not confirmed.
        assert_eq!(
            q.confirm("A", std::slice::from_ref(&c.msg_handle)).unwrap(),
            0
        );
        drop(q);
        fs::write(dir.path().join("events").join(".tmp-1-1"), b"{").unwrap();
        fs::write(dir.path().join("events").join("junk.json"), b"{").unwrap();

        let q = EventQueue::open(dir.path()).unwrap();
        assert_eq!(q.pull("A", 16).len(), 2);
        assert_eq!(q.pull("B", 16)[0].event_content, json!({"n": 3}));
        let handles = vec![a.msg_handle.clone(), "nope".to_string()];
        assert_eq!(q.confirm("A", &handles).unwrap(), 1);
        assert_eq!(q.confirm("A", &handles).unwrap(), 0);
        let d = q.push("A", json!({"n": 4})).unwrap();
        assert!(d.seq > c.seq, "sequence numbers continue after a restart");
        drop(q);

        let names: Vec<String> = fs::read_dir(dir.path().join("events"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        let q = EventQueue::open(dir.path()).unwrap();
        let left: Vec<Value> = q
            .pull("A", 16)
            .into_iter()
            .map(|e| e.event_content)
            .collect();
        assert_eq!(left, vec![json!({"n": 2}), json!({"n": 4})]);
    }

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
