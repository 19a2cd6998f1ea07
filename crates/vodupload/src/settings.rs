//! Options by name: how every face (CLI, C, Python, PHP) sets the core's options and learns
//! which exist.
//!
//! A face converts its own types into a [`Value`] and calls
//! [`ClientOptions::set`](crate::ClientOptions::set) or
//! [`UploadOptions::set`](crate::UploadOptions::set) with the option's name; the core converts
//! the value and applies the option's rule, so a wrong value gets the same error, with the same
//! message, in every face. The lists below are the names; each face's tests check that it can set
//! every option and read every result field, so an option added here without its faces fails CI.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// A value as a face has it, before the core converts it for an option.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// Text as typed or configured: parsed as the option's type (a number, `true`/`false`...).
    Text(&'a str),
    Int(i128),
    /// Seconds, for durations; other numbers must be whole.
    Float(f64),
    Bool(bool),
    Path(&'a Path),
    /// The option's default.
    Default,
}

/// One option or result field: its name (snake_case; each face spells it its own way) and what
/// it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

/// What kind of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    Integer,
    /// A whole number, or the text `auto`.
    IntegerOrAuto,
    /// A duration, in seconds (fractions allowed).
    Seconds,
    Bool,
    Text,
    /// A URL.
    Url,
    Path,
    /// Text; each `set` adds one.
    TextList,
}

const fn setting(name: &'static str, kind: Kind, help: &'static str) -> Setting {
    Setting { name, kind, help }
}

/// Every [`ClientOptions`](crate::ClientOptions) option.
pub const CLIENT_OPTIONS: &[Setting] = &[
    setting("endpoint", Kind::Url, "URL of the upload API"),
    setting("region", Kind::Text, "the Region parameter, e.g. gz"),
    setting(
        "part_size",
        Kind::Integer,
        "bytes per part: 524288 or 1048576",
    ),
    setting(
        "concurrency",
        Kind::IntegerOrAuto,
        "parts in flight at once, 1 to 64",
    ),
    setting(
        "max_attempts",
        Kind::Integer,
        "tries per request, the first included, 1 to 100",
    ),
    setting(
        "retry_base_delay",
        Kind::Seconds,
        "first retry delay; doubles per retry",
    ),
    setting("retry_max_delay", Kind::Seconds, "longest retry delay"),
    setting(
        "connect_timeout",
        Kind::Seconds,
        "time to connect (TCP and TLS)",
    ),
    setting(
        "request_timeout",
        Kind::Seconds,
        "time for one whole request, the part's bytes included",
    ),
    setting("ca_file", Kind::Path, "PEM file of the only trusted roots"),
    setting("proxy", Kind::Url, "HTTP proxy, http://host:port"),
    setting("signature_method", Kind::Text, "HmacSHA1 or HmacSHA256"),
    setting(
        "rate_limit",
        Kind::Bool,
        "pace requests under the service's published rates",
    ),
    setting(
        "rate_upload_part",
        Kind::Integer,
        "UploadPart calls a minute the account may make (0: not paced)",
    ),
    setting(
        "rate_init_finish",
        Kind::Integer,
        "InitUpload and FinishUpload calls a minute, each (0: not paced)",
    ),
    setting(
        "pacing_url",
        Kind::Url,
        "share the pacing through Redis, redis://host:port/db",
    ),
    setting(
        "fingerprint_cache",
        Kind::Path,
        "private directory caching files' SHA-1 and part MD5s",
    ),
    setting("events_endpoint", Kind::Url, "URL of the event API"),
];

/// Every [`UploadOptions`](crate::UploadOptions) option.
pub const UPLOAD_OPTIONS: &[Setting] = &[
    setting(
        "name",
        Kind::Text,
        "the video's name, without extension, at most 40 bytes",
    ),
    setting("file_type", Kind::Text, "the video's type, e.g. mp4"),
    setting("tags", Kind::TextList, "tags of the video"),
    setting("class_id", Kind::Integer, "category id, 0 or more"),
    setting("transcode", Kind::Bool, "ask the service to transcode"),
    setting("screenshot", Kind::Bool, "ask the service for screenshots"),
    setting("watermark", Kind::Bool, "ask the service to watermark"),
];

/// Every field of [`UploadResult`](crate::UploadResult).
pub const RESULT_FIELDS: &[Setting] = &[
    setting("file_id", Kind::Text, "the service's id of the video"),
    setting("url", Kind::Url, "where the service serves the file"),
    setting(
        "instant",
        Kind::Bool,
        "the service already had the file: nothing was sent",
    ),
    setting("file_sha1", Kind::Text, "SHA-1 of the file, lowercase hex"),
    setting("file_size", Kind::Integer, "bytes"),
    setting("parts_total", Kind::Integer, "parts of the file"),
    setting("parts_uploaded", Kind::Integer, "parts this run sent"),
    setting(
        "parts_skipped",
        Kind::Integer,
        "parts the server already held",
    ),
    setting(
        "bytes_sent",
        Kind::Integer,
        "part bytes sent, retries included",
    ),
    setting(
        "retries",
        Kind::Integer,
        "requests sent again after a transient failure",
    ),
    setting(
        "elapsed",
        Kind::Seconds,
        "time from the start of hashing to the end of FinishUpload",
    ),
    setting(
        "concurrency_peak",
        Kind::Integer,
        "the most parts this upload had in flight at once",
    ),
];

