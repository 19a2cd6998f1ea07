//! Finished files. A file is its session's directory, renamed: the parts stay where they were
//! stored and a download reads them one after the other, so finishing copies nothing.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layout::{self, Md5};
use super::session::SessionMeta;

/// `file.json` of a finished file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileMeta {
    pub file_id: String,
    pub finished_unix: i64,
    pub session: SessionMeta,
}

/// A finished file, as served.
#[derive(Debug)]
pub(crate) struct FileRecord {
    pub file_id: String,
    pub finished_unix: i64,
    pub meta: SessionMeta,
    dir: PathBuf,
    /// The MD5 of each part, in file order: their file names.
    part_md5: Vec<Md5>,
}

impl FileRecord {
    pub(super) fn new(fm: FileMeta, dir: PathBuf, part_md5: Vec<Md5>) -> FileRecord {
        FileRecord {
            file_id: fm.file_id,
            finished_unix: fm.finished_unix,
            meta: fm.session,
            dir,
            part_md5,
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.meta.file_size
    }

    /// The part holding byte `pos` (< size): its path, and where `pos` is in it.
    pub(crate) fn locate(&self, pos: u64) -> (PathBuf, u64, u64) {
        let index = pos / self.meta.data_size;
        let offset = index * self.meta.data_size;
        let path = self
            .dir
            .join(layout::PARTS)
            .join(layout::part_name(offset, &self.part_md5[index as usize]));
        (path, pos - offset, self.meta.part_len(offset))
    }
}

/// Reads a finished file's directory back; the inner `Err` says why it is not complete (it is
/// then left as it is, and not served).
pub(super) fn load(dir: &Path) -> io::Result<Result<FileRecord, String>> {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let fm: Option<FileMeta> = match layout::kind(&dir.join(layout::FILE_JSON))? {
        layout::Kind::File => fs::read(dir.join(layout::FILE_JSON))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
        _ => None,
    };
    let Some(fm) =
        fm.filter(|m| m.file_id == name && m.session.data_size > 0 && m.session.file_size > 0)
    else {
        return Ok(Err(format!("no valid {}", layout::FILE_JSON)));
    };
    let parts_dir = dir.join(layout::PARTS);
    if layout::kind(&parts_dir)? != layout::Kind::Dir {
        return Ok(Err("no parts directory".into()));
    }
    let meta = &fm.session;
    let count = meta.part_count();
    let mut found: HashMap<u64, Md5> = HashMap::new();
    for e in fs::read_dir(&parts_dir)? {
        let e = e?;
        let Some((offset, md5)) = e.file_name().to_str().and_then(layout::parse_part_name) else {
            continue;
        };
        let md = fs::symlink_metadata(e.path())?;
        if md.file_type().is_file()
            && offset.is_multiple_of(meta.data_size)
            && offset < meta.file_size
            && md.len() == meta.part_len(offset)
            && found.insert(offset / meta.data_size, md5).is_some()
        {
            return Ok(Err(format!("two copies of the part at offset {offset}")));
        }
    }
    if found.len() as u64 != count {
        return Ok(Err(format!(
            "{} of its {count} parts are present",
            found.len()
        )));
    }
    let part_md5 = (0..count).map(|i| found[&i]).collect();
    Ok(Ok(FileRecord::new(fm, dir.to_path_buf(), part_md5)))
}
