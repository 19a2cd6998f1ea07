//! Event notification: `vod_event` (one "Video Upload Completed" event, or another type, parsed
//! from a callback's body or pulled from the queue), `vod_event_list` (one pull's result),
//! `vod_events_pull` and `vod_events_confirm`.

use std::ffi::{CString, c_char};

use vodcore::{Event, PulledEvent};

use crate::boundary::{
    Failure, FfiResult, arg_out, arg_ref, arg_str, status_call, to_cstring, value_call,
};
use crate::client::vod_client;
use crate::status::vod_status;

/// One event: the JSON the service POSTs to the callback URL, or an event pulled from the queue,
/// e.g. `{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":"...","fileUrl":"...",
/// "fileName":"...","sourceType":"ServerUpload",...}}`. Opaque; read it with the `vod_event_*`
/// accessors.
///
/// Made by `vod_event_parse` (free it with `vod_event_free`) or borrowed from a `vod_event_list`
/// (`vod_event_list_event`: valid until `vod_event_list_free`; never free it yourself).
/// Immutable: safe to read from several threads at once. The strings its accessors return are
/// borrowed from it.
#[derive(Debug)]
pub struct vod_event {
    event_type: CString,
    version: Option<CString>,
    file_id: Option<CString>,
    file_url: Option<CString>,
    file_name: Option<CString>,
    source_type: Option<CString>,
    source_context: Option<CString>,
    transcode_task_id: Option<CString>,
    procedure_task_id: Option<CString>,
    raw_json: CString,
    is_new_file_upload: bool,
}

/// A decoded field as a C string; None when absent or when it holds U+0000 (from `"\u0000"`),
/// which a C string cannot carry. The exact value stays in the raw JSON.
fn optional(s: Option<&str>) -> Option<CString> {
    s.and_then(|s| CString::new(s).ok())
}

/// A field C must always get: U+0000 (never seen in a real event) becomes U+FFFD rather than
/// failing, so an odd event can still be read and confirmed.
fn always(s: &str) -> CString {
    CString::new(s)
        .unwrap_or_else(|_| CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default())
}

impl vod_event {
    fn new(event: &Event) -> vod_event {
        vod_event {
            event_type: always(event.event_type()),
            version: optional(event.version()),
            file_id: optional(event.file_id()),
            file_url: optional(event.file_url()),
            file_name: optional(event.file_name()),
            source_type: optional(event.source_type()),
            source_context: optional(event.source_context()),
            transcode_task_id: optional(event.transcode_task_id()),
            procedure_task_id: optional(event.procedure_task_id()),
            // Valid JSON text has no raw NUL byte (it would be "\u0000" inside a string).
            raw_json: always(event.raw_json()),
            is_new_file_upload: event.is_new_file_upload(),
        }
    }
}

/// The events one `vod_events_pull` returned, oldest first (at most 16), each with the message
/// handle that confirms it. Opaque; free it with `vod_event_list_free`. Immutable: safe to read
/// from several threads at once.
#[derive(Debug)]
pub struct vod_event_list {
    items: Vec<(CString, vod_event)>,
}

fn list_item(i: usize, p: &PulledEvent) -> FfiResult<(CString, vod_event)> {
    let handle = to_cstring(&format!("msgHandle of eventList[{i}]"), &p.msg_handle)?;
    Ok((handle, vod_event::new(&p.event)))
}

/// Parses an event's JSON: the body of a callback POST, or a stored event.
///
/// - `json`, `len`: the `len` bytes at `json` (need not be NUL-terminated; the body as received).
///   Required, even when `len` is 0 (which is then a parse error: no JSON).
/// - `out`: required; receives the event on success (untouched on failure); free it with
///   `vod_event_free`.
///
/// Tolerant: only UTF-8 text holding a JSON object with a non-empty string `"eventType"` is
/// required. Other event types and unknown fields are accepted: they stay in
/// `vod_event_raw_json`. Pure computation (no network), thread-safe.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `json` or `out`), `VOD_ERR_INVALID_INPUT` (not UTF-8,
/// not valid JSON, not an object, no `"eventType"`...: `vod_last_error()` says which, with line
/// and column, and shows the start of the input).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_parse(
    json: *const c_char,
    len: usize,
    out: *mut *mut vod_event,
) -> vod_status {
    status_call("vod_event_parse", || {
        if json.is_null() {
            return Err(Failure::invalid_argument("json is NULL"));
        }
        if isize::try_from(len).is_err() {
            return Err(Failure::invalid_argument(format!(
                "len {len} is larger than any buffer can be"
            )));
        }
        let out = arg_out(out, "out")?;
        // SAFETY: `json` points to `len` readable bytes (the caller's contract), len <= isize::MAX.
        let bytes = unsafe { std::slice::from_raw_parts(json.cast::<u8>(), len) };
        let event = Event::parse(bytes)?;
        let event = Box::into_raw(Box::new(vod_event::new(&event)));
        unsafe { out.write(event) };
        Ok(())
    })
}

