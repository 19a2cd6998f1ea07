//! The persistent event queue: one file per unconfirmed event under `events/`, written through
//! a work file and a rename. A finished upload's event is written before the upload becomes a
//! finished file (both durable steps of one FinishUpload), and an event whose file never got
//! finished is dropped at start: after a crash at any point, every finished file has exactly one
//! event, confirmed or not.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::layout;
use crate::store::temp::TempDir;

/// One queued event, as stored in `events/{seq:020}.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredEvent {
    pub seq: u64,
    pub msg_handle: String,
    pub secret_id: String,
    pub created_unix: i64,
    /// The finished file the event announces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    pub event_content: Value,
}

/// An event confirmed since start, for the inspector.
#[derive(Debug, Clone)]
pub(crate) struct ConfirmedView {
    pub seq: u64,
    pub file_id: Option<String>,
    pub secret_id: String,
    pub confirmed_unix: i64,
}

const CONFIRMED_SHOWN: usize = 50;

#[derive(Debug, Default)]
struct QueueInner {
    /// Oldest first.
    events: BTreeMap<u64, StoredEvent>,
    by_handle: HashMap<String, u64>,
    /// Handles written but not yet published (their FinishUpload is still committing).
    reserved: HashMap<String, u64>,
    next_seq: u64,
    /// How many PullEvent answers carried each event.
    pulled: HashMap<u64, u64>,
    confirmed: VecDeque<ConfirmedView>,
}

#[derive(Debug)]
pub(crate) struct EventQueue {
    dir: PathBuf,
    tmp: TempDir,
    inner: Mutex<QueueInner>,
}

