//! Protocol rules that need no I/O: query parsing, parameter validation, answers, the replay
//! cache and the rate limiter.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::store::SessionMeta;

/// At most this many bytes of query string are looked at.
pub(crate) const MAX_QUERY_BYTES: usize = 32 * 1024;
/// At most this many parameters.
pub(crate) const MAX_PARAMS: usize = 256;
/// Requests whose Timestamp is further than this from the emulator's clock are refused.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 2 * 3600;
/// Largest part accepted with `any_part_size`.
pub(crate) const MAX_ANY_PART_SIZE: u64 = 64 * 1024 * 1024;
/// The part sizes the service accepts.
pub(crate) const PART_SIZES: [u64; 2] = [524_288, 1_048_576];

pub(crate) const E_COMMON: i64 = -10001;
pub(crate) const E_SIGNATURE: i64 = -10002;
pub(crate) const E_PROTOCOL: i64 = -10003;
pub(crate) const E_WRITE_CACHE: i64 = -10004;
pub(crate) const E_PACKET_SIZE: i64 = -10006;
pub(crate) const E_FREQUENCY: i64 = 4400;
pub(crate) const E_REPLAY: i64 = 4500;
pub(crate) const E_PROTOCOL_NOT_SUPPORTED: i64 = 4600;
pub(crate) const E_NOT_FOUND: i64 = 5000;

/// The protocol actions: the three of an upload, and the two of the event queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Action {
    Init,
    Part,
    Finish,
    PullEvent,
    ConfirmEvent,
}

impl Action {
    pub(crate) fn parse(s: &str) -> Option<Action> {
        match s {
            "InitUpload" => Some(Action::Init),
            "UploadPart" => Some(Action::Part),
            "FinishUpload" => Some(Action::Finish),
            "PullEvent" => Some(Action::PullEvent),
            "ConfirmEvent" => Some(Action::ConfirmEvent),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Init => "InitUpload",
            Action::Part => "UploadPart",
            Action::Finish => "FinishUpload",
            Action::PullEvent => "PullEvent",
            Action::ConfirmEvent => "ConfirmEvent",
        }
    }

    /// Calls per minute per SecretId; None: not limited (PROTOCOL.md gives no rate for the event
    /// actions).
    pub(crate) fn rate_limit(self) -> Option<usize> {
        match self {
            Action::Part => Some(10_000),
            Action::Init | Action::Finish => Some(100),
            Action::PullEvent | Action::ConfirmEvent => None,
        }
    }
}

/// A protocol answer (always HTTP 200 with JSON).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub code: i64,
    fields: Map<String, Value>,
    /// Close the connection after answering (the request body was not read in full).
    pub close: bool,
}

fn code_desc(code: i64) -> &'static str {
    match code {
        E_COMMON => "InvalidCommonParameter",
        E_SIGNATURE => "SignatureError",
        E_PROTOCOL => "InvalidProtocolParameter",
        E_WRITE_CACHE => "WriteCacheFailed",
        -10005 => "ReadCacheFailed",
        E_PACKET_SIZE => "InvalidPacketSize",
        E_FREQUENCY => "RequestLimitExceeded",
        E_REPLAY => "RequestExpiredOrReplayed",
        E_PROTOCOL_NOT_SUPPORTED => "ProtocolNotSupported",
        E_NOT_FOUND => "ResourceNotFound",
        _ => "",
    }
}

impl Reply {
    /// A success (`code` 0, 1 or 2).
    pub(crate) fn success(code: i64) -> Reply {
        let mut fields = Map::new();
        fields.insert("code".into(), json!(code));
        fields.insert("message".into(), json!(""));
        fields.insert("codeDesc".into(), json!(""));
        fields.insert("canRetry".into(), json!(0));
        Reply {
            code,
            fields,
            close: false,
        }
    }

    pub(crate) fn error(code: i64, message: impl Into<String>, can_retry: bool) -> Reply {
        let mut fields = Map::new();
        fields.insert("code".into(), json!(code));
        fields.insert("message".into(), json!(message.into()));
        fields.insert("codeDesc".into(), json!(code_desc(code)));
        fields.insert("canRetry".into(), json!(u8::from(can_retry)));
        Reply {
            code,
            fields,
            close: false,
        }
    }

