//! The emulator's persistent state: upload sessions with their parts, and finished files.
//!
//! Layout under the state directory (every write is a temp file in `tmp/` renamed into place):
//! ```text
//! sessions/{sha1(SecretId)}-{fileSha}/session.json      the InitUpload parameters
//! sessions/{sha1(SecretId)}-{fileSha}/parts/{offset:020}-{md5}   one stored part
//! files/{fileId}/meta.json                               a finished file's metadata
//! files/{fileId}/data                                    its bytes
//! events/{seq:020}.json                                  an unconfirmed event (see events.rs)
//! tmp/                                                   work files, emptied at start
//! ```
//! The maps in memory mirror the directory; the directory is read back at start, so a restarted
//! emulator keeps every accepted part and finished file.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha1::Digest as _;

/// `(SecretId, fileSha)`: sessions and finished files belong to one credential.
pub(crate) type Key = (String, String);

/// What InitUpload fixed for a session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SessionMeta {
    pub secret_id: String,
    pub file_sha: String,
    pub file_name: String,
    pub file_size: u64,
    pub data_size: u64,
    pub file_type: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub class_id: Option<i64>,
    #[serde(default)]
    pub is_transcode: Option<u8>,
    #[serde(default)]
    pub is_screenshot: Option<u8>,
    #[serde(default)]
    pub is_watermark: Option<u8>,
    #[serde(default)]
    pub notify_url: Option<String>,
    #[serde(default)]
    pub store_time: Option<i64>,
    #[serde(default)]
    pub created_unix: i64,
}

impl SessionMeta {
    pub(crate) fn key(&self) -> Key {
        (self.secret_id.clone(), self.file_sha.clone())
    }

    /// Number of parts the file is cut into.
    pub(crate) fn part_count(&self) -> u64 {
        self.file_size.div_ceil(self.data_size)
    }

    /// The length of the part at `offset` (which must be a valid part offset).
    pub(crate) fn part_len(&self, offset: u64) -> u64 {
        self.data_size.min(self.file_size - offset)
    }

    fn valid_offset(&self, offset: u64) -> bool {
        self.data_size > 0 && offset.is_multiple_of(self.data_size) && offset < self.file_size
    }
}

/// One stored part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartInfo {
    pub len: u64,
    pub md5: String,
}

/// A finished file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileMeta {
    pub file_id: String,
    pub finished_unix: i64,
    pub session: SessionMeta,
}

#[derive(Debug)]
struct Session {
    meta: SessionMeta,
    parts: BTreeMap<u64, PartInfo>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<Key, Session>,
    finished: HashMap<Key, String>,
    files: HashMap<String, FileMeta>,
}

#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    inner: Mutex<Inner>,
    locks: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    tmp_counter: AtomicU64,
}

/// A work file in `tmp/`, removed on drop unless it was moved into place.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn disarm(mut self) -> PathBuf {
        self.armed = false;
        std::mem::take(&mut self.path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Why a part could not be committed.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The session disappeared or changed while the body was read.
    SessionChanged,
    Io(io::Error),
}

