//! The service's answers, parsed strictly enough to catch a wrong endpoint (HTML, truncated JSON,
//! missing fields) and loosely enough to survive the provider's quirks (numbers sent as strings).

use serde_json::{Map, Value};

use crate::answer_json::{ListPartsField, RawAnswer, Scalar, Top};
use crate::error::{Error, ErrorKind, Result, ServerError};

/// The envelope every action answers with.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub code: i64,
    pub fields: Map<String, Value>,
    /// InitUpload's `listParts`, decoded apart from `fields` (see [`RawAnswer`]).
    list_parts: ListPartsField,
}

/// Parses an upload host's response body. A `code < 0` becomes an `Err` carrying the server's
/// verdict.
pub fn parse_envelope(action: &str, body: &[u8]) -> Result<Envelope> {
    parse_envelope_from(Answerer::UPLOAD_HOST, action, body)
}

/// Who answered, as messages name it and the option that points at it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answerer {
    pub(crate) name: &'static str,
    pub(crate) option: &'static str,
}

impl Answerer {
    pub(crate) const UPLOAD_HOST: Answerer = Answerer {
        name: "the upload host",
        option: "endpoint",
    };
    pub(crate) const EVENT_API: Answerer = Answerer {
        name: "the event API",
        option: "events endpoint",
    };
}

/// The envelope every action of the API family answers with (`code`, `message`, `codeDesc`,
/// `canRetry`): `code < 0` or 4000..=7000 is the service's error.
pub(crate) fn parse_envelope_from(by: Answerer, action: &str, body: &[u8]) -> Result<Envelope> {
    let malformed = |what: String| Error::new(ErrorKind::Protocol, what).transient(true);
    let top: Top = serde_json::from_slice(body).map_err(|e| {
        malformed(format!(
            "{action}: {}'s answer is not JSON ({e}); it starts with {:?}. Is the {} right?",
            by.name,
            preview(body),
            by.option
        ))
    })?;
    let Top::Object(RawAnswer { fields, list_parts }) = top else {
        return Err(malformed(format!(
            "{action}: {} answered JSON that is not an object: {:?}",
            by.name,
            preview(body)
        )));
    };
    let code = int_field(&fields, "code")
        .or_else(|| int_field(&fields, "Code"))
        .ok_or_else(|| {
            malformed(format!(
                "{action}: {}'s answer has no numeric \"code\": {:?}",
                by.name,
                preview(body)
            ))
        })?;
    if code < 0 || (4000..=7000).contains(&code) {
        let server = ServerError {
            code,
            message: printable(str_field(&fields, "message").unwrap_or_default()),
            code_desc: printable(str_field(&fields, "codeDesc").unwrap_or_default()),
            can_retry: int_field(&fields, "canRetry").unwrap_or(0) == 1
                || fields.get("canRetry") == Some(&Value::Bool(true)),
        };
        return Err(Error::from_server(action, server));
    }
    Ok(Envelope {
        code,
        fields,
        list_parts,
    })
}

/// The largest InitUpload answer accepted for a file of `file_size` bytes. A resume lists every
/// stored part (about 86 bytes each), so a fixed cap would make large files impossible to resume;
/// sizing it from the most parts the file can have (at the smallest part size) still bounds what
/// a hostile answer can make the client hold.
pub fn init_answer_limit(file_size: u64) -> u64 {
    const BASE: u64 = 64 * 1024;
    /// Room for an entry with extra fields or pretty-printing.
    const PER_PART: u64 = 256;
    let most_parts = file_size.div_ceil(crate::plan::ALLOWED_PART_SIZES[0]);
    BASE.saturating_add(most_parts.saturating_mul(PER_PART))
}

/// A part the server already holds, from InitUpload's `listParts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    pub offset: u64,
    pub data_size: u64,
    pub data_md5: String,
}

/// What InitUpload decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitOutcome {
    /// code 0: send every part.
    New,
    /// code 1: the server has some parts; every later part must use `data_size`.
    Resume {
        data_size: u64,
        parts: Vec<ListedPart>,
    },
    /// code 2: the file is already there ("instant upload").
    Instant { file_id: String, url: String },
}

