//! The names of every client option, upload option and result field, from the core: a program
//! (or a binding's test) can check it covers them all, and `vod_client_set_option` /
//! `vod_upload_options_set` take them.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use vodcore::settings::{CLIENT_OPTIONS, Kind, RESULT_FIELDS, Setting, UPLOAD_OPTIONS, Value};

use crate::boundary::{FfiResult, arg_path, arg_str, value_call};

/// The value of a by-name setter: NULL is the default; a path option takes bytes as on the file
/// system, any other option UTF-8 text.
pub(crate) unsafe fn option_value<'a>(
    list: &'static [Setting],
    name: &str,
    value: *const c_char,
) -> FfiResult<Value<'a>> {
    if value.is_null() {
        return Ok(Value::Default);
    }
    let is_path = list.iter().any(|s| s.name == name && s.kind == Kind::Path);
    Ok(if is_path {
        Value::Path(unsafe { arg_path(value, "value") }?)
    } else {
        Value::Text(unsafe { arg_str(value, "value") }?)
    })
}

/// How a kind is named to C: what the value's text must be.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "integer\0",
        Kind::IntegerOrAuto => "integer_or_auto\0",
        Kind::Seconds => "seconds\0",
        Kind::Bool => "bool\0",
        Kind::Text => "text\0",
        Kind::Url => "url\0",
        Kind::Path => "path\0",
        Kind::TextList => "text_list\0",
        _ => "text\0",
    }
}

/// The list as NUL-terminated strings that live as long as the library.
struct Names(Vec<CString>);

fn names(list: &'static [Setting], cell: &'static OnceLock<Names>) -> &'static Names {
    cell.get_or_init(|| {
        Names(
            list.iter()
                .map(|s| CString::new(s.name).expect("names have no NUL"))
                .collect(),
        )
    })
}

fn nth(
    function: &str,
    list: &'static [Setting],
    cell: &'static OnceLock<Names>,
    index: usize,
) -> *const c_char {
    value_call(function, std::ptr::null(), || {
        Ok(names(list, cell)
            .0
            .get(index)
            .map_or(std::ptr::null(), |n| n.as_ptr()))
    })
}

/// The name of client option `index` (0, 1, ... until NULL), as `vod_client_set_option` takes
/// it: "endpoint", "part_size", "request_timeout"... A static string: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn vod_client_option_name(index: usize) -> *const c_char {
    static CELL: OnceLock<Names> = OnceLock::new();
    nth("vod_client_option_name", CLIENT_OPTIONS, &CELL, index)
}

/// The name of upload option `index` (0, 1, ... until NULL), as `vod_upload_options_set` takes
/// it: "name", "file_type", "tags"... A static string: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn vod_upload_option_name(index: usize) -> *const c_char {
    static CELL: OnceLock<Names> = OnceLock::new();
    nth("vod_upload_option_name", UPLOAD_OPTIONS, &CELL, index)
}

/// The name of result field `index` (0, 1, ... until NULL): "file_id", "url", "retries"...; each
/// has an accessor `vod_upload_result_<name>` (`elapsed` as `vod_upload_result_elapsed_ms`). A
/// static string: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn vod_upload_result_field_name(index: usize) -> *const c_char {
    static CELL: OnceLock<Names> = OnceLock::new();
    nth("vod_upload_result_field_name", RESULT_FIELDS, &CELL, index)
}

/// The kind of client option `index` (as `vod_client_option_name`), or NULL past the end:
/// "integer", "seconds" (fractions allowed), "bool" ("true"/"false"), "text", "url", "path"
/// (bytes as on the file system), "text_list" (one item per set), "integer_or_auto" (a number
/// or "auto"). A static string: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn vod_client_option_kind(index: usize) -> *const c_char {
    kind_at("vod_client_option_kind", CLIENT_OPTIONS, index)
}

/// The kind of upload option `index` (as `vod_upload_option_name`), or NULL past the end; see
/// `vod_client_option_kind`.
#[unsafe(no_mangle)]
pub extern "C" fn vod_upload_option_kind(index: usize) -> *const c_char {
    kind_at("vod_upload_option_kind", UPLOAD_OPTIONS, index)
}

fn kind_at(function: &str, list: &'static [Setting], index: usize) -> *const c_char {
    value_call(function, std::ptr::null(), || {
        Ok(list
            .get(index)
            .map_or(std::ptr::null(), |s| kind_name(s.kind).as_ptr().cast()))
    })
}