    pub(crate) fn common(message: impl Into<String>) -> Reply {
        Reply::error(E_COMMON, message, false)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Reply {
        Reply::error(E_PROTOCOL, message, false)
    }

    pub(crate) fn packet(message: impl Into<String>) -> Reply {
        Reply::error(E_PACKET_SIZE, message, false)
    }

    pub(crate) fn with(mut self, key: &str, value: Value) -> Reply {
        self.fields.insert(key.into(), value);
        self
    }

    pub(crate) fn closing(mut self) -> Reply {
        self.close = true;
        self
    }

    pub(crate) fn is_success(&self) -> bool {
        (0..=2).contains(&self.code)
    }

    pub(crate) fn message(&self) -> &str {
        self.fields
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.fields).unwrap_or_else(|_| b"{}".to_vec())
    }
}

/// The decoded query string, in the order sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub list: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes `%XX` (anything else, `+` included, stays as it is). Invalid escapes are kept literally.
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hi = (b[i + 1] as char).to_digit(16);
            let lo = (b[i + 2] as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Parses the query string; every problem is a -10001 answer.
pub(crate) fn parse_query(query: &str) -> Result<Params, Reply> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Reply::common(format!(
            "query string too long: {} bytes, at most {MAX_QUERY_BYTES}",
            query.len()
        )));
    }
    let mut list: Vec<(String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let k = String::from_utf8(percent_decode(k))
            .map_err(|_| Reply::common("a parameter name is not valid UTF-8"))?;
        let v = String::from_utf8(percent_decode(v)).map_err(|_| {
            Reply::common(format!(
                "the value of parameter {} is not valid UTF-8",
                printable(&k)
            ))
        })?;
        if k.is_empty() {
            return Err(Reply::common("empty parameter name in the query string"));
        }
        if !seen.insert(k.clone()) {
            return Err(Reply::common(format!(
                "parameter {} given more than once",
                printable(&k)
            )));
        }
        list.push((k, v));
        if list.len() > MAX_PARAMS {
            return Err(Reply::common(format!(
                "too many parameters: at most {MAX_PARAMS}"
            )));
        }
    }
    Ok(Params { list })
}

/// A parameter name or value made safe to echo in a message or a log line.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    format!("{out:?}")
}

/// The common parameters, checked (-10001).
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub secret_id: String,
    pub signature: String,
    pub signature_method: vodupload::signature::SignatureMethod,
    pub timestamp: u64,
}

fn required<'a>(p: &'a Params, name: &str, code: i64) -> Result<&'a str, Reply> {
    match p.get(name) {
        None => Err(Reply::error(
            code,
            format!("missing parameter {name}"),
            false,
        )),
        Some("") => Err(Reply::error(code, format!("empty parameter {name}"), false)),
        Some(v) => Ok(v),
    }
}

fn uint(p: &Params, name: &str, code: i64) -> Result<u64, Reply> {
    let v = required(p, name, code)?;
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reply::error(
            code,
            format!(
                "parameter {name} must be an unsigned integer, not {}",
                printable(v)
            ),
            false,
        ));
    }
    v.parse().map_err(|_| {
        Reply::error(
            code,
            format!("parameter {name} is out of range: {}", printable(v)),
            false,
        )
    })
}

/// Checks the common parameters other than Action.
pub(crate) fn common_params(p: &Params) -> Result<Common, Reply> {
    required(p, "Region", E_COMMON)?;
    let timestamp = uint(p, "Timestamp", E_COMMON)?;
    let nonce = uint(p, "Nonce", E_COMMON)?;
    if nonce == 0 {
        return Err(Reply::common("parameter Nonce must be a positive integer"));
    }
    let secret_id = required(p, "SecretId", E_COMMON)?.to_string();
    let signature = required(p, "Signature", E_COMMON)?.to_string();
    let signature_method = match p.get("SignatureMethod") {
        None => vodupload::signature::SignatureMethod::HmacSha1,
        Some(m) => match m {
            "HmacSHA1" => vodupload::signature::SignatureMethod::HmacSha1,
            "HmacSHA256" => vodupload::signature::SignatureMethod::HmacSha256,
            other => {
                return Err(Reply::common(format!(
                    "unsupported SignatureMethod {}: use HmacSHA1 or HmacSHA256",
                    printable(other)
                )));
            }
        },
    };
    Ok(Common {
        secret_id,
        signature,
        signature_method,
        timestamp,
    })
}