/// The outcome of assembling a session's parts.
#[derive(Debug)]
pub(crate) enum Assembled {
    Done(Box<FileMeta>),
    ShaMismatch { actual: String },
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Store {
    /// Opens (creating if needed) the state directory and reads back what it holds.
    pub(crate) fn open(root: &Path) -> io::Result<Store> {
        fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        for d in ["sessions", "files", "tmp"] {
            fs::create_dir_all(root.join(d))?;
        }
        // Leftovers of an interrupted write.
        for e in fs::read_dir(root.join("tmp"))? {
            let e = e?;
            let _ = if e.file_type()?.is_dir() {
                fs::remove_dir_all(e.path())
            } else {
                fs::remove_file(e.path())
            };
        }
        let store = Store {
            root,
            inner: Mutex::new(Inner::default()),
            locks: Mutex::new(HashMap::new()),
            tmp_counter: AtomicU64::new(0),
        };
        store.load()?;
        Ok(store)
    }

    fn load(&self) -> io::Result<()> {
        let mut inner = self.inner();
        for e in fs::read_dir(self.root.join("files"))? {
            let dir = e?.path();
            let meta: Option<FileMeta> = fs::read(dir.join("meta.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let ok = meta.as_ref().is_some_and(|m| {
                dir.file_name().and_then(|n| n.to_str()) == Some(m.file_id.as_str())
                    && fs::metadata(dir.join("data"))
                        .is_ok_and(|md| md.is_file() && md.len() == m.session.file_size)
            });
            match meta {
                Some(m) if ok => {
                    inner.finished.insert(m.session.key(), m.file_id.clone());
                    inner.files.insert(m.file_id.clone(), m);
                }
                _ => {
                    // A finish interrupted before its metadata was written.
                    let _ = fs::remove_dir_all(&dir);
                }
            }
        }
        for e in fs::read_dir(self.root.join("sessions"))? {
            let dir = e?.path();
            let meta: Option<SessionMeta> = fs::read(dir.join("session.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let Some(meta) = meta.filter(|m| {
                m.data_size > 0
                    && m.file_size > 0
                    && dir.file_name().and_then(|n| n.to_str())
                        == Some(session_dir_name(&m.key()).as_str())
            }) else {
                let _ = fs::remove_dir_all(&dir);
                continue;
            };
            if inner.finished.contains_key(&meta.key()) {
                // Finished, but the session was not yet removed when the emulator stopped.
                let _ = fs::remove_dir_all(&dir);
                continue;
            }
            let parts_dir = dir.join("parts");
            fs::create_dir_all(&parts_dir)?;
            // offset -> (info, path, modified) ; keeps the newest of duplicates.
            let mut parts: BTreeMap<u64, (PartInfo, PathBuf, std::time::SystemTime)> =
                BTreeMap::new();
            for pe in fs::read_dir(&parts_dir)? {
                let pe = pe?;
                let path = pe.path();
                let parsed = pe.file_name().to_str().and_then(parse_part_name);
                let md = pe.metadata().ok();
                let valid = match (&parsed, &md) {
                    (Some((offset, _)), Some(md)) => {
                        md.is_file()
                            && meta.valid_offset(*offset)
                            && md.len() == meta.part_len(*offset)
                    }
                    _ => false,
                };
                if !valid {
                    let _ = fs::remove_file(&path);
                    continue;
                }
                let (offset, md5) = parsed.expect("checked above");
                let md = md.expect("checked above");
                let modified = md.modified().unwrap_or(std::time::UNIX_EPOCH);
                let info = PartInfo { len: md.len(), md5 };
                match parts.get(&offset) {
                    Some((_, _, old_mod)) if *old_mod > modified => {
                        let _ = fs::remove_file(&path);
                    }
                    Some((_, old_path_ref, _)) => {
                        let _ = fs::remove_file(old_path_ref);
                        parts.insert(offset, (info, path, modified));
                    }
                    None => {
                        parts.insert(offset, (info, path, modified));
                    }
                }
            }
            let parts = parts.into_iter().map(|(o, (i, _, _))| (o, i)).collect();
            inner.sessions.insert(meta.key(), Session { meta, parts });
        }
        Ok(())
    }

    /// The state directory (canonical).
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock serialising InitUpload, part commits and FinishUpload of one session.
    pub(crate) fn key_lock(&self, key: &Key) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 4096 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(key.clone()).or_default().clone()
    }

    fn session_dir(&self, key: &Key) -> PathBuf {
        self.root.join("sessions").join(session_dir_name(key))
    }

    /// A fresh work file path under `tmp/` (the file itself is not created).
    pub(crate) fn temp_file(&self, ext: &str) -> TempFile {
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let r: u32 = rand::rng().random();
        TempFile {
            path: self
                .root
                .join("tmp")
                .join(format!("{}-{n}-{r:08x}.{ext}", std::process::id())),
            armed: true,
        }
    }

    fn write_json_atomic(&self, dest: &Path, value: &impl Serialize) -> io::Result<()> {
        let tmp = self.temp_file("json");
        let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
        fs::write(tmp.path(), bytes)?;
        fs::rename(tmp.path(), dest)?;
        tmp.disarm();
        Ok(())
    }

    /// The finished file for this key, if any.
    pub(crate) fn finished(&self, key: &Key) -> Option<FileMeta> {
        let inner = self.inner();
        let id = inner.finished.get(key)?;
        inner.files.get(id).cloned()
    }

    /// A finished file by id, with the path of its bytes.
    pub(crate) fn file_by_id(&self, id: &str) -> Option<(FileMeta, PathBuf)> {
        let inner = self.inner();
        let m = inner.files.get(id)?.clone();
        let path = self.root.join("files").join(id).join("data");
        Some((m, path))
    }

    /// The session's metadata and its stored parts (sorted by offset).
    pub(crate) fn session(&self, key: &Key) -> Option<(SessionMeta, Vec<(u64, PartInfo)>)> {
        let inner = self.inner();
        let s = inner.sessions.get(key)?;
        Some((
            s.meta.clone(),
            s.parts.iter().map(|(o, p)| (*o, p.clone())).collect(),
        ))
    }

    /// Creates or replaces a session's metadata (call with the key lock held). Stored parts are
    /// kept when the session exists.
    pub(crate) fn put_session(&self, meta: SessionMeta) -> io::Result<()> {
        let key = meta.key();
        let dir = self.session_dir(&key);
        fs::create_dir_all(dir.join("parts"))?;
        self.write_json_atomic(&dir.join("session.json"), &meta)?;
        let mut inner = self.inner();
        match inner.sessions.get_mut(&key) {
            Some(s) => s.meta = meta,
            None => {
                inner.sessions.insert(
                    key,
                    Session {
                        meta,
                        parts: BTreeMap::new(),
                    },
                );
            }
        }
        Ok(())
    }