pub fn parse_init(body: &[u8]) -> Result<InitOutcome> {
    let env = parse_envelope("InitUpload", body)?;
    match env.code {
        0 => Ok(InitOutcome::New),
        1 => {
            let data_size = int_field(&env.fields, "dataSize")
                .ok_or_else(|| missing("InitUpload", "dataSize", body))?;
            let allowed = u64::try_from(data_size)
                .is_ok_and(|n| crate::plan::ALLOWED_PART_SIZES.contains(&n));
            if !allowed {
                // Only the two part sizes exist; trusting another would make the client cut the
                // file into parts of any size (1 byte: millions of requests; 1 TiB: the whole file
                // in memory).
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "InitUpload: the upload host fixed the part size at {data_size} bytes, which the protocol does not allow (only 524288 and 1048576); nothing was sent"
                    ),
                ));
            }
            let parts = match env.list_parts {
                ListPartsField::Absent => Vec::new(),
                ListPartsField::NotArray => {
                    return Err(missing("InitUpload", "listParts (an array)", body));
                }
                ListPartsField::Parts(list) => {
                    let mut parts = Vec::with_capacity(list.len());
                    for entry in list {
                        let offset = entry.offset.and_then(|v| v.int()).filter(|&n| n >= 0);
                        let size = entry.data_size.and_then(|v| v.int()).filter(|&n| n > 0);
                        let md5 = entry.data_md5.and_then(Scalar::into_string);
                        match (entry.is_object, offset, size, md5) {
                            (true, Some(offset), Some(size), Some(md5)) => parts.push(ListedPart {
                                offset: offset as u64,
                                data_size: size as u64,
                                data_md5: md5.to_ascii_lowercase(),
                            }),
                            (false, ..) => {
                                return Err(missing("InitUpload", "listParts[] objects", body));
                            }
                            _ => {
                                return Err(missing(
                                    "InitUpload",
                                    "offset/dataSize/dataMd5 in listParts",
                                    body,
                                ));
                            }
                        }
                    }
                    parts
                }
            };
            Ok(InitOutcome::Resume {
                data_size: data_size as u64,
                parts,
            })
        }
        2 => {
            let (file_id, url) = file_id_url("InitUpload", &env, body)?;
            Ok(InitOutcome::Instant { file_id, url })
        }
        other => Err(Error::new(
            ErrorKind::Protocol,
            format!("InitUpload answered code {other}, which the protocol does not define"),
        )),
    }
}

/// UploadPart succeeded when it parses with a non-negative code.
pub fn parse_part(body: &[u8]) -> Result<()> {
    parse_envelope("UploadPart", body).map(|_| ())
}

/// FinishUpload's file id and url.
pub fn parse_finish(body: &[u8]) -> Result<(String, String)> {
    let env = parse_envelope("FinishUpload", body)?;
    file_id_url("FinishUpload", &env, body)
}

/// The file id and url are handed to the app, which stores them, prints them, puts them in web
/// pages: an answer that makes them something else (control characters that rewrite a terminal,
/// a `javascript:` url, megabytes) is refused rather than passed on.
fn file_id_url(action: &str, env: &Envelope, body: &[u8]) -> Result<(String, String)> {
    const MAX_ID: usize = 128;
    const MAX_URL: usize = 8192;
    let file_id = str_field(&env.fields, "fileId")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing(action, "fileId", body))?;
    if file_id.len() > MAX_ID
        || !file_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "{action}: the upload host's fileId {:?} is not an id (at most {MAX_ID} letters, digits, '-' or '_'); is the endpoint right?",
                preview(file_id.as_bytes())
            ),
        ));
    }
    let url = str_field(&env.fields, "url").ok_or_else(|| missing(action, "url", body))?;
    let scheme_ok = ["http://", "https://"].iter().any(|p| {
        url.len() > p.len() && url.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    });
    if !scheme_ok || url.len() > MAX_URL || url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "{action}: the upload host's url {:?} is not an http:// or https:// URL of at most {MAX_URL} bytes without spaces or control characters; is the endpoint right?",
                preview(url.as_bytes())
            ),
        ));
    }
    Ok((file_id, url))
}

fn missing(action: &str, what: &str, body: &[u8]) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!(
            "{action}: the upload host's answer lacks {what}: {:?}",
            preview(body)
        ),
    )
}

