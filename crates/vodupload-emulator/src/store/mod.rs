//! The emulator's persistent state: upload sessions with their parts, and finished files (the
//! event queue lives beside it, in `events`). Layout and deletion rules: [`layout`].
//!
//! Every lookup on a request's path is one hash-map access under a short lock; the disk work
//! (writing parts, hashing, finishing) is blocking and runs on the runtime's blocking pool.

mod files;
mod finish;
pub(crate) mod layout;
mod session;
pub(crate) mod temp;

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) use files::FileRecord;
pub(crate) use finish::FinishOutcome;
pub(crate) use layout::{Md5, hex, parse_md5};
pub(crate) use session::{CommitError, Key, Session, SessionMeta, SessionView};

use crate::hooks::StepHook;
use temp::TempDir;

#[derive(Debug, Default)]
struct Index {
    sessions: HashMap<Key, Arc<Session>>,
    finished: HashMap<Key, Arc<FileRecord>>,
    files: HashMap<String, Arc<FileRecord>>,
}

#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    tmp: TempDir,
    index: Mutex<Index>,
    hook: StepHook,
}

/// What InitUpload finds.
#[derive(Debug)]
pub(crate) enum InitOutcome {
    /// A new session, or one with no part yet (its parameters replaced).
    Started,
    /// Parts are stored: `(offset, length, md5)` sorted by offset, and the session's part size.
    Resume {
        data_size: u64,
        parts: Vec<(u64, u64, Md5)>,
    },
    /// The session holds another fileSize for this fileSha.
    SizeConflict {
        old: u64,
    },
    Finished(Arc<FileRecord>),
}

impl Store {
    /// Opens (creating or marking if new or empty) the state directory and reads back what it
    /// holds. `warn` hears about what was found there and left alone.
    pub(crate) fn open(
        root: &Path,
        hook: StepHook,
        warn: &dyn Fn(String),
    ) -> Result<Store, String> {
        let root = layout::prepare_root(root).map_err(|r| r.0)?;
        let store = Store {
            tmp: TempDir::new(root.join(layout::TMP)),
            root,
            index: Mutex::new(Index::default()),
            hook,
        };
        let loaded =
            layout::clean_tmp(&store.root.join(layout::TMP), warn).and_then(|()| store.load(warn));
        loaded.map_err(|e| format!("cannot read the state in {}: {e}", store.root.display()))?;
        Ok(store)
    }

    fn load(&self, warn: &dyn Fn(String)) -> io::Result<()> {
        let mut index = self.index();
        for e in fs::read_dir(self.root.join(layout::FILES))? {
            let e = e?;
            let path = e.path();
            let name = e.file_name();
            if !e.file_type()?.is_dir() || !name.to_str().is_some_and(layout::is_file_id) {
                warn(format!(
                    "{}: not a finished file, left alone",
                    path.display()
                ));
                continue;
            }
            match files::load(&path)? {
                Ok(rec) => {
                    let rec = Arc::new(rec);
                    index.finished.insert(rec.meta.key(), rec.clone());
                    index.files.insert(rec.file_id.clone(), rec);
                }
                Err(why) => warn(format!(
                    "{}: {why}; not served, left as it is",
                    path.display()
                )),
            }
        }
        for e in fs::read_dir(self.root.join(layout::SESSIONS))? {
            let e = e?;
            let path = e.path();
            let name = e.file_name();
            if !e.file_type()?.is_dir() || !name.to_str().is_some_and(layout::is_session_dir_name) {
                warn(format!(
                    "{}: not an upload session, left alone",
                    path.display()
                ));
                continue;
            }
            match session::load(&path, warn)? {
                Some(s) if !index.finished.contains_key(&s.key) => {
                    index.sessions.insert(s.key.clone(), Arc::new(s));
                }
                Some(_) => warn(format!(
                    "{}: an upload of a file already finished, left alone",
                    path.display()
                )),
                None => warn(format!(
                    "{}: no valid {}, left alone",
                    path.display(),
                    layout::SESSION_JSON
                )),
            }
        }
        Ok(())
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state directory (canonical).
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn session(&self, key: &Key) -> Option<Arc<Session>> {
        self.index().sessions.get(key).cloned()
    }

    pub(crate) fn finished(&self, key: &Key) -> Option<Arc<FileRecord>> {
        self.index().finished.get(key).cloned()
    }

    pub(crate) fn file(&self, id: &str) -> Option<Arc<FileRecord>> {
        self.index().files.get(id).cloned()
    }

    pub(crate) fn has_file(&self, id: &str) -> bool {
        self.index().files.contains_key(id)
    }

    /// A fresh work file for a part body.
    pub(crate) fn part_temp_file(&self) -> temp::TempFile {
        self.tmp.file("part")
    }

    /// InitUpload. Call with the session key's lock held; blocking.
    pub(crate) fn init(&self, meta: SessionMeta) -> io::Result<InitOutcome> {
        let key = meta.key();
        if let Some(f) = self.finished(&key) {
            return Ok(InitOutcome::Finished(f));
        }
        if let Some(s) = self.session(&key) {
            let mut st = s.state();
            if st.meta.file_size != meta.file_size {
                return Ok(InitOutcome::SizeConflict {
                    old: st.meta.file_size,
                });
            }
            if !st.parts.is_empty() {
                let m = st.meta.clone();
                let mut parts: Vec<(u64, u64, Md5)> = st
                    .parts
                    .iter()
                    .map(|(&i, md5)| {
                        let offset = i * m.data_size;
                        (offset, m.part_len(offset), *md5)
                    })
                    .collect();
                parts.sort_unstable_by_key(|p| p.0);
                return Ok(InitOutcome::Resume {
                    data_size: m.data_size,
                    parts,
                });
            }
            self.tmp
                .write_json_atomic(&s.dir.join(layout::SESSION_JSON), &meta)?;
            self.hook.at("init:session-written");
            st.meta = Arc::new(meta);
            return Ok(InitOutcome::Started);
        }
        let dir = self
            .root
            .join(layout::SESSIONS)
            .join(layout::session_dir_name(&key.0, &key.1));
        for d in [dir.clone(), dir.join(layout::PARTS)] {
            match layout::kind(&d)? {
                layout::Kind::Missing => fs::create_dir(&d)?,
                layout::Kind::Dir => {}
                _ => {
                    return Err(io::Error::other(format!(
                        "{} is in the way (not a directory)",
                        d.display()
                    )));
                }
            }
        }
        self.tmp
            .write_json_atomic(&dir.join(layout::SESSION_JSON), &meta)?;
        self.hook.at("init:session-written");
        let s = Arc::new(Session::new(dir, meta, HashMap::new()));
        self.index().sessions.insert(key, s);
        Ok(InitOutcome::Started)
    }

    pub(crate) fn hook(&self) -> &StepHook {
        &self.hook
    }

    /// Every session in progress, for the inspector.
    pub(crate) fn sessions_view(&self) -> Vec<SessionView> {
        let sessions: Vec<Arc<Session>> = self.index().sessions.values().cloned().collect();
        sessions.iter().map(|s| s.view()).collect()
    }

    /// Every finished file, for the inspector.
    pub(crate) fn files_view(&self) -> Vec<Arc<FileRecord>> {
        self.index().files.values().cloned().collect()
    }
}
