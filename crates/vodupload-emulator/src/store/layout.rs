//! The state directory: its marker, the names the emulator gives its files, and the only ways it
//! removes anything.
//!
//! ```text
//! vodupload-emulator-state.json                       marker: {"format": 1}
//! sessions/{sha1(SecretId)}-{fileSha}/session.json    an upload in progress (InitUpload's parameters)
//! sessions/{...}/parts/{offset:020}-{md5}             one stored part
//! sessions/{...}/file.json                            written just before the session becomes a file
//! files/{fileId}/                                     a finished file: the session directory, renamed
//! events/{seq:020}.json                               an unconfirmed "upload completed" event
//! tmp/{pid}-{n}-{random}.{part|json}                  work files
//! ```
//!
//! Rules: a non-empty directory without the marker is refused (it is someone's folder, not a
//! state); nothing is ever removed recursively; a file is removed only when its name is one the
//! emulator gives and it is a regular file; symbolic links are never followed inside the state
//! (the four sub-directories must be real directories), so nothing outside it can be touched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The marker's name, in the state's root.
pub(crate) const MARKER: &str = "vodupload-emulator-state.json";
/// The layout above. A state with a higher format was written by a newer emulator.
pub(crate) const FORMAT: u64 = 1;

pub(crate) const SESSIONS: &str = "sessions";
pub(crate) const FILES: &str = "files";
pub(crate) const EVENTS: &str = "events";
pub(crate) const TMP: &str = "tmp";
pub(crate) const PARTS: &str = "parts";
pub(crate) const SESSION_JSON: &str = "session.json";
pub(crate) const FILE_JSON: &str = "file.json";

pub(crate) type Md5 = [u8; 16];

pub(crate) fn hex(bytes: &[u8]) -> String {
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

/// 32 lowercase hex digits into an MD5.
pub(crate) fn parse_md5(s: &str) -> Option<Md5> {
    if !is_lower_hex(s, 32) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

pub(crate) fn part_name(offset: u64, md5: &Md5) -> String {
    format!("{offset:020}-{}", hex(md5))
}

pub(crate) fn parse_part_name(name: &str) -> Option<(u64, Md5)> {
    let (o, m) = name.split_once('-')?;
    if o.len() != 20 || !o.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((o.parse().ok()?, parse_md5(m)?))
}

pub(crate) fn session_dir_name(secret_id: &str, file_sha: &str) -> String {
    use sha1::Digest as _;
    format!(
        "{}-{file_sha}",
        hex(&sha1::Sha1::digest(secret_id.as_bytes()))
    )
}

pub(crate) fn is_session_dir_name(name: &str) -> bool {
    name.split_once('-')
        .is_some_and(|(a, b)| is_lower_hex(a, 40) && is_lower_hex(b, 40))
}

/// fileIds are 19 decimal digits, like the service's.
pub(crate) fn is_file_id(name: &str) -> bool {
    name.len() == 19 && name.bytes().all(|b| b.is_ascii_digit()) && !name.starts_with('0')
}

pub(crate) fn event_file_name(seq: u64) -> String {
    format!("{seq:020}.json")
}

pub(crate) fn parse_event_file_name(name: &str) -> Option<u64> {
    let n = name.strip_suffix(".json")?;
    (n.len() == 20 && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
}

/// `{pid}-{n}-{8 hex}.{part|json}`.
pub(crate) fn is_temp_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let mut it = stem.splitn(3, '-');
    let digits =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    matches!(ext, "part" | "json")
        && digits(it.next())
        && digits(it.next())
        && it.next().is_some_and(|r| is_lower_hex(r, 8))
}

/// What is at a path, without following a symbolic link there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Missing,
    File,
    Dir,
    /// A symbolic link or anything else (socket, fifo, device).
    Other,
}

pub(crate) fn kind(path: &Path) -> io::Result<Kind> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_file() => Ok(Kind::File),
        Ok(md) if md.file_type().is_dir() => Ok(Kind::Dir),
        Ok(_) => Ok(Kind::Other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Kind::Missing),
        Err(e) => Err(e),
    }
}