/// `fileSha`: 40 hex digits, either case; returned lowercase.
pub(crate) fn file_sha(p: &Params) -> Result<String, Reply> {
    let v = required(p, "fileSha", E_PROTOCOL)?;
    if v.len() != 40 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Reply::protocol(format!(
            "fileSha must be the 40 hex digits of the file's SHA-1, not {}",
            printable(v)
        )));
    }
    Ok(v.to_ascii_lowercase())
}

fn optional_int(p: &Params, name: &str) -> Result<Option<i64>, Reply> {
    match p.get(name) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            Reply::protocol(format!(
                "parameter {name} must be an integer, not {}",
                printable(v)
            ))
        }),
    }
}

fn optional_flag(p: &Params, name: &str) -> Result<Option<u8>, Reply> {
    match p.get(name) {
        None | Some("") => Ok(None),
        Some("0") => Ok(Some(0)),
        Some("1") => Ok(Some(1)),
        Some(v) => Err(Reply::protocol(format!(
            "parameter {name} must be 0 or 1, not {}",
            printable(v)
        ))),
    }
}

/// Checks a fileName: ≤ 40 bytes, no `\ / : * ? " < >`, no control characters, no `..`.
pub(crate) fn check_file_name(name: &str) -> Result<(), Reply> {
    if name.trim().is_empty() {
        return Err(Reply::protocol("fileName must not be empty"));
    }
    if name.len() > 40 {
        return Err(Reply::protocol(format!(
            "fileName is {} bytes long, at most 40 are allowed",
            name.len()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>') || c.is_control())
    {
        return Err(Reply::protocol(format!(
            "fileName must not contain {c:?} (forbidden: \\ / : * ? \" < > and control characters)"
        )));
    }
    // `../x` is already refused for its `/`; a name of dots alone would be a path of its own.
    // Dots inside a name ("my..clip") are a name like any other.
    if name.chars().all(|c| c == '.') {
        return Err(Reply::protocol("fileName must not be only dots"));
    }
    Ok(())
}

/// Validates InitUpload's parameters into the session they describe.
pub(crate) fn init_params(
    p: &Params,
    secret_id: &str,
    any_part_size: bool,
    now_unix: i64,
) -> Result<SessionMeta, Reply> {
    let file_name = required(p, "fileName", E_PROTOCOL)?;
    check_file_name(file_name)?;
    let file_sha = file_sha(p)?;
    let file_size = uint(p, "fileSize", E_PROTOCOL)?;
    if file_size == 0 {
        return Err(Reply::protocol("fileSize must be greater than 0"));
    }
    let data_size = uint(p, "dataSize", E_PROTOCOL)?;
    if any_part_size {
        if data_size == 0 || data_size > MAX_ANY_PART_SIZE {
            return Err(Reply::protocol(format!(
                "dataSize must be between 1 and {MAX_ANY_PART_SIZE}, not {data_size}"
            )));
        }
    } else if !PART_SIZES.contains(&data_size) {
        return Err(Reply::protocol(format!(
            "dataSize must be 524288 or 1048576, not {data_size}"
        )));
    }
    let file_type = required(p, "fileType", E_PROTOCOL)?;
    if file_type.len() > 16 || !file_type.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Reply::protocol(format!(
            "fileType must be 1 to 16 letters or digits (the extension without the dot), not {}",
            printable(file_type)
        )));
    }
    // tags.N / tag.N (and the same with `_`), ordered by N.
    let mut tags: Vec<(u64, &str, String)> = Vec::new();
    for (k, v) in &p.list {
        let rest = ["tags.", "tag.", "tags_", "tag_"]
            .iter()
            .find_map(|pre| k.strip_prefix(pre));
        if let Some(n) = rest {
            let idx = n.parse::<u64>().unwrap_or(u64::MAX);
            tags.push((idx, n, v.clone()));
        }
    }
    tags.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let store_time = optional_int(p, "storeTime")?;
    if store_time.is_some_and(|t| t < 0) {
        return Err(Reply::protocol("storeTime must not be negative"));
    }
    Ok(SessionMeta {
        secret_id: secret_id.to_string(),
        file_sha,
        file_name: file_name.to_string(),
        file_size,
        data_size,
        file_type: file_type.to_string(),
        tags: tags.into_iter().map(|t| t.2).collect(),
        class_id: optional_int(p, "classId")?,
        is_transcode: optional_flag(p, "isTranscode")?,
        is_screenshot: optional_flag(p, "isScreenshot")?,
        is_watermark: optional_flag(p, "isWatermark")?,
        notify_url: p.get("notifyUrl").map(str::to_string),
        store_time,
        created_unix: now_unix,
    })
}

/// ConfirmEvent's `msgHandle.N` (or `msgHandle_N`), in the order of N: at least one, at most
/// `max`, none empty.
pub(crate) fn confirm_handles(p: &Params, max: usize) -> Result<Vec<String>, Reply> {
    let mut handles: Vec<(u64, &str, &str)> = Vec::new();
    for (k, v) in &p.list {
        let Some(n) = k
            .strip_prefix("msgHandle.")
            .or_else(|| k.strip_prefix("msgHandle_"))
        else {
            continue;
        };
        let Some(idx) = n
            .parse::<u64>()
            .ok()
            .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            return Err(Reply::protocol(format!(
                "parameter {} is not msgHandle.N with N a number",
                printable(k)
            )));
        };
        if v.is_empty() {
            return Err(Reply::protocol(format!("empty parameter {}", printable(k))));
        }
        handles.push((idx, k, v));
    }
    if handles.is_empty() {
        return Err(Reply::protocol(
            "missing parameter msgHandle.0: ConfirmEvent takes the msgHandle of each event to confirm as msgHandle.0, msgHandle.1, ...",
        ));
    }
    if handles.len() > max {
        return Err(Reply::protocol(format!(
            "{} msgHandle.N given: ConfirmEvent takes at most {max} at once",
            handles.len()
        )));
    }
    handles.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    Ok(handles.into_iter().map(|h| h.2.to_string()).collect())
}

/// UploadPart's own parameters, before they are checked against the session.
#[derive(Debug, Clone)]
pub(crate) struct PartParams {
    pub file_sha: String,
    pub offset: u64,
    pub data_size: u64,
    pub data_md5: String,
}

pub(crate) fn part_params(p: &Params) -> Result<PartParams, Reply> {
    let file_sha = file_sha(p)?;
    let offset = uint(p, "offset", E_PROTOCOL)?;
    let data_size = uint(p, "dataSize", E_PROTOCOL)?;
    let md5 = required(p, "dataMd5", E_PROTOCOL)?;
    if md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Reply::protocol(format!(
            "dataMd5 must be the 32 hex digits of the part's MD5, not {}",
            printable(md5)
        )));
    }
    Ok(PartParams {
        file_sha,
        offset,
        data_size,
        data_md5: md5.to_ascii_lowercase(),
    })
}