    /// Moves a verified part into place (call with the key lock held). `expected` is the session
    /// as it was when the part was validated; the commit is refused if it changed since.
    pub(crate) fn commit_part(
        &self,
        expected: &SessionMeta,
        offset: u64,
        info: PartInfo,
        tmp: TempFile,
    ) -> Result<(), CommitError> {
        let key = expected.key();
        let old = {
            let inner = self.inner();
            match inner.sessions.get(&key) {
                Some(s)
                    if s.meta.file_size == expected.file_size
                        && s.meta.data_size == expected.data_size =>
                {
                    s.parts.get(&offset).cloned()
                }
                _ => return Err(CommitError::SessionChanged),
            }
        };
        let parts_dir = self.session_dir(&key).join("parts");
        let dest = parts_dir.join(part_name(offset, &info.md5));
        fs::rename(tmp.path(), &dest).map_err(CommitError::Io)?;
        tmp.disarm();
        if let Some(old) = old
            && old.md5 != info.md5
        {
            let _ = fs::remove_file(parts_dir.join(part_name(offset, &old.md5)));
        }
        let mut inner = self.inner();
        match inner.sessions.get_mut(&key) {
            Some(s) => {
                s.parts.insert(offset, info);
                Ok(())
            }
            None => Err(CommitError::SessionChanged),
        }
    }

    /// Deletes every stored part of a session (call with the key lock held).
    pub(crate) fn clear_parts(&self, key: &Key) {
        let parts_dir = self.session_dir(key).join("parts");
        let names: Vec<String> = {
            let mut inner = self.inner();
            match inner.sessions.get_mut(key) {
                Some(s) => std::mem::take(&mut s.parts)
                    .into_iter()
                    .map(|(o, p)| part_name(o, &p.md5))
                    .collect(),
                None => return,
            }
        };
        for n in names {
            let _ = fs::remove_file(parts_dir.join(n));
        }
    }

    /// Concatenates the parts (streaming), checks the SHA-1, and on success stores the file under
    /// a new fileId and removes the session. Blocking: run it on a blocking thread, with the key
    /// lock held. The parts must all be present (checked by the caller).
    pub(crate) fn assemble(&self, key: &Key) -> io::Result<Assembled> {
        let (meta, parts) = self
            .session(key)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "session vanished"))?;
        let parts_dir = self.session_dir(key).join("parts");
        let tmp = self.temp_file("data");
        let mut out = io::BufWriter::with_capacity(256 * 1024, fs::File::create(tmp.path())?);
        let mut sha = sha1::Sha1::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        for (offset, info) in &parts {
            let mut f = fs::File::open(parts_dir.join(part_name(*offset, &info.md5)))?;
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                sha.update(&buf[..n]);
                out.write_all(&buf[..n])?;
                total += n as u64;
            }
        }
        out.flush()?;
        drop(out);
        let actual = hex(&sha.finalize());
        if actual != meta.file_sha || total != meta.file_size {
            return Ok(Assembled::ShaMismatch { actual });
        }

        let file_meta = {
            let mut inner = self.inner();
            let mut rng = rand::rng();
            let file_id = loop {
                // 19 decimal digits, like the service's ids.
                let id = rng
                    .random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000u64)
                    .to_string();
                if !inner.files.contains_key(&id) && !self.root.join("files").join(&id).exists() {
                    break id;
                }
            };
            let dir = self.root.join("files").join(&file_id);
            fs::create_dir_all(&dir)?;
            fs::rename(tmp.path(), dir.join("data"))?;
            tmp.disarm();
            let fm = FileMeta {
                file_id: file_id.clone(),
                finished_unix: now_unix(),
                session: meta,
            };
            // The metadata is written last: a file directory without it is discarded at start.
            self.write_json_atomic(&dir.join("meta.json"), &fm)?;
            inner.finished.insert(key.clone(), file_id.clone());
            inner.files.insert(file_id, fm.clone());
            inner.sessions.remove(key);
            fm
        };
        let _ = fs::remove_dir_all(self.session_dir(key));
        Ok(Assembled::Done(Box::new(file_meta)))
    }
}

fn session_dir_name(key: &Key) -> String {
    let id_hash = hex(&sha1::Sha1::digest(key.0.as_bytes()));
    format!("{id_hash}-{}", key.1)
}

fn part_name(offset: u64, md5: &str) -> String {
    format!("{offset:020}-{md5}")
}

fn parse_part_name(name: &str) -> Option<(u64, String)> {
    let (o, m) = name.split_once('-')?;
    if o.len() != 20 || !o.bytes().all(|b| b.is_ascii_digit()) || !is_lower_hex(m, 32) {
        return None;
    }
    Some((o.parse().ok()?, m.to_string()))
}

/// Lowercase hex MD5 of some bytes (used for parts).
pub(crate) fn md5_hex(digest: &[u8]) -> String {
    hex(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_round_trip() {
        let md5 = "0123456789abcdef0123456789abcdef";
        let n = part_name(1048576, md5);
        assert_eq!(parse_part_name(&n), Some((1048576, md5.to_string())));
        assert_eq!(parse_part_name("12-abc"), None);
        assert_eq!(
            parse_part_name(&format!("{:020}-{}", 0, "X".repeat(32))),
            None
        );
    }
}
