//! The C ABI of vodupload: `libvodupload.so` (SONAME `libvodupload.so.0`), `libvodupload.a`, and
//! `include/vodupload.h`, generated from this crate by cbindgen (see `gen-header.sh`).
//!
//! A thin layer: argument checks, handles, the panic boundary and the status mapping. Everything
//! about the protocol (signing, hashing, retries, resume) lives in the core crate.
//!
//! Every export runs through [`boundary::status_call`] or [`boundary::value_call`]: no panic
//! crosses into C. Exported names all start with `vod_`; the linker version script
//! (`vodupload.map`) hides everything else.

#![allow(non_camel_case_types)]
// Every unsafe export documents its pointer contract in C terms in its doc comment (which is the
// header's documentation); a Rust "# Safety" section there would only repeat it.
#![allow(clippy::missing_safety_doc)]

// The boundary turns panics into VOD_ERR_PANIC with catch_unwind, which panic=abort would defeat.
#[cfg(panic = "abort")]
compile_error!("libvodupload must be built with panic=unwind: its C boundary catches panics");

// The header follows the declaration order (hence the blank lines, which keep rustfmt from
// sorting these): errors, client, options, uploads, results, signing, events.
mod boundary;

mod callback;

mod client;

mod names;

mod options;

mod upload;

mod result;

mod sign;

mod events;

mod status;

use std::ffi::c_char;

pub use boundary::{vod_last_can_retry, vod_last_error, vod_last_server_code, vod_last_status};
pub use callback::vod_progress_cb;
pub use client::*;
pub use events::*;
pub use names::*;
pub use options::*;
pub use result::*;
pub use sign::*;
pub use status::{vod_status, vod_status_value};
pub use upload::*;

const VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version, e.g. "0.1.0": the version of the vodupload release it was built from.
/// A static string: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn vod_version() -> *const c_char {
    boundary::value_call("vod_version", VERSION_NUL.as_ptr().cast(), || {
        debug_assert_eq!(vodcore::VERSION, env!("CARGO_PKG_VERSION"));
        Ok(VERSION_NUL.as_ptr().cast())
    })
}

/// A short English description of `status`, e.g. "network error"; "unknown status" for a value
/// this version does not know. A static string: never free it. Thread-safe. For the details of
/// a failure use `vod_last_error()`.
#[unsafe(no_mangle)]
pub extern "C" fn vod_strerror(status: vod_status_value) -> *const c_char {
    const UNKNOWN: &str = "unknown status\0";
    boundary::value_call("vod_strerror", UNKNOWN.as_ptr().cast(), || {
        Ok(vod_status::from_value(status)
            .map_or(UNKNOWN, vod_status::describe)
            .as_ptr()
            .cast())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_and_strerror() {
        let v = unsafe { CStr::from_ptr(vod_version()) };
        assert_eq!(v.to_str().unwrap(), vodcore::VERSION);
        let s = |v: u32| {
            unsafe { CStr::from_ptr(vod_strerror(v)) }
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(s(0), "success");
        assert_eq!(s(3100), "timed out");
        assert_eq!(s(12345), "unknown status");
    }
}