/// Checks a part's offset and dataSize against its session; returns the part's length.
pub(crate) fn check_part_against(session: &SessionMeta, pp: &PartParams) -> Result<u64, Reply> {
    if !pp.offset.is_multiple_of(session.data_size) {
        return Err(Reply::protocol(format!(
            "offset {} is not a multiple of the session's dataSize {}",
            pp.offset, session.data_size
        )));
    }
    if pp.offset >= session.file_size {
        return Err(Reply::protocol(format!(
            "offset {} is beyond the end of the file ({} bytes)",
            pp.offset, session.file_size
        )));
    }
    let len = session.part_len(pp.offset);
    if pp.data_size != len {
        let last = pp.offset + session.data_size >= session.file_size;
        return Err(Reply::protocol(if last {
            format!(
                "dataSize {} is wrong for the last part: it must be fileSize - offset = {len}",
                pp.data_size
            )
        } else {
            format!(
                "dataSize {} differs from the session's dataSize {} (fixed by the first InitUpload)",
                pp.data_size, session.data_size
            )
        }));
    }
    Ok(len)
}

/// Signatures of requests that succeeded, kept for the timestamp window (bounded).
/// The signatures, and the same in arrival order (for pruning).
type ReplayInner = (HashSet<String>, VecDeque<(Instant, String)>);

#[derive(Debug, Default)]
pub(crate) struct ReplayCache {
    inner: Mutex<ReplayInner>,
}