fn read_event<T>(
    function: &str,
    e: *const vod_event,
    fallback: T,
    f: impl FnOnce(&vod_event) -> T,
) -> T {
    value_call(function, fallback, || {
        Ok(f(unsafe { arg_ref(e, "event") }?))
    })
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// `eventType`: "NewFileUpload" for "Video Upload Completed"; other types are passed through.
/// Never NULL for a non-NULL `e` (a U+0000 in it, which no real event has, reads as U+FFFD).
/// Borrowed from `e`. NULL if `e` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_event_type(e: *const vod_event) -> *const c_char {
    read_event("vod_event_event_type", e, std::ptr::null(), |e| {
        e.event_type.as_ptr()
    })
}

/// True when `eventType` is "NewFileUpload" ("Video Upload Completed"). False if `e` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_is_new_file_upload(e: *const vod_event) -> bool {
    read_event("vod_event_is_new_file_upload", e, false, |e| {
        e.is_new_file_upload
    })
}

/// `version`, e.g. "4.0".
///
/// This and the `data` accessors below return a string borrowed from `e`, or NULL when the field
/// is absent, null, not a string or number (numbers, such as a numeric `fileId`, read as their
/// JSON text), or not representable as a C string (it holds U+0000); the exact JSON is in
/// `vod_event_raw_json`. NULL (recorded as `VOD_ERR_INVALID_ARGUMENT`) if `e` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_version(e: *const vod_event) -> *const c_char {
    read_event(
        "vod_event_version",
        e,
        std::ptr::null(),
        |e| ptr(&e.version),
    )
}

/// `data.fileId`: the video's id, as `vod_upload_result_file_id` gave it. See `vod_event_version`
/// for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_file_id(e: *const vod_event) -> *const c_char {
    read_event(
        "vod_event_file_id",
        e,
        std::ptr::null(),
        |e| ptr(&e.file_id),
    )
}

/// `data.fileUrl`: where the service serves the video. See `vod_event_version` for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_file_url(e: *const vod_event) -> *const c_char {
    read_event("vod_event_file_url", e, std::ptr::null(), |e| {
        ptr(&e.file_url)
    })
}

/// `data.fileName`: the video's name, without extension. See `vod_event_version` for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_file_name(e: *const vod_event) -> *const c_char {
    read_event("vod_event_file_name", e, std::ptr::null(), |e| {
        ptr(&e.file_name)
    })
}

/// `data.sourceType`: "ServerUpload" for uploads made with this library. See `vod_event_version`
/// for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_source_type(e: *const vod_event) -> *const c_char {
    read_event("vod_event_source_type", e, std::ptr::null(), |e| {
        ptr(&e.source_type)
    })
}

/// `data.sourceContext`. See `vod_event_version` for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_source_context(e: *const vod_event) -> *const c_char {
    read_event("vod_event_source_context", e, std::ptr::null(), |e| {
        ptr(&e.source_context)
    })
}

/// `data.transcodeTaskId`. See `vod_event_version` for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_transcode_task_id(e: *const vod_event) -> *const c_char {
    read_event("vod_event_transcode_task_id", e, std::ptr::null(), |e| {
        ptr(&e.transcode_task_id)
    })
}

/// `data.procedureTaskId`. See `vod_event_version` for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_procedure_task_id(e: *const vod_event) -> *const c_char {
    read_event("vod_event_procedure_task_id", e, std::ptr::null(), |e| {
        ptr(&e.procedure_task_id)
    })
}

/// The event's whole JSON text: exactly the bytes given to `vod_event_parse`, or the JSON of a
/// pulled event. Fields this library does not name (and other event types) are all there.
/// Never NULL for a non-NULL `e`, never contains a NUL byte. Borrowed from `e`. NULL if `e` is
/// NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_raw_json(e: *const vod_event) -> *const c_char {
    read_event("vod_event_raw_json", e, std::ptr::null(), |e| {
        e.raw_json.as_ptr()
    })
}

/// Frees an event made by `vod_event_parse` (and the strings borrowed from it). NULL is fine.
/// Never pass an event borrowed from a `vod_event_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_free(e: *mut vod_event) {
    value_call("vod_event_free", (), || {
        if !e.is_null() {
            // SAFETY: a pointer from vod_event_parse, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(e) });
        }
        Ok(())
    })
}

