//! An opt-in cache of fingerprints, so that resuming or re-uploading a multi-GB file does not
//! read it all again before InitUpload.
//!
//! An entry is keyed by everything that changes when the file does: path, size, mtime, ctime,
//! inode and device. ctime is the guard against a rewrite that restores the old mtime (no call can
//! set ctime back). Entries are written whole to a temporary file and renamed, and a torn or
//! foreign entry fails to parse or to match and is ignored, never trusted.
//!
//! An entry decides which file id an upload ends under (its SHA-1 is what InitUpload sends), so
//! the cache is private: the directory is made 0700 and entries 0600, a directory another user
//! could write to is refused when the client is made, and an entry another user could have
//! written is ignored.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fingerprint::{Fingerprint, sha1_hex};
use crate::hex::is_hex;
use crate::stamp::FileStamp;

/// Bumped when the entry format changes; older entries are then ignored.
const FORMAT: u32 = 1;

/// A file version: its path and its stamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileIdentity {
    path: String,
    stamp: FileStamp,
}

impl FileIdentity {
    pub(crate) fn new(path: &Path, stamp: FileStamp) -> Self {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        FileIdentity {
            path: abs.to_string_lossy().into_owned(),
            stamp,
        }
    }

    fn key(&self) -> String {
        let stamp = serde_json::to_string(&self.stamp).expect("a stamp serialises");
        sha1_hex(format!("{}\0{stamp}", self.path).as_bytes())
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    identity: FileIdentity,
    sha1: String,
    part_size: u64,
    part_md5: Vec<Option<String>>,
}

/// A directory of fingerprints.
#[derive(Debug, Clone)]
pub(crate) struct FingerprintCache {
    dir: PathBuf,
}

impl FingerprintCache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        FingerprintCache { dir }
    }

    fn entry_path(&self, id: &FileIdentity) -> PathBuf {
        self.dir.join(format!("{}.json", id.key()))
    }

    /// The cached fingerprint of this exact file version, if there is a sound one. Part MD5s at
    /// another part size than `part_size` are dropped (the SHA-1 still holds).
    pub(crate) fn load(&self, id: &FileIdentity, part_size: u64) -> Option<Fingerprint> {
        let path = self.entry_path(id);
        let mut file = std::fs::File::open(&path).ok()?;
        if let Err(why) = file
            .metadata()
            .map_err(|e| e.to_string())
            .and_then(|m| private(&m))
        {
            log::warn!(
                "ignoring the fingerprint cache entry {}: it {why}, so it cannot be trusted",
                path.display()
            );
            return None;
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).ok()?;
        let entry: Entry = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => {
                log::warn!(
                    "ignoring the damaged fingerprint cache entry {}: {e}",
                    path.display()
                );
                return None;
            }
        };
        let plan_count = id.stamp.size.div_ceil(entry.part_size.max(1)) as usize;
        let sound = entry.format == FORMAT
            && entry.identity == *id
            && is_hex(&entry.sha1, 40)
            && entry.part_size > 0
            && entry.part_md5.len() == plan_count
            && entry.part_md5.iter().flatten().all(|m| is_hex(m, 32));
        if !sound {
            log::warn!(
                "ignoring the fingerprint cache entry {}: it does not match the file",
                path.display()
            );
            return None;
        }
        let count = id.stamp.size.div_ceil(part_size) as usize;
        Some(Fingerprint {
            sha1: entry.sha1,
            file_size: id.stamp.size,
            part_size,
            part_md5: if entry.part_size == part_size {
                entry.part_md5
            } else {
                vec![None; count]
            },
        })
    }

    /// Saves a fingerprint; failures are logged and otherwise ignored (the cache is an optimisation).
    pub(crate) fn store(&self, id: &FileIdentity, fp: &Fingerprint) {
        if let Err(e) = self.try_store(id, fp) {
            log::warn!(
                "cannot write the fingerprint cache in {}: {e}",
                self.dir.display()
            );
        }
    }

    fn try_store(&self, id: &FileIdentity, fp: &Fingerprint) -> std::io::Result<()> {
        create_private_dir(&self.dir)?;
        let entry = Entry {
            format: FORMAT,
            identity: id.clone(),
            sha1: fp.sha1.clone(),
            part_size: fp.part_size,
            part_md5: fp.part_md5.clone(),
        };
        let json = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(&json)?;
        // No fsync: this is a cache, written often during an upload. The rename keeps readers
        // from a half-written entry; after a power loss an entry may be empty or torn, and a
        // damaged entry is ignored on load.
        std::fs::rename(&tmp.0, self.entry_path(id))
    }
}