/// The option `name` of `list`, or the error naming the ones that exist.
pub(crate) fn find(list: &'static [Setting], name: &str, what: &str) -> Result<&'static Setting> {
    list.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = list.iter().map(|s| s.name).collect();
        Error::invalid_input(format!(
            "unknown {what} {name:?}: the {what}s are {}",
            names.join(", ")
        ))
    })
}

/// A value as messages show it.
pub(crate) fn describe(value: &Value<'_>) -> String {
    match value {
        Value::Text(t) => format!("{t:?}"),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Path(p) => format!("the path {}", p.display()),
        Value::Default => "no value".to_owned(),
    }
}

fn wrong_type(name: &str, expected: &str, value: &Value<'_>) -> Error {
    Error::invalid_input(format!(
        "{name} must be {expected}, not {}",
        describe(value)
    ))
}

/// A whole number; the caller's rule decides the range.
pub(crate) fn integer(name: &str, value: &Value<'_>) -> Result<i128> {
    match *value {
        Value::Int(n) => Ok(n),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => Ok(f as i128),
        Value::Text(t) => t
            .trim()
            .parse::<i128>()
            .map_err(|_| wrong_type(name, "a whole number", value)),
        _ => Err(wrong_type(name, "a whole number", value)),
    }
}

/// Seconds; the caller's rule decides the range (NaN and infinities fail it).
pub(crate) fn seconds(name: &str, value: &Value<'_>) -> Result<f64> {
    match *value {
        Value::Float(f) => Ok(f),
        Value::Int(n) => Ok(n as f64),
        Value::Text(t) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| wrong_type(name, "a number of seconds", value)),
        _ => Err(wrong_type(name, "a number of seconds", value)),
    }
}

pub(crate) fn boolean(name: &str, value: &Value<'_>) -> Result<bool> {
    match *value {
        Value::Bool(b) => Ok(b),
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        Value::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(wrong_type(name, "true or false", value)),
        },
        _ => Err(wrong_type(name, "true or false", value)),
    }
}

pub(crate) fn text<'v>(name: &str, value: &Value<'v>) -> Result<&'v str> {
    match *value {
        Value::Text(t) => Ok(t),
        _ => Err(wrong_type(name, "text", value)),
    }
}

pub(crate) fn path<'v>(name: &str, value: &Value<'v>) -> Result<&'v Path> {
    match *value {
        Value::Path(p) => Ok(p),
        Value::Text(t) => Ok(Path::new(t)),
        _ => Err(wrong_type(name, "a path", value)),
    }
}

/// The rule of every duration option: more than zero (a request without a limit could hang, a
/// zero delay would retry in a tight loop) and at most `max`.
pub(crate) fn check_duration(name: &str, secs: f64, max: Duration) -> Result<Duration> {
    if secs.is_finite() && secs > 0.0 && secs <= max.as_secs_f64() {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(Error::invalid_input(format!(
            "{name} must be more than 0 and at most {} seconds, not {secs}",
            max.as_secs()
        )))
    }
}

/// The rule of every counted option: `min..=max`.
pub(crate) fn check_count(name: &str, n: i128, min: u64, max: u64, note: &str) -> Result<u64> {
    match u64::try_from(n) {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(Error::invalid_input(format!(
            "{name} {n} is out of range: use {min} to {max}{note}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        for list in [CLIENT_OPTIONS, UPLOAD_OPTIONS, RESULT_FIELDS] {
            let mut names: Vec<&str> = list.iter().map(|s| s.name).collect();
            assert!(names.iter().all(|n| {
                n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            }));
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), list.len());
        }
        let e = find(CLIENT_OPTIONS, "concurency", "client option").unwrap_err();
        assert!(
            e.to_string().contains("concurrency, max_attempts"),
            "the message lists the names: {e}"
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(integer("n", &Value::Text(" 42 ")).unwrap(), 42);
        assert_eq!(integer("n", &Value::Float(3.0)).unwrap(), 3);
        let e = integer("n", &Value::Float(1.5)).unwrap_err();
        assert_eq!(e.to_string(), "n must be a whole number, not 1.5");
        assert_eq!(seconds("t", &Value::Text("1.0E+2")).unwrap(), 100.0);
        assert!(seconds("t", &Value::Text("NAN")).unwrap().is_nan());
        assert!(boolean("b", &Value::Text("False")).is_ok_and(|b| !b));
        assert!(boolean("b", &Value::Int(2)).is_err());
        let e = check_duration("t", f64::NAN, Duration::from_secs(10)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t must be more than 0 and at most 10 seconds, not NaN"
        );
        assert_eq!(
            check_count("c", -1, 1, 64, "").unwrap_err().to_string(),
            "c -1 is out of range: use 1 to 64"
        );
    }

    /// docs/options.md has a row for every option and result field, in every face's column.
    #[test]
    fn the_options_page_names_every_option() {
        let page = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/options.md"),
        )
        .unwrap();
        for s in CLIENT_OPTIONS
            .iter()
            .chain(UPLOAD_OPTIONS)
            .chain(RESULT_FIELDS)
        {
            let row = page
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", s.name)))
                .unwrap_or_else(|| panic!("docs/options.md has no row for {}", s.name));
            assert!(
                row.matches('|').count() >= 7,
                "the row of {} fills every face's column: {row}",
                s.name
            );
        }
    }
}
