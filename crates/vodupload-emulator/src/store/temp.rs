//! Work files in `tmp/`: every durable write goes to one, then is renamed into place, so a crash
//! leaves either the old file or the new one, never half of one.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng as _;

/// Hands out unique work-file names in one `tmp/` directory.
#[derive(Debug)]
pub(crate) struct TempDir {
    dir: PathBuf,
    counter: AtomicU64,
}

/// A work file, removed on drop unless it was moved into place.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempDir {
    pub(crate) fn new(dir: PathBuf) -> TempDir {
        TempDir {
            dir,
            counter: AtomicU64::new(0),
        }
    }

    /// A fresh name (the file itself is not created). `ext` is `part` or `json`.
    pub(crate) fn file(&self, ext: &str) -> TempFile {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let r: u32 = rand::rng().random();
        TempFile {
            path: self
                .dir
                .join(format!("{}-{n}-{r:08x}.{ext}", std::process::id())),
            armed: true,
        }
    }

    /// Writes `bytes` to `dest` through a work file and a rename.
    pub(crate) fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.file("json");
        fs::write(tmp.path(), bytes)?;
        tmp.rename_to(dest)
    }

    pub(crate) fn write_json_atomic(
        &self,
        dest: &Path,
        value: &impl serde::Serialize,
    ) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
        self.write_atomic(dest, &bytes)
    }
}

impl TempFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the file into place (replacing what is there).
    pub(crate) fn rename_to(mut self, dest: &Path) -> io::Result<()> {
        fs::rename(&self.path, dest)?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}
