//! Event notification: "Video Upload Completed" and the events the service keeps for an app.
//!
//! A finished upload makes the service create an event (docs/protocol.md, the "upload completed" event):
//!
//! ```json
//! {"version": "4.0", "eventType": "NewFileUpload",
//!  "data": {"fileId": "…", "fileUrl": "…", "fileName": "…", "sourceType": "ServerUpload",
//!           "sourceContext": "", "transcodeTaskId": "", "procedureTaskId": ""}}
//! ```
//!
//! It reaches the app in one of two ways:
//! - an HTTP POST of that JSON to the app's callback URL: parse the body with [`Event::parse`];
//! - a reliable queue on the event API host ([`ClientOptions::events_endpoint`], default
//!   [`DEFAULT_EVENTS_ENDPOINT`]): [`Client::pull_events`] reads it (`PullEvent`, at most 16 events
//!   per call; an empty list when there is none), [`Client::confirm_events`] acknowledges what was
//!   handled (`ConfirmEvent` with `msgHandle.0`, `msgHandle.1`, ...). An event is served again by
//!   every pull until it is confirmed, so handle events idempotently (key them on the file id) and
//!   confirm only after handling them: delivery is at least once.
//!
//! `PullEvent` answers `{"code":0,"message":"","eventList":[{"msgHandle":"…","eventContent":{…}}]}`;
//! `eventContent` is the event as a JSON object, or as a string holding its JSON (both are read).
//!
//! ```no_run
//! use vodupload::{Client, ClientOptions, Credentials};
//! let client = Client::new(Credentials::from_env()?, ClientOptions::default())?;
//! let pulled = client.pull_events()?;
//! for p in &pulled {
//!     if p.event.is_new_file_upload() {
//!         println!("uploaded: {} {}", p.event.file_id().unwrap_or("?"), p.event.file_url().unwrap_or("?"));
//!     }
//! }
//! client.confirm_events(&pulled.iter().map(|p| p.msg_handle.as_str()).collect::<Vec<_>>())?;
//! # Ok::<(), vodupload::Error>(())
//! ```
//!
//! [`ClientOptions::events_endpoint`]: crate::ClientOptions::events_endpoint
//! [`DEFAULT_EVENTS_ENDPOINT`]: crate::config::DEFAULT_EVENTS_ENDPOINT
//! [`Client::pull_events`]: crate::Client::pull_events
//! [`Client::confirm_events`]: crate::Client::confirm_events

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::protocol::{Answerer, parse_envelope_from, preview, str_field};

/// `eventType` of "Video Upload Completed".
pub const NEW_FILE_UPLOAD: &str = "NewFileUpload";
/// `ConfirmEvent` takes at most this many handles; [`Client::confirm_events`] sends more in
/// several calls.
///
/// [`Client::confirm_events`]: crate::Client::confirm_events
pub const MAX_CONFIRM_BATCH: usize = 16;

/// One event, typed, with its JSON kept whole.
///
/// Reading is tolerant: only a JSON object with a non-empty string `eventType` is required, so
/// event types this crate does not know (transcoding finished, say) and fields it does not know
/// parse too; they stay in [`Event::value`] and [`Event::raw_json`]. The `data` fields are `None`
/// when absent (or not a string; ids sent as numbers are turned into strings).
#[derive(Clone, PartialEq)]
pub struct Event {
    event_type: String,
    version: Option<String>,
    file_id: Option<String>,
    file_url: Option<String>,
    file_name: Option<String>,
    source_type: Option<String>,
    source_context: Option<String>,
    transcode_task_id: Option<String>,
    procedure_task_id: Option<String>,
    raw: String,
    value: Value,
}

