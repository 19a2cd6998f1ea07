//! The JSON envelope every protocol answer has: `code`, `message`, `codeDesc`, `canRetry`, and the
//! action's own fields.

use serde_json::{Map, Value, json};

use super::*;

/// A protocol answer (HTTP 200 with this JSON, unless the transport says otherwise).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub code: i64,
    fields: Map<String, Value>,
}

fn code_desc(code: i64) -> &'static str {
    match code {
        E_COMMON => "InvalidCommonParameter",
        E_SIGNATURE => "SignatureError",
        E_PROTOCOL => "InvalidProtocolParameter",
        E_WRITE_CACHE => "WriteCacheFailed",
        E_READ_CACHE => "ReadCacheFailed",
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
        Reply { code, fields }
    }

    pub(crate) fn error(code: i64, message: impl Into<String>, can_retry: bool) -> Reply {
        let mut fields = Map::new();
        fields.insert("code".into(), json!(code));
        fields.insert("message".into(), json!(message.into()));
        fields.insert("codeDesc".into(), json!(code_desc(code)));
        fields.insert("canRetry".into(), json!(u8::from(can_retry)));
        Reply { code, fields }
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

    pub(crate) fn write_failed(e: &std::io::Error) -> Reply {
        Reply::error(E_WRITE_CACHE, format!("write cache failed: {e}"), true)
    }

    pub(crate) fn with(mut self, key: &str, value: Value) -> Reply {
        self.fields.insert(key.into(), value);
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
