//! An upload in progress: what InitUpload fixed, the parts stored so far, and the SHA-1 of the
//! file computed as its parts arrive in order, so FinishUpload has little left to hash.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use sha1::Digest as _;

use super::layout::{self, Md5};
use super::temp::TempFile;

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

    fn valid(&self) -> bool {
        self.data_size > 0 && self.file_size > 0 && self.file_sha.len() == 40
    }
}

/// One session. Lock order: `hasher`, then `state`.
#[derive(Debug)]
pub(crate) struct Session {
    pub key: Key,
    pub(super) dir: PathBuf,
    state: Mutex<SessionState>,
    hasher: Mutex<Hasher>,
}

#[derive(Debug)]
pub(crate) struct SessionState {
    pub meta: Arc<SessionMeta>,
    /// Part index → the part's MD5. Only what is stored: a session of millions of parts costs
    /// nothing until they arrive.
    pub(super) parts: HashMap<u64, Md5>,
    pub stored_bytes: u64,
    pub updated_unix: i64,
    /// A stored part was replaced by different bytes: the running SHA-1 must start over.
    pub(super) rehash: bool,
    /// Finished (or being finished): no part may be added any more.
    pub(super) closed: bool,
}

/// The SHA-1 of the parts `0..next`.
#[derive(Debug)]
pub(super) struct Hasher {
    pub sha: sha1::Sha1,
    pub next: u64,
}

impl Hasher {
    fn new() -> Hasher {
        Hasher {
            sha: sha1::Sha1::new(),
            next: 0,
        }
    }

    pub(super) fn reset(&mut self) {
        *self = Hasher::new();
    }
}

/// Why a part could not be committed.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The session was finished or re-initialised while the body was read.
    SessionChanged,
    Io(io::Error),
}

/// What the inspector shows of a session.
#[derive(Debug, Clone)]
pub(crate) struct SessionView {
    pub meta: Arc<SessionMeta>,
    pub parts_stored: u64,
    pub stored_bytes: u64,
    pub updated_unix: i64,
    /// `(parts stored, parts)` of each cell of the map, in file order.
    pub map: Vec<(u64, u64)>,
}

/// Cells in the inspector's map of a session's parts.
const MAP_CELLS: u64 = 64;