impl Event {
    /// Parses an event's JSON: a callback's POST body, or a stored event.
    ///
    /// Errors ([`ErrorKind::InvalidInput`]) say what is wrong and show the start of the input:
    /// not UTF-8, not JSON (with line and column), not a JSON object, no `eventType`.
    pub fn parse(json: impl AsRef<[u8]>) -> Result<Event> {
        let bytes = json.as_ref();
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::invalid_input(format!(
                "the event is not UTF-8 text (invalid byte at offset {}): {:?}",
                e.valid_up_to(),
                preview(bytes)
            ))
        })?;
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::invalid_input(format!(
                "the event is not valid JSON ({e}); it starts with {:?}",
                preview(bytes)
            ))
        })?;
        Event::from_parts(value, text.to_owned()).map_err(Error::invalid_input)
    }

    /// An event from an already parsed JSON value (its `raw_json` is the value serialised).
    pub fn from_value(value: Value) -> Result<Event> {
        let raw = value.to_string();
        Event::from_parts(value, raw).map_err(Error::invalid_input)
    }

    fn from_parts(value: Value, raw: String) -> std::result::Result<Event, String> {
        let Value::Object(o) = &value else {
            return Err(format!(
                "the event is JSON but not an object ({}); expected {{\"version\":\"4.0\",\"eventType\":\"NewFileUpload\",\"data\":{{...}}}}",
                kind_of(&value)
            ));
        };
        let event_type = match o.get("eventType") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) => return Err("the event's \"eventType\" is empty".into()),
            Some(v) => {
                return Err(format!(
                    "the event's \"eventType\" is {}, not a string",
                    kind_of(v)
                ));
            }
            None => {
                return Err(format!(
                    "the event has no \"eventType\" (fields: {})",
                    field_names(o)
                ));
            }
        };
        let empty = Map::new();
        let data = match o.get("data") {
            Some(Value::Object(d)) => d,
            _ => &empty,
        };
        Ok(Event {
            event_type,
            version: str_field(o, "version"),
            file_id: str_field(data, "fileId"),
            file_url: str_field(data, "fileUrl"),
            file_name: str_field(data, "fileName"),
            source_type: str_field(data, "sourceType"),
            source_context: str_field(data, "sourceContext"),
            transcode_task_id: str_field(data, "transcodeTaskId"),
            procedure_task_id: str_field(data, "procedureTaskId"),
            raw,
            value,
        })
    }

    /// `eventType`, e.g. `"NewFileUpload"`.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// Whether this is "Video Upload Completed" (`eventType` [`NEW_FILE_UPLOAD`]).
    pub fn is_new_file_upload(&self) -> bool {
        self.event_type == NEW_FILE_UPLOAD
    }

    /// `version`, `"4.0"` for the events docs/protocol.md describes.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// `data.fileId`: the uploaded video's id, as `UploadResult::file_id` gave it.
    pub fn file_id(&self) -> Option<&str> {
        self.file_id.as_deref()
    }

    /// `data.fileUrl`: where the video is served.
    pub fn file_url(&self) -> Option<&str> {
        self.file_url.as_deref()
    }

    /// `data.fileName`: the video's name (without extension).
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// `data.sourceType`: `"ServerUpload"` for uploads made with this protocol.
    pub fn source_type(&self) -> Option<&str> {
        self.source_type.as_deref()
    }

    /// `data.sourceContext`.
    pub fn source_context(&self) -> Option<&str> {
        self.source_context.as_deref()
    }

    /// `data.transcodeTaskId`.
    pub fn transcode_task_id(&self) -> Option<&str> {
        self.transcode_task_id.as_deref()
    }

    /// `data.procedureTaskId`.
    pub fn procedure_task_id(&self) -> Option<&str> {
        self.procedure_task_id.as_deref()
    }

    /// The event's JSON text: the exact input of [`Event::parse`], or the JSON of a pulled
    /// `eventContent`. Unknown fields are all there.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The event's JSON as a value, for fields this type does not name.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

impl FromStr for Event {
    type Err = Error;

    fn from_str(s: &str) -> Result<Event> {
        Event::parse(s)
    }
}

/// The typed fields; the raw JSON is left out (it repeats them).
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type)
            .field("version", &self.version)
            .field("file_id", &self.file_id)
            .field("file_url", &self.file_url)
            .field("file_name", &self.file_name)
            .field("source_type", &self.source_type)
            .finish_non_exhaustive()
    }
}

/// The event's JSON text.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// An event read from the queue, with the handle that confirms it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PulledEvent {
    /// Opaque; pass it to [`Client::confirm_events`](crate::Client::confirm_events) once the
    /// event is handled.
    pub msg_handle: String,
    pub event: Event,
}

const PULL: &str = "PullEvent";

