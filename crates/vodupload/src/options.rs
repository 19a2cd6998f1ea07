//! What the caller says about the video: name, type, tags, category, processing flags; and the
//! rules the service applies to them (docs/protocol.md, "InitUpload").

use std::path::Path;

use crate::error::{Error, Result};
use crate::settings::{self, UPLOAD_OPTIONS, Value};

/// Characters the service refuses in `fileName`.
pub const FORBIDDEN_NAME_CHARS: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>'];
/// Longest `fileName` the service accepts, in bytes.
pub const MAX_NAME_BYTES: usize = 40;

/// Per-upload parameters. Everything is optional: the name and type come from the path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// `fileName`, without extension. Derived from the path when None; an explicit one that breaks
    /// the service's rules is an error, never silently changed.
    pub name: Option<String>,
    /// `fileType`, e.g. "mp4". The path's extension when None.
    pub file_type: Option<String>,
    pub tags: Vec<String>,
    pub class_id: Option<i64>,
    pub transcode: bool,
    pub screenshot: bool,
    pub watermark: bool,
}

impl UploadOptions {
    /// The InitUpload parameters these options give for `path` (besides fileSha/fileSize/dataSize).
    pub(crate) fn init_params(&self, path: &Path) -> Result<Vec<(String, String)>> {
        let name = match &self.name {
            Some(n) => {
                validate_name(n)?;
                n.clone()
            }
            None => derive_name(path)?,
        };
        let file_type = match &self.file_type {
            Some(t) => {
                let t = t.strip_prefix('.').unwrap_or(t);
                validate_type(t)?;
                t.to_ascii_lowercase()
            }
            None => {
                let ext = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .filter(|e| !e.is_empty())
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "cannot tell the video type of {}: it has no extension; pass a type such as \"mp4\"",
                            path.display()
                        ))
                    })?;
                validate_type(ext).map_err(|_| {
                    Error::invalid_input(format!(
                        "the extension {ext:?} of {} is not a usable video type; pass a type such as \"mp4\"",
                        path.display()
                    ))
                })?;
                ext.to_ascii_lowercase()
            }
        };
        let mut p = vec![
            ("fileName".to_owned(), name),
            ("fileType".to_owned(), file_type),
        ];
        for (i, tag) in self.tags.iter().enumerate() {
            check_tag(tag)?;
            p.push((format!("tags.{}", i + 1), tag.clone()));
        }
        if let Some(c) = self.class_id {
            check_class_id(c.into())?;
            p.push(("classId".to_owned(), c.to_string()));
        }
        for (k, v) in [
            ("isTranscode", self.transcode),
            ("isScreenshot", self.screenshot),
            ("isWatermark", self.watermark),
        ] {
            if v {
                p.push((k.to_owned(), "1".to_owned()));
            }
        }
        Ok(p)
    }
}

impl UploadOptions {
    /// Sets the option `name` (one of [`settings::UPLOAD_OPTIONS`]) from a face's value,
    /// applying its rule; on error nothing changes. Each `tags` value adds a tag;
    /// [`Value::Default`] restores the default (no tags, the name from the path...).
    pub fn set(&mut self, name: &str, value: Value<'_>) -> Result<()> {
        let name = settings::find(UPLOAD_OPTIONS, name, "upload option")?.name;
        let v = &value;
        let reset = value == Value::Default;
        match name {
            "name" if reset => self.name = None,
            "name" => {
                let n = settings::text(name, v)?;
                validate_name(n)?;
                self.name = Some(n.to_owned());
            }
            "file_type" if reset => self.file_type = None,
            "file_type" => {
                let t = settings::text(name, v)?;
                validate_type(t.strip_prefix('.').unwrap_or(t))?;
                self.file_type = Some(t.to_owned());
            }
            "tags" if reset => self.tags.clear(),
            "tags" => {
                let t = settings::text(name, v)?;
                check_tag(t)?;
                self.tags.push(t.to_owned());
            }
            "class_id" if reset => self.class_id = None,
            "class_id" => self.class_id = Some(check_class_id(settings::integer(name, v)?)?),
            "transcode" | "screenshot" | "watermark" => {
                let on = !reset && settings::boolean(name, v)?;
                match name {
                    "transcode" => self.transcode = on,
                    "screenshot" => self.screenshot = on,
                    _ => self.watermark = on,
                }
            }
            _ => unreachable!("every option is handled"),
        }
        Ok(())
    }
}

/// A tag: not empty, no control characters.
fn check_tag(tag: &str) -> Result<()> {
    if tag.is_empty() || tag.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "tag {tag:?} is empty or has control characters"
        )));
    }
    Ok(())
}

