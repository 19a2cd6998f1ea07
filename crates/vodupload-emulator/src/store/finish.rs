//! FinishUpload's durable step. In order:
//! 1. all parts present and the SHA-1 right (most of it was hashed as the parts arrived);
//! 2. the "upload completed" event written to `events/` (not yet visible);
//! 3. the file's metadata written into the session directory;
//! 4. the session directory renamed to `files/{fileId}`: the commit point;
//! 5. the file and its event made visible.
//!
//! Killed before 4, the session is intact on restart (its `file.json` is removed, and the event,
//! whose file does not exist, is dropped); killed after, the file and its event are both there.

use std::fs;
use std::io;
use std::sync::Arc;

use serde_json::Value;
use sha1::Digest as _;

use super::Store;
use super::files::{FileMeta, FileRecord};
use super::layout;
use super::session::{Key, Session, SessionMeta, read_exact_file};
use crate::events::{EventQueue, StoredEvent};

/// What FinishUpload found or did.
#[derive(Debug)]
pub(crate) enum FinishOutcome {
    Done {
        file: Arc<FileRecord>,
        event: StoredEvent,
    },
    /// Finished before: the same file, no new event.
    AlreadyDone(Arc<FileRecord>),
    NoSession,
    /// Counted, never listed: a file of billions of parts costs nothing here.
    Missing {
        missing: u64,
        total: u64,
        first_offset: u64,
    },
    /// The parts do not make the announced file; they were deleted.
    ShaMismatch {
        actual: String,
    },
}

impl Store {
    /// Call with the session key's lock held; blocking. `event_content` makes the event of the
    /// file from its id.
    pub(crate) fn finish(
        &self,
        key: &Key,
        events: &EventQueue,
        event_content: &dyn Fn(&str, &SessionMeta) -> Value,
        now_unix: i64,
    ) -> io::Result<FinishOutcome> {
        if let Some(f) = self.finished(key) {
            return Ok(FinishOutcome::AlreadyDone(f));
        }
        let Some(session) = self.session(key) else {
            return Ok(FinishOutcome::NoSession);
        };
        let mut h = session.hasher();
        let meta = {
            let mut st = session.state();
            let total = st.meta.part_count();
            let stored = st.parts.len() as u64;
            if stored < total {
                let first = (0..total).find(|i| !st.parts.contains_key(i)).unwrap_or(0);
                return Ok(FinishOutcome::Missing {
                    missing: total - stored,
                    total,
                    first_offset: first * st.meta.data_size,
                });
            }
            if st.rehash {
                st.rehash = false;
                h.reset();
            }
            // From here on no part can be added or replaced: the set hashed is the set kept.
            st.closed = true;
            st.meta.clone()
        };
        let result = self.finish_closed(&session, &mut h, &meta, events, event_content, now_unix);
        if !matches!(result, Ok(FinishOutcome::Done { .. })) {
            session.state().closed = false;
        }
        result
    }

    fn finish_closed(
        &self,
        session: &Arc<Session>,
        h: &mut super::session::Hasher,
        meta: &SessionMeta,
        events: &EventQueue,
        event_content: &dyn Fn(&str, &SessionMeta) -> Value,
        now_unix: i64,
    ) -> io::Result<FinishOutcome> {
        let total = meta.part_count();
        let parts_dir = session.parts_dir();
        let mut buf = Vec::new();
        while h.next < total {
            let offset = h.next * meta.data_size;
            let md5 = session.state().parts[&h.next];
            read_exact_file(
                &parts_dir.join(layout::part_name(offset, &md5)),
                meta.part_len(offset),
                &mut buf,
            )?;
            h.sha.update(&buf[..]);
            h.next += 1;
        }
        let actual = layout::hex(&h.sha.clone().finalize());
        if actual != meta.file_sha {
            let mut st = session.state();
            for (&i, md5) in &st.parts {
                layout::remove_file_if_regular(
                    &parts_dir.join(layout::part_name(i * meta.data_size, md5)),
                )?;
            }
            st.parts.clear();
            st.stored_bytes = 0;
            h.reset();
            return Ok(FinishOutcome::ShaMismatch { actual });
        }
        self.hook.at("finish:verified");

        let file_id = self.new_file_id();
        let event = events.prepare(
            &meta.secret_id,
            &file_id,
            event_content(&file_id, meta),
            now_unix,
        )?;
        self.hook.at("finish:event-written");
        let dest = self.root.join(layout::FILES).join(&file_id);
        let fm = FileMeta {
            file_id: file_id.clone(),
            finished_unix: now_unix,
            session: meta.clone(),
        };
        let committed = self
            .tmp
            .write_json_atomic(&session.dir.join(layout::FILE_JSON), &fm)
            .and_then(|()| {
                self.hook.at("finish:file-meta-written");
                fs::rename(&session.dir, &dest)
            });
        if let Err(e) = committed {
            let _ = layout::remove_file_if_regular(&session.dir.join(layout::FILE_JSON));
            events.discard(&event);
            return Err(e);
        }
        self.hook.at("finish:committed");

        let part_md5 = {
            let st = session.state();
            (0..total).map(|i| st.parts[&i]).collect()
        };
        let file = Arc::new(FileRecord::new(fm, dest, part_md5));
        {
            let mut index = self.index();
            index.finished.insert(session.key.clone(), file.clone());
            index.files.insert(file_id, file.clone());
            index.sessions.remove(&session.key);
        }
        events.publish(event.clone());
        self.hook.at("finish:published");
        Ok(FinishOutcome::Done { file, event })
    }

    /// A new fileId: 19 decimal digits, like the service's.
    fn new_file_id(&self) -> String {
        use rand::Rng as _;
        let mut rng = rand::rng();
        loop {
            let id = rng
                .random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000u64)
                .to_string();
            let dir = self.root.join(layout::FILES).join(&id);
            if !self.has_file(&id) && matches!(layout::kind(&dir), Ok(layout::Kind::Missing)) {
                return id;
            }
        }
    }
}