/// Parses a PullEvent answer. A malformed answer, or a malformed event in it, is an
/// [`ErrorKind::Protocol`] error naming the event's index and msgHandle.
pub(crate) fn parse_pull(body: &[u8]) -> Result<Vec<PulledEvent>> {
    let fields = parse_envelope(PULL, body)?;
    let list = match fields.get("eventList") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(protocol_error(format!(
                "{PULL}: the event API's \"eventList\" is {}, not an array: {:?}",
                kind_of(v),
                preview(body)
            )));
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let Value::Object(o) = item else {
            return Err(protocol_error(format!(
                "{PULL}: eventList[{i}] is {}, not an object",
                kind_of(item)
            )));
        };
        let msg_handle = match o.get("msgHandle") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(protocol_error(format!(
                    "{PULL}: eventList[{i}] has no msgHandle (fields: {})",
                    field_names(o)
                )));
            }
        };
        let bad = |why: String| {
            protocol_error(format!(
                "{PULL}: the event eventList[{i}] (msgHandle {msg_handle}) is malformed: {why}; confirm that handle to drop it"
            ))
        };
        let event = match o.get("eventContent") {
            Some(Value::String(s)) => Event::parse(s).map_err(|e| bad(e.message().to_owned()))?,
            Some(v @ Value::Object(_)) => {
                Event::from_value(v.clone()).map_err(|e| bad(e.message().to_owned()))?
            }
            Some(v) => return Err(bad(format!("eventContent is {}", kind_of(v)))),
            None => return Err(bad("it has no eventContent".into())),
        };
        out.push(PulledEvent { msg_handle, event });
    }
    Ok(out)
}

/// Checks a ConfirmEvent answer.
pub(crate) fn parse_confirm(body: &[u8]) -> Result<()> {
    parse_envelope("ConfirmEvent", body).map(|_| ())
}

/// The `msgHandle.N` parameters of one ConfirmEvent.
pub(crate) fn confirm_params(handles: &[&str]) -> Vec<(String, String)> {
    handles
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("msgHandle.{i}"), (*h).to_owned()))
        .collect()
}

fn parse_envelope(action: &str, body: &[u8]) -> Result<Map<String, Value>> {
    parse_envelope_from(Answerer::EVENT_API, action, body).map(|e| e.fields)
}