/// Refuses a cache directory that exists and that another user could write to, or that is not
/// a directory; a missing one is fine (it is made, private, on the first save).
pub(crate) fn check_dir(dir: &Path) -> crate::Result<()> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(crate::Error::invalid_input(format!(
                "the fingerprint cache directory {} cannot be used: {e}",
                dir.display()
            )));
        }
    };
    if !meta.is_dir() {
        return Err(crate::Error::invalid_input(format!(
            "the fingerprint cache directory {} is not a directory; choose another path",
            dir.display()
        )));
    }
    private(&meta).map_err(|why| {
        crate::Error::invalid_input(format!(
            "the fingerprint cache directory {} {why}: another user could plant fingerprints that make an upload end under another file's id; make it private (chmod 700, owned by you) or choose another directory",
            dir.display()
        ))
    })
}

/// Ok when only this process's user can write what `meta` describes; else why not.
#[cfg(unix)]
fn private(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!("is owned by another user (uid {})", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "is writable by other users (mode {:o})",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn private(_: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// `dir` and its missing parents; the last component private to this user.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file beside the entries, readable by this user only, so the rename that publishes it is
/// atomic and private.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    for _ in 0..16 {
        let p = dir.join(format!(".tmp-{:016x}", rand::random::<u64>()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&p) {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("cannot create a temporary file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, FingerprintCache) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.mp4");
        std::fs::write(&file, vec![7u8; 1000]).unwrap();
        let cache = FingerprintCache::new(dir.path().join("cache"));
        (dir, file, cache)
    }

    fn fp() -> Fingerprint {
        Fingerprint {
            sha1: "a".repeat(40),
            file_size: 1000,
            part_size: 524288,
            part_md5: vec![Some("b".repeat(32))],
        }
    }

    #[test]
    fn round_trip_and_part_size_change() {
        let (_d, file, cache) = setup();
        let id = FileIdentity::new(&file, FileStamp::of(&std::fs::metadata(&file).unwrap()));
        assert!(cache.load(&id, 524288).is_none());
        cache.store(&id, &fp());
        assert_eq!(cache.load(&id, 524288).unwrap(), fp());
        let other = cache.load(&id, 1048576).unwrap();
        assert_eq!(other.sha1, fp().sha1);
        assert_eq!(other.part_md5, vec![None]);
    }

    #[test]
    fn a_changed_file_misses() {
        let (_d, file, cache) = setup();
        let id = FileIdentity::new(&file, FileStamp::of(&std::fs::metadata(&file).unwrap()));
        cache.store(&id, &fp());
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&file, vec![8u8; 1000]).unwrap();
        let id2 = FileIdentity::new(&file, FileStamp::of(&std::fs::metadata(&file).unwrap()));
        assert_ne!(id, id2);
        assert!(cache.load(&id2, 524288).is_none());
    }

    #[test]
    fn a_truncated_entry_is_ignored() {
        let (_d, file, cache) = setup();
        let id = FileIdentity::new(&file, FileStamp::of(&std::fs::metadata(&file).unwrap()));
        cache.store(&id, &fp());
        let entry = cache.entry_path(&id);
        let bytes = std::fs::read(&entry).unwrap();
        std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
        assert!(cache.load(&id, 524288).is_none());
        std::fs::write(&entry, b"{\"format\":1}").unwrap();
        assert!(cache.load(&id, 524288).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn private_directory_and_entries() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, file, cache) = setup();
        let id = FileIdentity::new(&file, FileStamp::of(&std::fs::metadata(&file).unwrap()));
        cache.store(&id, &fp());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache.dir), 0o700);
        assert_eq!(mode(&cache.entry_path(&id)), 0o600);
        assert!(check_dir(&cache.dir).is_ok());

        // An entry someone else could have written is not trusted.
        let entry = cache.entry_path(&id);
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(cache.load(&id, 524288).is_none());
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(cache.load(&id, 524288).unwrap(), fp());

        // A directory others can write to is refused, saying why and what to do.
        std::fs::set_permissions(&cache.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_dir(&cache.dir).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let text = e.to_string();
        assert!(
            text.contains("writable by other users (mode 777)") && text.contains("chmod 700"),
            "{text}"
        );
        std::fs::set_permissions(&cache.dir, std::fs::Permissions::from_mode(0o700)).unwrap();

        // Missing is fine (made private on the first save); a file is not a directory.
        assert!(check_dir(&cache.dir.join("not-yet")).is_ok());
        let e = check_dir(&file).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
    }
}