/// Removes a regular file; a symbolic link or a directory there is left alone.
pub(crate) fn remove_file_if_regular(path: &Path) -> io::Result<()> {
    match kind(path)? {
        Kind::File => match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Why a state directory cannot be used.
#[derive(Debug)]
pub(crate) struct Refused(pub String);

impl From<io::Error> for Refused {
    fn from(e: io::Error) -> Self {
        Refused(e.to_string())
    }
}

/// Makes `root` a state directory (creating it, or marking it when it is empty) or checks that it
/// is one; returns its canonical path.
pub(crate) fn prepare_root(root: &Path) -> Result<PathBuf, Refused> {
    let shown = root.display();
    match fs::metadata(root) {
        Ok(md) if md.is_dir() => {}
        Ok(_) => return Err(Refused(format!("{shown} is not a directory"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir_all(root)?,
        Err(e) => return Err(e.into()),
    }
    let root = root.canonicalize()?;
    let marker = root.join(MARKER);
    match kind(&marker)? {
        Kind::File => check_marker(&marker)?,
        Kind::Missing => {
            if fs::read_dir(&root)?.next().is_some() {
                return Err(Refused(format!(
                    "{shown} is not empty and is not an emulator state (it has no {MARKER}); \
                     the emulator keeps its state only in a new or empty directory, so it never \
                     mixes with (or deletes) files it did not write"
                )));
            }
            let body = serde_json::json!({
                "format": FORMAT,
                "what": "state of vodupload-emulator: parts, finished files and events",
            });
            fs::write(
                &marker,
                serde_json::to_vec_pretty(&body).unwrap_or_default(),
            )?;
        }
        _ => {
            return Err(Refused(format!(
                "{} is not a regular file",
                marker.display()
            )));
        }
    }
    for sub in [SESSIONS, FILES, EVENTS, TMP] {
        let p = root.join(sub);
        match kind(&p)? {
            Kind::Dir => {}
            Kind::Missing => fs::create_dir(&p)?,
            _ => {
                return Err(Refused(format!(
                    "{} is not a plain directory (a symbolic link?): the emulator does not follow links in its state",
                    p.display()
                )));
            }
        }
    }
    Ok(root)
}

fn check_marker(marker: &Path) -> Result<(), Refused> {
    let v: Option<u64> = fs::read(marker)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("format").and_then(serde_json::Value::as_u64));
    match v {
        Some(n) if (1..=FORMAT).contains(&n) => Ok(()),
        Some(n) if n > FORMAT => Err(Refused(format!(
            "{} says format {n}: this state was written by a newer emulator (this one reads format {FORMAT})",
            marker.display()
        ))),
        _ => Err(Refused(format!(
            "{} is not an emulator state marker (no format number)",
            marker.display()
        ))),
    }
}

/// Removes the work files an interrupted run left in `tmp/`; anything else there stays.
pub(crate) fn clean_tmp(tmp: &Path, warn: &dyn Fn(String)) -> io::Result<()> {
    for e in fs::read_dir(tmp)? {
        let e = e?;
        let name = e.file_name();
        match name.to_str() {
            Some(n) if is_temp_name(n) => remove_file_if_regular(&e.path())?,
            _ => warn(format!(
                "{}: not an emulator work file, left alone",
                e.path().display()
            )),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let md5 = [0xabu8; 16];
        let n = part_name(1048576, &md5);
        assert_eq!(parse_part_name(&n), Some((1048576, md5)));
        assert_eq!(parse_part_name("12-abc"), None);
        assert_eq!(
            parse_part_name(&format!("{:020}-{}", 0, "X".repeat(32))),
            None
        );
        assert!(is_temp_name("123-4-0a0b0c0d.part"));
        assert!(!is_temp_name("draft.txt"));
        assert!(!is_temp_name("123-4-0a0b0c0d.txt"));
        assert_eq!(parse_event_file_name(&event_file_name(7)), Some(7));
        assert_eq!(parse_event_file_name("calendar.json"), None);
        let d = session_dir_name("AKID", &"ab".repeat(20));
        assert!(is_session_dir_name(&d), "{d}");
        assert!(!is_session_dir_name("notes"));
        assert!(is_file_id("1234567890123456789"));
        assert!(!is_file_id("photos"));
    }

    #[test]
    fn a_foreign_folder_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("tmp")).unwrap();
        fs::write(dir.path().join("tmp/draft.txt"), b"x").unwrap();
        let e = prepare_root(dir.path()).unwrap_err();
        assert!(e.0.contains("not an emulator state"), "{}", e.0);
        assert!(dir.path().join("tmp/draft.txt").exists());
        assert!(!dir.path().join(MARKER).exists());
    }

    #[test]
    fn an_empty_folder_is_marked_and_a_newer_format_refused() {
        let dir = tempfile::tempdir().unwrap();
        prepare_root(dir.path()).unwrap();
        assert!(dir.path().join(MARKER).is_file());
        prepare_root(dir.path()).unwrap();
        fs::write(dir.path().join(MARKER), br#"{"format": 99}"#).unwrap();
        let e = prepare_root(dir.path()).unwrap_err();
        assert!(e.0.contains("newer emulator"), "{}", e.0);
    }
}