const REPLAY_MAX_ENTRIES: usize = 500_000;
const REPLAY_TTL: Duration = Duration::from_secs(2 * 3600 + 60);

impl ReplayCache {
    fn prune(set: &mut HashSet<String>, order: &mut VecDeque<(Instant, String)>) {
        let now = Instant::now();
        while let Some((t, _)) = order.front() {
            if now.duration_since(*t) > REPLAY_TTL || order.len() > REPLAY_MAX_ENTRIES {
                let (_, s) = order.pop_front().expect("front exists");
                set.remove(&s);
            } else {
                break;
            }
        }
    }

    pub(crate) fn seen(&self, signature: &str) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *g;
        Self::prune(set, order);
        set.contains(signature)
    }

    pub(crate) fn record(&self, signature: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *g;
        if set.insert(signature.to_string()) {
            order.push_back((Instant::now(), signature.to_string()));
        }
        Self::prune(set, order);
    }
}

/// Sliding 60-second windows per (SecretId, action).
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<(String, Action), VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Counts the call and says whether it is within the limit.
    pub(crate) fn admit(&self, secret_id: &str, action: Action) -> bool {
        let Some(limit) = action.rate_limit() else {
            return true;
        };
        let now = Instant::now();
        let window = Duration::from_secs(60);
        let mut g = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let q = g.entry((secret_id.to_string(), action)).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if q.len() >= limit {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// The Host header without its port (`[::1]:80` → `[::1]`, `a.b:80` → `a.b`).
pub(crate) fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(i) => &host[..=i],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode() {
        assert_eq!(percent_decode("a%20b+c%2F"), b"a b+c/");
        assert_eq!(percent_decode("%zz%4"), b"%zz%4");
        assert_eq!(percent_decode("%41"), b"A");
        assert_eq!(percent_decode("%"), b"%");
        let p = parse_query("a=1&&b=%E4%B8%AD&c").unwrap();
        assert_eq!(p.get("b"), Some("中"));
        assert_eq!(p.get("c"), Some(""));
        assert!(parse_query("a=%FF").is_err());
        assert!(parse_query("a=1&a=2").is_err());
    }

    #[test]
    fn hosts() {
        assert_eq!(host_without_port("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_without_port("localhost"), "localhost");
        assert_eq!(host_without_port("[::1]:99"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
    }

    #[test]
    fn file_names() {
        assert!(check_file_name("my video 01").is_ok());
        assert!(check_file_name("").is_err());
        assert!(check_file_name("a/b").is_err());
        assert!(check_file_name("a..b").is_ok());
        assert!(check_file_name("..").is_err());
        assert!(check_file_name(".").is_err());
        assert!(check_file_name(&"x".repeat(41)).is_err());
        assert!(check_file_name(&"x".repeat(40)).is_ok());
        assert!(check_file_name("中文中文中文中文中文中文中文").is_err()); // 42 bytes
    }

    #[test]
    fn rate_limiter_counts() {
        let r = RateLimiter::default();
        for _ in 0..100 {
            assert!(r.admit("a", Action::Init));
        }
        assert!(!r.admit("a", Action::Init));
        assert!(r.admit("b", Action::Init));
        assert!(r.admit("a", Action::Finish));
        for _ in 0..1000 {
            assert!(r.admit("a", Action::PullEvent));
        }
    }

    #[test]
    fn confirm_handle_params() {
        let p = parse_query("msgHandle.1=b&msgHandle_0=a&msgHandle.10=c&other=x").unwrap();
        assert_eq!(confirm_handles(&p, 16).unwrap(), vec!["a", "b", "c"]);
        assert!(
            confirm_handles(&p, 2)
                .unwrap_err()
                .message()
                .contains("at most 2")
        );
        let p = parse_query("Action=ConfirmEvent").unwrap();
        assert!(
            confirm_handles(&p, 16)
                .unwrap_err()
                .message()
                .contains("msgHandle.0")
        );
        let p = parse_query("msgHandle.0=").unwrap();
        assert!(
            confirm_handles(&p, 16)
                .unwrap_err()
                .message()
                .contains("empty")
        );
        let p = parse_query("msgHandle.x=1").unwrap();
        assert!(confirm_handles(&p, 16).is_err());
        let p = parse_query("msgHandle.+1=1").unwrap();
        assert!(confirm_handles(&p, 16).is_err());
    }
}
