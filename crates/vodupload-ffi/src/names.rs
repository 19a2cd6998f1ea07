//! The names of every client option, upload option and result field, from the core: a program
//! (or a binding's test) can check it covers them all, and `vod_client_set_option` /
//! `vod_upload_options_set` take them.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use vodcore::settings::{CLIENT_OPTIONS, RESULT_FIELDS, Setting, UPLOAD_OPTIONS};

use crate::boundary::value_call;

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