/// Reads the app's event queue (one `PullEvent` request on the events endpoint, see
/// `vod_client_set_events_endpoint`, signed with the client's credentials and retried like any
/// request; not paced): the oldest unconfirmed events, at most 16. It does not wait: an empty
/// queue gives an empty list (`vod_event_list_count` 0).
///
/// Pulled events stay queued, with the same message handle, and every pull returns them again
/// until `vod_events_confirm` acknowledges them: delivery is at least once, so handle events
/// idempotently (key on the file id) and confirm only after handling.
///
/// - `client`: required; may be shared with other threads.
/// - `out`: required; receives the list on success (untouched on failure); free it with
///   `vod_event_list_free`.
///
/// Blocks (network). Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), then the usual statuses:
/// `VOD_ERR_AUTH` (`vod_last_server_code()` e.g. -10002), `VOD_ERR_SERVER`, `VOD_ERR_NETWORK`,
/// `VOD_ERR_TIMEOUT`, `VOD_ERR_PROTOCOL` (an answer that is not the protocol, or a malformed
/// event in it: the message names `eventList[i]` and its msgHandle).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_events_pull(
    client: *mut vod_client,
    out: *mut *mut vod_event_list,
) -> vod_status {
    status_call("vod_events_pull", || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        let out = arg_out(out, "out")?;
        let pulled = client.client().pull_events()?;
        let items = pulled
            .iter()
            .enumerate()
            .map(|(i, p)| list_item(i, p))
            .collect::<FfiResult<Vec<_>>>()?;
        let list = Box::into_raw(Box::new(vod_event_list { items }));
        unsafe { out.write(list) };
        Ok(())
    })
}

fn read_list<T>(
    function: &str,
    l: *const vod_event_list,
    fallback: T,
    f: impl FnOnce(&vod_event_list) -> FfiResult<T>,
) -> T {
    value_call(function, fallback, || f(unsafe { arg_ref(l, "list") }?))
}

fn item(l: &vod_event_list, i: usize) -> FfiResult<&(CString, vod_event)> {
    l.items.get(i).ok_or_else(|| {
        Failure::invalid_argument(format!(
            "index {i} is out of range: the list holds {} events",
            l.items.len()
        ))
    })
}

/// How many events the list holds (0 to 16; 0 when the queue was empty). 0 if `l` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_list_count(l: *const vod_event_list) -> usize {
    read_list("vod_event_list_count", l, 0, |l| Ok(l.items.len()))
}

/// The message handle of event `i` (0-based, oldest first): pass it to `vod_events_confirm` once
/// the event is handled. Opaque. Borrowed from `l`: valid until `vod_event_list_free(l)`. NULL
/// (recorded as `VOD_ERR_INVALID_ARGUMENT`) if `l` is NULL or `i` is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_list_msg_handle(
    l: *const vod_event_list,
    i: usize,
) -> *const c_char {
    read_list("vod_event_list_msg_handle", l, std::ptr::null(), |l| {
        Ok(item(l, i)?.0.as_ptr())
    })
}

/// Event `i` (0-based, oldest first), to read with the `vod_event_*` accessors. Borrowed from
/// `l`: valid until `vod_event_list_free(l)`; never pass it to `vod_event_free`. NULL (recorded
/// as `VOD_ERR_INVALID_ARGUMENT`) if `l` is NULL or `i` is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_list_event(
    l: *const vod_event_list,
    i: usize,
) -> *const vod_event {
    read_list("vod_event_list_event", l, std::ptr::null(), |l| {
        Ok(&item(l, i)?.1 as *const vod_event)
    })
}

/// Frees a list, with its events and handles. NULL is fine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_event_list_free(l: *mut vod_event_list) {
    value_call("vod_event_list_free", (), || {
        if !l.is_null() {
            // SAFETY: a pointer from vod_events_pull, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(l) });
        }
        Ok(())
    })
}