fn protocol_error(message: String) -> Error {
    Error::new(ErrorKind::Protocol, message)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn field_names(o: &Map<String, Value>) -> String {
    if o.is_empty() {
        return "none".into();
    }
    let names: Vec<&str> = o.keys().take(8).map(String::as_str).collect();
    let more = if o.len() > 8 { ", …" } else { "" };
    format!("{}{more}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":"7031868222808505913","fileUrl":"http://10013.vod2.myqcloud.com/vod10013/7031868222808505913/f0.mp4","fileName":"holiday","sourceType":"ServerUpload","sourceContext":"ctx","transcodeTaskId":"","procedureTaskId":"p-1","mediaBasicInfo":{"duration":12}},"extra":[1,2]}"#;

    #[test]
    fn parses_every_known_field_and_keeps_unknown_ones() {
        let e = Event::parse(SAMPLE).unwrap();
        assert!(e.is_new_file_upload());
        assert_eq!(e.event_type(), "NewFileUpload");
        assert_eq!(e.version(), Some("4.0"));
        assert_eq!(e.file_id(), Some("7031868222808505913"));
        assert_eq!(
            e.file_url(),
            Some("http://10013.vod2.myqcloud.com/vod10013/7031868222808505913/f0.mp4")
        );
        assert_eq!(e.file_name(), Some("holiday"));
        assert_eq!(e.source_type(), Some("ServerUpload"));
        assert_eq!(e.source_context(), Some("ctx"));
        assert_eq!(e.transcode_task_id(), Some(""));
        assert_eq!(e.procedure_task_id(), Some("p-1"));
        assert_eq!(e.raw_json(), SAMPLE, "the input is kept byte for byte");
        assert_eq!(e.to_string(), SAMPLE);
        assert_eq!(e.value()["data"]["mediaBasicInfo"]["duration"], 12);
        assert_eq!(e.value()["extra"][1], 2);
        assert_eq!(SAMPLE.parse::<Event>().unwrap(), e);
        assert_eq!(Event::parse(SAMPLE.as_bytes()).unwrap(), e);
        let dbg = format!("{e:?}");
        assert!(dbg.contains("7031868222808505913") && !dbg.contains("mediaBasicInfo"));
    }

    #[test]
    fn other_event_types_and_odd_fields_are_tolerated() {
        let e = Event::parse(
            r#"{"eventType":"TranscodeComplete","data":{"fileId":123,"fileName":null}}"#,
        )
        .unwrap();
        assert!(!e.is_new_file_upload());
        assert_eq!(e.version(), None);
        assert_eq!(e.file_id(), Some("123"), "a numeric id becomes a string");
        assert_eq!(e.file_name(), None);
        let e = Event::parse(r#"{"eventType":"X","data":"not an object"}"#).unwrap();
        assert_eq!(e.file_id(), None);
        let e = Event::from_value(serde_json::json!({"eventType": "NewFileUpload"})).unwrap();
        assert_eq!(e.raw_json(), r#"{"eventType":"NewFileUpload"}"#);
    }

    #[test]
    fn malformed_events_are_clear_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not valid JSON"),
            (b"{\"eventType\":\"NewFileUpload\",", "not valid JSON"),
            (b"<html>hi</html>", "<html>"),
            (b"[1,2]", "not an object (an array)"),
            (b"\"NewFileUpload\"", "not an object (a string)"),
            (
                b"{\"version\":\"4.0\",\"data\":{}}",
                "no \"eventType\" (fields: data, version)",
            ),
            (b"{\"eventType\":7}", "\"eventType\" is a number"),
            (b"{\"eventType\":\"\"}", "empty"),
            (b"\xff\xfe{}", "not UTF-8"),
        ];
        for (input, want) in cases {
            let e = Event::parse(input).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
            assert!(
                e.to_string().contains(want),
                "{:?}: {e}",
                String::from_utf8_lossy(input)
            );
        }
        let e = Event::parse(b"{\"eventType\":\"NewFileUpload\",}").unwrap_err();
        assert!(e.to_string().contains("line 1 column"), "{e}");
    }

    #[test]
    fn pull_answers() {
        assert!(
            parse_pull(br#"{"code":0,"message":"","eventList":[]}"#)
                .unwrap()
                .is_empty()
        );
        assert!(
            parse_pull(br#"{"code":0,"message":""}"#)
                .unwrap()
                .is_empty()
        );
        let body = format!(
            r#"{{"code":0,"message":"","eventList":[{{"msgHandle":"h1","eventContent":{SAMPLE}}},{{"msgHandle":"h2","eventContent":{}}}]}}"#,
            serde_json::to_string(SAMPLE).unwrap()
        );
        let got = parse_pull(body.as_bytes()).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].msg_handle, "h1");
        assert_eq!(got[1].msg_handle, "h2");
        assert_eq!(got[0].event.value(), got[1].event.value());
        assert_eq!(
            got[1].event.raw_json(),
            SAMPLE,
            "a string eventContent is kept as sent"
        );
        assert_eq!(got[0].event.file_id(), Some("7031868222808505913"));
    }

    #[test]
    fn malformed_pull_answers() {
        let e =
            parse_pull(br#"{"code":-10002,"message":"signature error","canRetry":0}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(
            e.to_string()
                .starts_with("PullEvent failed with code -10002"),
            "{e}"
        );
        let e = parse_pull(br#"{"code":4400,"message":"busy","canRetry":1}"#).unwrap_err();
        assert!(e.is_transient());
        let e = parse_pull(b"<html>502</html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.is_transient());
        assert!(e.to_string().contains("events endpoint"), "{e}");
        let cases: &[(&str, &str)] = &[
            (r#"{"message":""}"#, "no numeric \"code\""),
            (r#"{"code":0,"eventList":{}}"#, "not an array"),
            (r#"{"code":0,"eventList":[1]}"#, "eventList[0] is a number"),
            (
                r#"{"code":0,"eventList":[{"eventContent":{}}]}"#,
                "no msgHandle",
            ),
            (
                r#"{"code":0,"eventList":[{"msgHandle":"h9","eventContent":"{oops"}]}"#,
                "msgHandle h9) is malformed: the event is not valid JSON",
            ),
            (
                r#"{"code":0,"eventList":[{"msgHandle":"h9","eventContent":{"data":{}}}]}"#,
                "no \"eventType\"",
            ),
            (
                r#"{"code":0,"eventList":[{"msgHandle":"h9"}]}"#,
                "no eventContent",
            ),
            (
                r#"{"code":0,"eventList":[{"msgHandle":"h9","eventContent":[]}]}"#,
                "eventContent is an array",
            ),
        ];
        for (body, want) in cases {
            let e = parse_pull(body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
            assert!(e.to_string().contains(want), "{body}: {e}");
        }
    }

    #[test]
    fn confirm_parameters_and_answers() {
        assert_eq!(
            confirm_params(&["a", "b"]),
            vec![
                ("msgHandle.0".to_string(), "a".to_string()),
                ("msgHandle.1".to_string(), "b".to_string())
            ]
        );
        parse_confirm(br#"{"code":0,"message":""}"#).unwrap();
        let e = parse_confirm(br#"{"code":-10003,"message":"bad handle"}"#).unwrap_err();
        assert_eq!(e.server().unwrap().code, -10003);
        assert!(e.to_string().contains("ConfirmEvent"), "{e}");
    }
}