impl Session {
    pub(super) fn new(dir: PathBuf, meta: SessionMeta, parts: HashMap<u64, Md5>) -> Session {
        let stored_bytes = parts
            .keys()
            .map(|i| meta.part_len(i * meta.data_size))
            .sum();
        Session {
            key: meta.key(),
            dir,
            state: Mutex::new(SessionState {
                updated_unix: meta.created_unix,
                meta: Arc::new(meta),
                parts,
                stored_bytes,
                rehash: false,
                closed: false,
            }),
            hasher: Mutex::new(Hasher::new()),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn hasher(&self) -> MutexGuard<'_, Hasher> {
        self.hasher.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn parts_dir(&self) -> PathBuf {
        self.dir.join(layout::PARTS)
    }

    /// The session's parameters as they are now (O(1): a shared pointer).
    pub(crate) fn meta(&self) -> Arc<SessionMeta> {
        self.state().meta.clone()
    }

    /// Moves a verified part into place. `expected` is the session as the part was checked
    /// against; the commit is refused if it changed since. Blocking.
    pub(crate) fn commit_part(
        &self,
        expected: &Arc<SessionMeta>,
        index: u64,
        md5: Md5,
        tmp: TempFile,
        now_unix: i64,
    ) -> Result<(), CommitError> {
        let mut st = self.state();
        if st.closed
            || st.meta.file_size != expected.file_size
            || st.meta.data_size != expected.data_size
        {
            return Err(CommitError::SessionChanged);
        }
        let offset = index * st.meta.data_size;
        let parts_dir = self.parts_dir();
        tmp.rename_to(&parts_dir.join(layout::part_name(offset, &md5)))
            .map_err(CommitError::Io)?;
        match st.parts.insert(index, md5) {
            None => st.stored_bytes += st.meta.part_len(offset),
            Some(old) if old != md5 => {
                st.rehash = true;
                let _ = layout::remove_file_if_regular(
                    &parts_dir.join(layout::part_name(offset, &old)),
                );
            }
            Some(_) => {}
        }
        st.updated_unix = now_unix;
        Ok(())
    }

    /// Hashes the parts that follow the hashed prefix, as long as they are stored. Blocking; one
    /// thread at a time does it (the others return at once), and a part that arrives while it
    /// runs is picked up before it stops.
    pub(crate) fn advance_hash(&self) {
        let mut buf = Vec::new();
        loop {
            let next = {
                let Ok(mut h) = self.hasher.try_lock() else {
                    return;
                };
                while self.hash_one(&mut h, &mut buf).unwrap_or(false) {}
                h.next
            };
            // A part committed between the last look and the unlock would be missed otherwise.
            let st = self.state();
            if st.closed || !st.parts.contains_key(&next) {
                return;
            }
        }
    }

    /// Hashes part `h.next` if it is stored; false when there is nothing (more) to do now.
    pub(super) fn hash_one(&self, h: &mut Hasher, buf: &mut Vec<u8>) -> io::Result<bool> {
        let (path, len) = {
            let mut st = self.state();
            if st.closed {
                return Ok(false);
            }
            if st.rehash {
                st.rehash = false;
                h.reset();
            }
            if h.next >= st.meta.part_count() {
                return Ok(false);
            }
            let Some(md5) = st.parts.get(&h.next) else {
                return Ok(false);
            };
            let offset = h.next * st.meta.data_size;
            (
                self.parts_dir().join(layout::part_name(offset, md5)),
                st.meta.part_len(offset),
            )
        };
        match read_exact_file(&path, len, buf) {
            Ok(()) => {}
            // Replaced or cleared meanwhile: the state says what to do next time.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        }
        h.sha.update(&buf[..]);
        h.next += 1;
        Ok(true)
    }

    pub(crate) fn view(&self) -> SessionView {
        let st = self.state();
        let count = st.meta.part_count() as u128;
        let cells = count.clamp(1, MAP_CELLS as u128);
        // Part i goes to cell floor(i * cells / count), so cell c holds the parts from
        // ceil(c * count / cells) up to ceil((c + 1) * count / cells).
        let start = |c: u128| (c * count).div_ceil(cells);
        let mut map: Vec<(u64, u64)> = (0..cells)
            .map(|c| (0, (start(c + 1) - start(c)) as u64))
            .collect();
        for &i in st.parts.keys() {
            map[(i as u128 * cells / count) as usize].0 += 1;
        }
        SessionView {
            meta: st.meta.clone(),
            parts_stored: st.parts.len() as u64,
            stored_bytes: st.stored_bytes,
            updated_unix: st.updated_unix,
            map,
        }
    }
}

/// Reads exactly `len` bytes of a file into `buf` (resized).
pub(super) fn read_exact_file(path: &Path, len: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut f = fs::File::open(path)?;
    buf.resize(len as usize, 0);
    f.read_exact(buf)?;
    Ok(())
}

/// Reads a session directory back; `None` when it holds no valid session (then the caller
/// removes what the emulator wrote there).
pub(super) fn load(dir: &Path, warn: &dyn Fn(String)) -> io::Result<Option<Session>> {
    let meta: Option<SessionMeta> = match layout::kind(&dir.join(layout::SESSION_JSON))? {
        layout::Kind::File => fs::read(dir.join(layout::SESSION_JSON))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
        _ => None,
    };
    let Some(meta) = meta.filter(|m| {
        m.valid()
            && dir.file_name().and_then(|n| n.to_str())
                == Some(layout::session_dir_name(&m.secret_id, &m.file_sha).as_str())
    }) else {
        return Ok(None);
    };
    // Written just before the session became a file: the emulator stopped before that happened.
    layout::remove_file_if_regular(&dir.join(layout::FILE_JSON))?;
    let parts_dir = dir.join(layout::PARTS);
    match layout::kind(&parts_dir)? {
        layout::Kind::Dir => {}
        layout::Kind::Missing => fs::create_dir(&parts_dir)?,
        _ => return Ok(None),
    }
    // index → (md5, modified): the newest of two copies of one part wins (a crash between the
    // rename of the new one and the removal of the old).
    let mut parts: HashMap<u64, (Md5, std::time::SystemTime)> = HashMap::new();
    for e in fs::read_dir(&parts_dir)? {
        let e = e?;
        let path = e.path();
        let Some((offset, md5)) = e.file_name().to_str().and_then(layout::parse_part_name) else {
            warn(format!("{}: not a part file, left alone", path.display()));
            continue;
        };
        let md = fs::symlink_metadata(&path)?;
        let valid = md.file_type().is_file()
            && offset.is_multiple_of(meta.data_size)
            && offset < meta.file_size
            && md.len() == meta.part_len(offset);
        if !valid {
            layout::remove_file_if_regular(&path)?;
            continue;
        }
        let modified = md.modified().unwrap_or(std::time::UNIX_EPOCH);
        let index = offset / meta.data_size;
        match parts.get(&index) {
            Some((_, old_mod)) if *old_mod > modified => {
                layout::remove_file_if_regular(&path)?;
            }
            Some((old_md5, _)) => {
                layout::remove_file_if_regular(
                    &parts_dir.join(layout::part_name(offset, old_md5)),
                )?;
                parts.insert(index, (md5, modified));
            }
            None => {
                parts.insert(index, (md5, modified));
            }
        }
    }
    let parts = parts.into_iter().map(|(i, (m, _))| (i, m)).collect();
    Ok(Some(Session::new(dir.to_path_buf(), meta, parts)))
}