/// A category id: 0 or more.
fn check_class_id(c: i128) -> Result<i64> {
    i64::try_from(c).ok().filter(|c| *c >= 0).ok_or_else(|| {
        Error::invalid_input(format!(
            "class_id {c} is out of range: use the id of a category (0 or more), or none"
        ))
    })
}

/// Checks a `fileName` against the service's rules. The one rule for names: the client applies
/// it before hashing, the emulator to what it receives.
pub fn validate_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid_input(format!(
            "the video name {name:?} is empty or only spaces, which the service refuses; pass a name"
        )));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Error::invalid_input(format!(
            "the video name {name:?} is {} bytes; the service accepts at most {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| FORBIDDEN_NAME_CHARS.contains(c) || c.is_control())
    {
        return Err(Error::invalid_input(format!(
            "the video name {name:?} contains {c:?}; the service refuses \\ / : * ? \" < > and control characters"
        )));
    }
    if name.chars().all(|c| c == '.' || c.is_whitespace()) {
        return Err(Error::invalid_input(format!(
            "the video name {name:?} is only dots, which the service refuses (it reads as a path); pass a name"
        )));
    }
    Ok(())
}

fn validate_type(t: &str) -> Result<()> {
    if t.is_empty() || t.len() > 16 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid_input(format!(
            "the video type {t:?} is not valid: use letters and digits only, such as \"mp4\""
        )));
    }
    Ok(())
}

/// The file's stem with forbidden characters replaced by `_`, cut to 40 bytes on a character
/// boundary and trimmed. Non-UTF-8 bytes become U+FFFD, which the service accepts. A stem that
/// leaves no usable name (only dots or spaces) is an error: the caller must pass a name.
pub fn derive_name(path: &Path) -> Result<String> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if FORBIDDEN_NAME_CHARS.contains(&c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut end = cleaned.len().min(MAX_NAME_BYTES);
    while !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    let cut = cleaned[..end].trim();
    validate_name(cut).map_err(|e| {
        Error::invalid_input(format!(
            "cannot name the video after {}: {}",
            path.display(),
            e.message()
        ))
    })?;
    Ok(cut.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_from_path() {
        assert_eq!(derive_name(Path::new("/x/holiday.mp4")).unwrap(), "holiday");
        assert_eq!(derive_name(Path::new("a:b*c?.flv")).unwrap(), "a_b_c_");
        assert_eq!(
            derive_name(Path::new("v1.2.final.mp4")).unwrap(),
            "v1.2.final"
        );
        let long = "é".repeat(30) + ".mp4"; // 60 bytes of stem
        let n = derive_name(Path::new(&long)).unwrap();
        assert!(n.len() <= 40 && n.chars().all(|c| c == 'é'), "{n}");
        assert_eq!(n.len(), 40);
    }

    #[test]
    fn explicit_name_rules() {
        assert!(validate_name("ok name").is_ok());
        assert!(validate_name(&"x".repeat(41)).is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name("").is_err());
        assert!(validate_name("..").is_err());
        assert!(validate_name("a.b").is_ok());
        for bad in ["....", "   ", "\t", " \u{3000} "] {
            let e = validate_name(bad).unwrap_err();
            assert!(e.to_string().contains("pass a name"), "{bad:?}: {e}");
        }
        for path in ["/v/....mp4", "/v/   .mp4", "/v/. . .mp4"] {
            let e = derive_name(Path::new(path)).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
            assert!(e.to_string().contains("pass a name"), "{path}: {e}");
        }
    }

    #[test]
    fn params_from_options() {
        let o = UploadOptions {
            tags: vec!["a".into(), "b c".into()],
            class_id: Some(3),
            transcode: true,
            ..Default::default()
        };
        let p = o.init_params(Path::new("/v/clip.MP4")).unwrap();
        let get = |k: &str| p.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.as_str());
        assert_eq!(get("fileName"), Some("clip"));
        assert_eq!(get("fileType"), Some("mp4"));
        assert_eq!(get("tags.2"), Some("b c"));
        assert_eq!(get("classId"), Some("3"));
        assert_eq!(get("isTranscode"), Some("1"));
        assert_eq!(get("isWatermark"), None);
    }

    #[test]
    fn no_extension_needs_a_type() {
        let e = UploadOptions::default()
            .init_params(Path::new("/v/clip"))
            .unwrap_err();
        assert!(e.to_string().contains("no extension"), "{e}");
        let o = UploadOptions {
            file_type: Some(".mov".into()),
            ..Default::default()
        };
        assert!(o.init_params(Path::new("/v/clip")).is_ok());
    }
}