/// Acknowledges handled events by their message handles (`ConfirmEvent`): confirmed events are
/// not pulled again. Handles that are unknown or already confirmed are ignored by the service, so
/// confirming again after a failure is safe. More than 16 handles are sent in several requests.
///
/// - `client`: required.
/// - `msg_handles`: an array of `count` NUL-terminated handles from `vod_event_list_msg_handle`
///   (copied during the call: the list may be freed afterwards); may be NULL when `count` is 0,
///   which sends nothing and returns `VOD_OK`.
///
/// Blocks (network). Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `client`, NULL `msg_handles` with
/// `count` > 0, a NULL element), `VOD_ERR_INVALID_INPUT` (an empty or non-UTF-8 handle; nothing is
/// sent), then the statuses of `vod_events_pull`. A failure after some requests succeeded says in
/// `vod_last_error()` how many events were confirmed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_events_confirm(
    client: *mut vod_client,
    msg_handles: *const *const c_char,
    count: usize,
) -> vod_status {
    status_call("vod_events_confirm", || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        if count == 0 {
            return Ok(());
        }
        if msg_handles.is_null() {
            return Err(Failure::invalid_argument(format!(
                "msg_handles is NULL with count = {count}"
            )));
        }
        let handles = (0..count)
            .map(|i| {
                // SAFETY: the array holds `count` pointers (the caller's contract).
                let h = unsafe { *msg_handles.add(i) };
                unsafe { arg_str(h, &format!("msg_handles[{i}]")) }
            })
            .collect::<FfiResult<Vec<&str>>>()?;
        client.client().confirm_events(&handles)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(p: *const c_char) -> Option<String> {
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
    }

    fn parse(json: &[u8]) -> Result<*mut vod_event, (vod_status, String)> {
        let mut out = std::ptr::null_mut();
        let s = unsafe { vod_event_parse(json.as_ptr().cast(), json.len(), &mut out) };
        if s == vod_status::VOD_OK {
            Ok(out)
        } else {
            Err((s, text(crate::vod_last_error()).unwrap()))
        }
    }

    #[test]
    fn parses_and_reads_an_event() {
        let json = br#"{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":123,"fileName":"a","sourceType":"ServerUpload","future":1}}"#;
        let e = parse(json).unwrap();
        unsafe {
            assert_eq!(text(vod_event_event_type(e)).unwrap(), "NewFileUpload");
            assert!(vod_event_is_new_file_upload(e));
            assert_eq!(text(vod_event_version(e)).unwrap(), "4.0");
            assert_eq!(text(vod_event_file_id(e)).unwrap(), "123");
            assert_eq!(text(vod_event_source_type(e)).unwrap(), "ServerUpload");
            assert_eq!(text(vod_event_file_url(e)), None);
            assert_eq!(text(vod_event_raw_json(e)).unwrap().as_bytes(), json);
            vod_event_free(e);
        }
    }

    #[test]
    fn a_nul_in_a_field_is_null_not_a_failure() {
        let json = br#"{"eventType":"X\u0000Y","data":{"fileId":"a\u0000b","fileUrl":"u"}}"#;
        let e = parse(json).unwrap();
        unsafe {
            assert_eq!(text(vod_event_event_type(e)).unwrap(), "X\u{fffd}Y");
            assert_eq!(text(vod_event_file_id(e)), None);
            assert_eq!(text(vod_event_file_url(e)).unwrap(), "u");
            assert!(text(vod_event_raw_json(e)).unwrap().contains("a\\u0000b"));
            vod_event_free(e);
        }
    }

    #[test]
    fn malformed_input_is_invalid_input() {
        let (s, m) = parse(br#"{"eventType":"#).unwrap_err();
        assert_eq!(s, vod_status::VOD_ERR_INVALID_INPUT);
        assert!(m.contains("not valid JSON"), "{m}");
        let (s, m) = parse(b"").unwrap_err();
        assert_eq!(s, vod_status::VOD_ERR_INVALID_INPUT, "{m}");
        let (_, m) = parse(b"\xff").unwrap_err();
        assert!(m.contains("UTF-8"), "{m}");
        let mut out = std::ptr::null_mut();
        let s = unsafe { vod_event_parse(std::ptr::null(), 0, &mut out) };
        assert_eq!(s, vod_status::VOD_ERR_INVALID_ARGUMENT);
        let s = unsafe { vod_event_parse(c"{}".as_ptr(), usize::MAX, &mut out) };
        assert_eq!(s, vod_status::VOD_ERR_INVALID_ARGUMENT);
        assert!(out.is_null());
    }

    #[test]
    fn list_accessors_check_the_index() {
        let list = vod_event_list {
            items: vec![(
                c"h1".to_owned(),
                vod_event::new(&Event::parse(r#"{"eventType":"T"}"#).unwrap()),
            )],
        };
        unsafe {
            assert_eq!(vod_event_list_count(&list), 1);
            assert_eq!(text(vod_event_list_msg_handle(&list, 0)).unwrap(), "h1");
            let e = vod_event_list_event(&list, 0);
            assert_eq!(text(vod_event_event_type(e)).unwrap(), "T");
            assert!(vod_event_list_msg_handle(&list, 1).is_null());
            assert!(vod_event_list_event(&list, 1).is_null());
            assert!(
                text(crate::vod_last_error())
                    .unwrap()
                    .contains("index 1 is out of range: the list holds 1 events")
            );
        }
    }
}
