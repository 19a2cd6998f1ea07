//! Every parameter rule: the common parameters (-10001) and each action's own (-10003).

use crate::store::SessionMeta;

use super::*;

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
    pub(crate) const ALL: [Action; 5] = [
        Action::Init,
        Action::Part,
        Action::Finish,
        Action::PullEvent,
        Action::ConfirmEvent,
    ];

    pub(crate) fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == s)
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
}

/// The HMAC of `Signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureMethod {
    HmacSha1,
    HmacSha256,
}

/// The common parameters, checked (-10001).
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub secret_id: String,
    pub signature: String,
    pub signature_method: SignatureMethod,
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
        None | Some("HmacSHA1") => SignatureMethod::HmacSha1,
        Some("HmacSHA256") => SignatureMethod::HmacSha256,
        Some(other) => {
            return Err(Reply::common(format!(
                "unsupported SignatureMethod {}: use HmacSHA1 or HmacSHA256",
                printable(other)
            )));
        }
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

/// What InitUpload accepts beyond the fixed rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InitRules {
    pub any_part_size: bool,
    pub max_file_size: u64,
}

/// Validates InitUpload's parameters into the session they describe.
pub(crate) fn init_params(
    p: &Params,
    secret_id: &str,
    rules: InitRules,
    now_unix: i64,
) -> Result<SessionMeta, Reply> {
    let file_name = p
        .get("fileName")
        .ok_or_else(|| Reply::protocol("missing parameter fileName"))?;
    // The client's own rule (an empty name included), so the two never disagree about a name.
    vodupload::options::validate_name(file_name)
        .map_err(|e| Reply::protocol(format!("invalid fileName: {}", e.message())))?;
    let file_sha = file_sha(p)?;
    let file_size = uint(p, "fileSize", E_PROTOCOL)?;
    if file_size == 0 {
        return Err(Reply::protocol("fileSize must be greater than 0"));
    }
    if file_size > rules.max_file_size {
        return Err(Reply::protocol(format!(
            "fileSize {file_size} is larger than the largest file this service accepts ({} bytes)",
            rules.max_file_size
        )));
    }
    let data_size = uint(p, "dataSize", E_PROTOCOL)?;
    if rules.any_part_size {
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
        tags: tags(p),
        class_id: optional_int(p, "classId")?,
        is_transcode: optional_flag(p, "isTranscode")?,
        is_screenshot: optional_flag(p, "isScreenshot")?,
        is_watermark: optional_flag(p, "isWatermark")?,
        notify_url: p.get("notifyUrl").map(str::to_string),
        store_time,
        created_unix: now_unix,
    })
}

/// `tags.N` / `tag.N` (and the same with `_`), ordered by N.
fn tags(p: &Params) -> Vec<String> {
    let mut tags: Vec<(u64, &str, &str)> = Vec::new();
    for (k, v) in &p.list {
        let rest = ["tags.", "tag.", "tags_", "tag_"]
            .iter()
            .find_map(|pre| k.strip_prefix(pre));
        if let Some(n) = rest {
            tags.push((n.parse::<u64>().unwrap_or(u64::MAX), n, v));
        }
    }
    tags.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    tags.into_iter().map(|t| t.2.to_string()).collect()
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
    pub data_md5: [u8; 16],
}

pub(crate) fn part_params(p: &Params) -> Result<PartParams, Reply> {
    let file_sha = file_sha(p)?;
    let offset = uint(p, "offset", E_PROTOCOL)?;
    let data_size = uint(p, "dataSize", E_PROTOCOL)?;
    let md5 = required(p, "dataMd5", E_PROTOCOL)?;
    let Some(data_md5) = crate::store::parse_md5(&md5.to_ascii_lowercase()) else {
        return Err(Reply::protocol(format!(
            "dataMd5 must be the 32 hex digits of the part's MD5, not {}",
            printable(md5)
        )));
    };
    Ok(PartParams {
        file_sha,
        offset,
        data_size,
        data_md5,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        super::super::parse_query(q.as_bytes()).unwrap()
    }

    #[test]
    fn file_names_follow_the_client_rule() {
        let rules = InitRules {
            any_part_size: false,
            max_file_size: u64::MAX,
        };
        let init = |name: &str| {
            let q = format!(
                "fileName={}&fileSha={}&fileSize=10&dataSize=524288&fileType=mp4",
                vodupload::signature::percent_encode(name),
                "ab".repeat(20)
            );
            init_params(&params(&q), "id", rules, 0)
        };
        assert!(init("my video 01").is_ok());
        assert!(init("a..b").is_ok());
        for bad in [
            "",
            "a/b",
            "..",
            ".",
            &"x".repeat(41),
            "中文中文中文中文中文中文中文",
        ] {
            let e = init(bad).unwrap_err();
            assert_eq!(e.code, E_PROTOCOL, "{bad:?}");
            let core = vodupload::options::validate_name(bad).unwrap_err();
            assert!(
                e.message().ends_with(core.message()),
                "{bad:?}: {} should carry {:?}",
                e.message(),
                core.message()
            );
        }
        assert!(init(&"x".repeat(40)).is_ok());
    }

    #[test]
    fn file_size_cap() {
        let rules = InitRules {
            any_part_size: false,
            max_file_size: 1000,
        };
        let q = |size: u64| {
            params(&format!(
                "fileName=a&fileSha={}&fileSize={size}&dataSize=524288&fileType=mp4",
                "ab".repeat(20)
            ))
        };
        assert!(init_params(&q(1000), "id", rules, 0).is_ok());
        let e = init_params(&q(1001), "id", rules, 0).unwrap_err();
        assert!(e.message().contains("(1000 bytes)"), "{}", e.message());
    }

    #[test]
    fn confirm_handle_params() {
        let p = params("msgHandle.1=b&msgHandle_0=a&msgHandle.10=c&other=x");
        assert_eq!(confirm_handles(&p, 16).unwrap(), vec!["a", "b", "c"]);
        assert!(
            confirm_handles(&p, 2)
                .unwrap_err()
                .message()
                .contains("at most 2")
        );
        let p = params("Action=ConfirmEvent");
        assert!(
            confirm_handles(&p, 16)
                .unwrap_err()
                .message()
                .contains("msgHandle.0")
        );
        let p = params("msgHandle.0=");
        assert!(
            confirm_handles(&p, 16)
                .unwrap_err()
                .message()
                .contains("empty")
        );
        assert!(confirm_handles(&params("msgHandle.x=1"), 16).is_err());
        assert!(confirm_handles(&params("msgHandle.+1=1"), 16).is_err());
    }
}