impl EventQueue {
    /// Reads back `root/events`. Event files that do not parse, and events whose file is not
    /// finished (`is_finished_file` says no: the emulator stopped between writing the event and
    /// finishing the file), are removed; files with other names are left alone.
    pub(crate) fn open(
        root: &Path,
        is_finished_file: &dyn Fn(&str) -> bool,
        warn: &dyn Fn(String),
    ) -> io::Result<EventQueue> {
        let dir = root.join(layout::EVENTS);
        let mut inner = QueueInner::default();
        for e in fs::read_dir(&dir)? {
            let e = e?;
            let path = e.path();
            let Some(seq) = e
                .file_name()
                .to_str()
                .and_then(layout::parse_event_file_name)
            else {
                warn(format!("{}: not an event file, left alone", path.display()));
                continue;
            };
            // Never reuse a name that is taken, whatever is there.
            inner.next_seq = inner.next_seq.max(seq + 1);
            let event: Option<StoredEvent> = match layout::kind(&path)? {
                layout::Kind::File => fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok()),
                _ => {
                    warn(format!(
                        "{}: not a regular file, left alone",
                        path.display()
                    ));
                    continue;
                }
            };
            match event {
                Some(ev)
                    if ev.seq == seq
                        && !ev.msg_handle.is_empty()
                        && ev.file_id.as_deref().is_none_or(is_finished_file) =>
                {
                    inner.by_handle.insert(ev.msg_handle.clone(), ev.seq);
                    inner.events.insert(ev.seq, ev);
                }
                _ => layout::remove_file_if_regular(&path)?,
            }
        }
        Ok(EventQueue {
            tmp: TempDir::new(root.join(layout::TMP)),
            dir,
            inner: Mutex::new(inner),
        })
    }

    fn inner(&self) -> MutexGuard<'_, QueueInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes an event to disk without making it visible: [`EventQueue::publish`] does that once
    /// the file it announces is finished, [`EventQueue::discard`] if finishing failed.
    pub(crate) fn prepare(
        &self,
        secret_id: &str,
        file_id: &str,
        content: Value,
        now_unix: i64,
    ) -> io::Result<StoredEvent> {
        let ev = {
            let mut inner = self.inner();
            let mut rng = rand::rng();
            let msg_handle = loop {
                let r: [u8; 16] = rng.random();
                let h = layout::hex(&r);
                if !inner.by_handle.contains_key(&h) && !inner.reserved.contains_key(&h) {
                    break h;
                }
            };
            let seq = inner.next_seq;
            inner.next_seq += 1;
            inner.reserved.insert(msg_handle.clone(), seq);
            StoredEvent {
                seq,
                msg_handle,
                secret_id: secret_id.to_string(),
                created_unix: now_unix,
                file_id: Some(file_id.to_string()),
                event_content: content,
            }
        };
        let written = self
            .tmp
            .write_json_atomic(&self.dir.join(layout::event_file_name(ev.seq)), &ev);
        if let Err(e) = written {
            self.inner().reserved.remove(&ev.msg_handle);
            return Err(e);
        }
        Ok(ev)
    }

    /// Makes a prepared event visible to PullEvent.
    pub(crate) fn publish(&self, ev: StoredEvent) {
        let mut inner = self.inner();
        inner.reserved.remove(&ev.msg_handle);
        inner.by_handle.insert(ev.msg_handle.clone(), ev.seq);
        inner.events.insert(ev.seq, ev);
    }

    /// Removes a prepared event whose file could not be finished.
    pub(crate) fn discard(&self, ev: &StoredEvent) {
        let _ = layout::remove_file_if_regular(&self.dir.join(layout::event_file_name(ev.seq)));
        self.inner().reserved.remove(&ev.msg_handle);
    }

    /// The oldest unconfirmed events of `secret_id`, at most `max`. They stay queued.
    pub(crate) fn pull(&self, secret_id: &str, max: usize) -> Vec<StoredEvent> {
        let mut inner = self.inner();
        let got: Vec<StoredEvent> = inner
            .events
            .values()
            .filter(|e| e.secret_id == secret_id)
            .take(max)
            .cloned()
            .collect();
        for e in &got {
            *inner.pulled.entry(e.seq).or_default() += 1;
        }
        got
    }

    /// Removes the events of `secret_id` with these handles; handles that are unknown, already
    /// confirmed or another SecretId's are ignored. Returns how many were removed.
    pub(crate) fn confirm(
        &self,
        secret_id: &str,
        handles: &[String],
        now_unix: i64,
    ) -> io::Result<u64> {
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
            layout::remove_file_if_regular(&self.dir.join(layout::event_file_name(seq)))?;
            inner.by_handle.remove(h);
            inner.pulled.remove(&seq);
            if let Some(ev) = inner.events.remove(&seq) {
                if inner.confirmed.len() == CONFIRMED_SHOWN {
                    inner.confirmed.pop_front();
                }
                inner.confirmed.push_back(ConfirmedView {
                    seq,
                    file_id: ev.file_id,
                    secret_id: ev.secret_id,
                    confirmed_unix: now_unix,
                });
            }
            removed += 1;
        }
        Ok(removed)
    }

    /// Every unconfirmed event with how many pulls carried it, and the latest confirmed ones.
    pub(crate) fn view(&self) -> (Vec<(StoredEvent, u64)>, Vec<ConfirmedView>) {
        let inner = self.inner();
        let pending = inner
            .events
            .values()
            .map(|e| (e.clone(), inner.pulled.get(&e.seq).copied().unwrap_or(0)))
            .collect();
        (pending, inner.confirmed.iter().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn open(root: &Path, finished: &[&str]) -> EventQueue {
        let finished: Vec<String> = finished.iter().map(|s| s.to_string()).collect();
        EventQueue::open(root, &|id| finished.iter().any(|f| f == id), &|_| {}).unwrap()
    }

    fn push(q: &EventQueue, id: &str, file: &str, n: u64) -> StoredEvent {
        let ev = q.prepare(id, file, json!({ "n": n }), 0).unwrap();
        q.publish(ev.clone());
        ev
    }

    #[test]
    fn queue_survives_reopen_and_confirm_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        layout::prepare_root(dir.path()).unwrap();
        let files = ["f1", "f2", "f3", "f4"];
        let q = open(dir.path(), &files);
        let a = push(&q, "A", "f1", 1);
        let b = push(&q, "A", "f2", 2);
        let c = push(&q, "B", "f3", 3);
        assert_ne!(a.msg_handle, b.msg_handle);
        let pulled: Vec<u64> = q.pull("A", 16).iter().map(|e| e.seq).collect();
        assert_eq!(pulled, vec![a.seq, b.seq]);
        assert_eq!(q.pull("A", 1).len(), 1);
        // Another SecretId's handle is not confirmed.
        assert_eq!(
            q.confirm("A", std::slice::from_ref(&c.msg_handle), 0)
                .unwrap(),
            0
        );
        drop(q);
        fs::write(dir.path().join("events").join("junk.json"), b"{").unwrap();
        fs::write(
            dir.path().join("events").join(layout::event_file_name(99)),
            b"{",
        )
        .unwrap();

        let q = open(dir.path(), &files);
        assert_eq!(q.pull("A", 16).len(), 2);
        assert_eq!(q.pull("B", 16)[0].event_content, json!({"n": 3}));
        let handles = vec![a.msg_handle.clone(), "nope".to_string()];
        assert_eq!(q.confirm("A", &handles, 0).unwrap(), 1);
        assert_eq!(q.confirm("A", &handles, 0).unwrap(), 0);
        let d = push(&q, "A", "f4", 4);
        assert!(d.seq > c.seq, "sequence numbers continue after a restart");
        drop(q);

        // The broken event file (an emulator name) is gone, the foreign one stays.
        let mut names: Vec<String> = fs::read_dir(dir.path().join("events"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.contains(&"junk.json".to_string()));
        let q = open(dir.path(), &files);
        let left: Vec<Value> = q
            .pull("A", 16)
            .into_iter()
            .map(|e| e.event_content)
            .collect();
        assert_eq!(left, vec![json!({"n": 2}), json!({"n": 4})]);
    }

    #[test]
    fn an_event_whose_file_was_never_finished_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        layout::prepare_root(dir.path()).unwrap();
        let q = open(dir.path(), &[]);
        let ev = q.prepare("A", "f1", json!({}), 0).unwrap();
        assert!(q.pull("A", 16).is_empty(), "prepared is not yet visible");
        drop(q);
        let q = open(dir.path(), &[]);
        assert!(q.pull("A", 16).is_empty());
        assert!(
            !dir.path()
                .join("events")
                .join(layout::event_file_name(ev.seq))
                .exists()
        );
    }
}