/// Integers arrive as numbers or, from some gateways, as numeric strings.
fn int_field(o: &Map<String, Value>, k: &str) -> Option<i64> {
    match o.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Strings arrive as strings or, for ids, as numbers.
pub(crate) fn str_field(o: &Map<String, Value>, k: &str) -> Option<String> {
    match o.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The service's own text (`message`, `codeDesc`) goes into error messages that land in logs and
/// terminals: control characters in it are written as escapes, never passed through.
fn printable(s: String) -> String {
    if !s.chars().any(char::is_control) {
        return s;
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The first 120 characters of a body, for messages.
pub(crate) fn preview(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(240)]);
    let s: String = s.chars().take(120).collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_new_resume_instant() {
        assert_eq!(
            parse_init(br#"{"code":0,"message":"","codeDesc":"","canRetry":0}"#).unwrap(),
            InitOutcome::New
        );
        let r = parse_init(
            br#"{"code":1,"dataSize":524288,"listParts":[{"offset":0,"dataSize":524288,"dataMd5":"0BEE89B07A248E27C83FC3D5951213C1"}]}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            InitOutcome::Resume {
                data_size: 524288,
                parts: vec![ListedPart {
                    offset: 0,
                    data_size: 524288,
                    data_md5: "0bee89b07a248e27c83fc3d5951213c1".into()
                }]
            }
        );
        let i = parse_init(br#"{"code":2,"message":"","fileId":"16092504232103571364","url":"http://10013.vod2.myqcloud.com/vod10013/16092504232103571364/f0.mp4"}"#).unwrap();
        assert!(
            matches!(i, InitOutcome::Instant { ref file_id, .. } if file_id == "16092504232103571364")
        );
    }

    #[test]
    fn numbers_as_strings_and_ids_as_numbers() {
        let r = parse_init(br#"{"code":"1","dataSize":"1048576","listParts":[]}"#).unwrap();
        assert!(matches!(
            r,
            InitOutcome::Resume {
                data_size: 1048576,
                ..
            }
        ));
        let (id, _) =
            parse_finish(br#"{"code":0,"fileId":7031868222808505913,"url":"https://u/f0.mp4"}"#)
                .unwrap();
        assert_eq!(id, "7031868222808505913");
    }

    #[test]
    fn server_errors() {
        let e = parse_init(br#"{"code":-10001,"message":"invalid arg","canRetry":0}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.server().unwrap().code, -10001);
        assert!(!e.is_transient());
        let e = parse_part(br#"{"code":-10004,"message":"write cache failed","canRetry":1}"#)
            .unwrap_err();
        assert!(e.is_transient());
        let e = parse_part(br#"{"code":-10002,"message":"sig","canRetry":1}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(!e.is_transient(), "auth failures are never retried");
        let e = parse_part(br#"{"code":4400,"message":"freq","canRetry":1}"#).unwrap_err();
        assert_eq!(e.server().unwrap().code, 4400);
        assert!(e.is_transient());
    }

    #[test]
    fn malformed_bodies() {
        let e = parse_init(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(
            e.to_string().contains("not JSON") && e.to_string().contains("<html>"),
            "{e}"
        );
        let e = parse_init(br#"{"code":0,"mess"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        let e = parse_init(br#"{"message":"hi"}"#).unwrap_err();
        assert!(e.to_string().contains("\"code\""), "{e}");
        assert_eq!(
            parse_init(b"[1,2]").unwrap_err().kind(),
            ErrorKind::Protocol
        );
        assert_eq!(parse_init(b"").unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn missing_fields() {
        let e = parse_init(br#"{"code":1}"#).unwrap_err();
        assert!(e.to_string().contains("dataSize"), "{e}");
        let e =
            parse_init(br#"{"code":1,"dataSize":524288,"listParts":[{"offset":0}]}"#).unwrap_err();
        assert!(e.to_string().contains("listParts"), "{e}");
        let e = parse_finish(br#"{"code":0,"url":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("fileId"), "{e}");
        let e = parse_init(br#"{"code":2,"fileId":"1"}"#).unwrap_err();
        assert!(e.to_string().contains("url"), "{e}");
        let e = parse_init(br#"{"code":7}"#).unwrap_err();
        assert!(e.to_string().contains("code 7"), "{e}");
    }

    #[test]
    fn a_file_id_or_url_that_is_not_one_is_refused() {
        let ok = |id: &str, url: &str| {
            let body = serde_json::json!({"code": 0, "fileId": id, "url": url}).to_string();
            parse_finish(body.as_bytes())
        };
        assert!(ok("5285890781763144364", "http://1.vod2.myqcloud.com/v/f0.mp4").is_ok());
        assert!(ok("a-b_C9", "HTTPS://h/x?y=1&z=%20").is_ok());
        let long_id = "9".repeat(129);
        let long_url = format!("http://h/{}", "a".repeat(8192));
        for (id, url) in [
            ("12\u{1b}[31mRED", "http://h/f0.mp4"),
            ("1\0", "http://h/f0.mp4"),
            ("1 2", "http://h/f0.mp4"),
            (long_id.as_str(), "http://h/f0.mp4"),
            ("1", "http://x/\u{1b}[2J"),
            ("1", "http://x/a\nfile id: fake"),
            ("1", "javascript:alert(1)"),
            ("1", "//h/f0.mp4"),
            ("1", "http://"),
            ("1", "htt\u{e9}://h/f0.mp4"),
            ("1", "https:/\u{e9}h/f0.mp4"),
            ("1", "http://h/a b"),
            ("1", long_url.as_str()),
        ] {
            let e = ok(id, url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{id:?} {url:?}: {e}");
            assert!(!e.is_transient(), "{e}");
            let m = e.to_string();
            assert!(m.contains("fileId") || m.contains("url"), "{m}");
            assert!(!m.contains('\u{1b}') && !m.contains('\n'), "{m:?}");
        }
    }

    #[test]
    fn control_characters_in_the_services_text_are_escaped() {
        let e = parse_part(
            br#"{"code":-10003,"message":"bad\u0007 part\u001b[2J\nnext","codeDesc":"x\ty","canRetry":0}"#,
        )
        .unwrap_err();
        let server = e.server().unwrap();
        assert_eq!(server.message, "bad\\u{7} part\\u{1b}[2J\\nnext");
        assert_eq!(server.code_desc, "x\\ty");
        assert!(!e.to_string().chars().any(char::is_control), "{e}");
    }

    #[test]
    fn only_the_two_part_sizes_are_accepted_from_a_resume() {
        for bad in ["1", "1099511627776", "-524288", "0", "\"big\"", "524288.5"] {
            let body = format!(r#"{{"code":1,"dataSize":{bad},"listParts":[]}}"#);
            let e = parse_init(body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{bad}: {e}");
            assert!(!e.is_transient(), "{bad}: a wrong answer is not retried");
            assert!(
                e.to_string().contains("dataSize") || e.to_string().contains("part size"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn list_parts_shapes() {
        let e = parse_init(br#"{"code":1,"dataSize":524288,"listParts":[1,2]}"#).unwrap_err();
        assert!(e.to_string().contains("listParts[] objects"), "{e}");
        let e = parse_init(br#"{"code":1,"dataSize":524288,"listParts":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("an array"), "{e}");
        let e =
            parse_init(br#"{"code":1,"dataSize":524288,"listParts":{"offset":0}}"#).unwrap_err();
        assert!(e.to_string().contains("an array"), "{e}");
        let e = parse_init(
            br#"{"code":1,"dataSize":524288,"listParts":[{"offset":-524288,"dataSize":524288,"dataMd5":"a"}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("offset/dataSize/dataMd5"), "{e}");
        let r = parse_init(br#"{"code":1,"dataSize":524288,"listParts":null}"#).unwrap();
        assert_eq!(
            r,
            InitOutcome::Resume {
                data_size: 524288,
                parts: vec![]
            }
        );
        // Extra fields in entries and in the envelope are ignored; numbers as strings work.
        let r = parse_init(
            br#"{"listParts":[{"offset":"524288","x":[1,{"y":2}],"dataSize":524288,"dataMd5":"AB"}],"code":1,"dataSize":524288,"requestId":"r"}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            InitOutcome::Resume {
                data_size: 524288,
                parts: vec![ListedPart {
                    offset: 524288,
                    data_size: 524288,
                    data_md5: "ab".into()
                }]
            }
        );
    }

    /// A resume of 16,384 parts (8 GiB at 512 KiB) parses, and fits the limit its file allows.
    #[test]
    fn a_long_part_list_fits_its_file_limit() {
        let n = 16_384u64;
        let entries: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"offset":{},"dataSize":524288,"dataMd5":"{:032x}"}}"#,
                    i * 524_288,
                    i
                )
            })
            .collect();
        let body = format!(
            r#"{{"code":1,"message":"","codeDesc":"","canRetry":0,"dataSize":524288,"listParts":[{}]}}"#,
            entries.join(",")
        );
        assert!(body.len() > 256 * 1024, "larger than any fixed small cap");
        assert!((body.len() as u64) < init_answer_limit(n * 524_288));
        let InitOutcome::Resume { parts, .. } = parse_init(body.as_bytes()).unwrap() else {
            panic!("a resume")
        };
        assert_eq!(parts.len(), n as usize);
        assert_eq!(parts[16_383].offset, 16_383 * 524_288);
        // The limit grows with the file and stays bounded by it.
        assert!(init_answer_limit(1) >= 64 * 1024);
        assert!(init_answer_limit(50 << 30) < 32 << 20);
        assert!(
            init_answer_limit(u64::MAX) > init_answer_limit(50 << 30),
            "no overflow"
        );
    }
}
