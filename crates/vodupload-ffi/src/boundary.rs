//! The one FFI boundary: every export runs its body through [`status_call`] or [`value_call`],
//! which catch panics (a panic becomes `VOD_ERR_PANIC`, never an unwind into C or an abort) and
//! record the failure in this thread's last-error slot. Argument helpers turn NULL and bad
//! strings into errors instead of crashes.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::status::vod_status;

/// A failure on its way to C: the status, the message for `vod_last_error`, and what the service
/// said, when it said something.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: vod_status,
    pub message: String,
    pub server_code: i64,
    pub can_retry: bool,
}

impl Failure {
    pub(crate) fn new(status: vod_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
            server_code: 0,
            can_retry: false,
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Failure::new(vod_status::VOD_ERR_INVALID_ARGUMENT, message)
    }
}

impl From<vodcore::Error> for Failure {
    fn from(e: vodcore::Error) -> Self {
        Failure {
            status: vod_status::of(&e),
            message: e.message().to_owned(),
            server_code: e.server().map_or(0, |s| s.code),
            can_retry: e.is_transient(),
        }
    }
}

pub(crate) type FfiResult<T> = Result<T, Failure>;

/// This thread's last failure.
struct LastError {
    status: vod_status,
    message: CString,
    server_code: i64,
    can_retry: bool,
}

thread_local! {
    static LAST: RefCell<LastError> = RefCell::new(LastError {
        status: vod_status::VOD_OK,
        message: CString::default(),
        server_code: 0,
        can_retry: false,
    });
}

fn record(function: &str, f: Failure) {
    let message = match f.status {
        // Say which call was misused; core messages already say what went wrong.
        vod_status::VOD_ERR_INVALID_ARGUMENT | vod_status::VOD_ERR_PANIC => {
            format!("{function}: {}", f.message)
        }
        _ => f.message,
    };
    let message = CString::new(message.replace('\0', "\u{fffd}")).unwrap_or_default();
    // `try_with`: a call made while this thread is being torn down still returns its status.
    let _ = LAST.try_with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            *l = LastError {
                status: f.status,
                message,
                server_code: f.server_code,
                can_retry: f.can_retry,
            }
        }
    });
}

fn panic_failure(payload: Box<dyn Any + Send>) -> Failure {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    Failure::new(
        vod_status::VOD_ERR_PANIC,
        format!("internal error (Rust panic: {what}); please report it"),
    )
}

/// Runs the body of an export that returns a status.
pub(crate) fn status_call(function: &str, body: impl FnOnce() -> FfiResult<()>) -> vod_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => vod_status::VOD_OK,
        Ok(Err(f)) => {
            let s = f.status;
            record(function, f);
            s
        }
        Err(payload) => {
            record(function, panic_failure(payload));
            vod_status::VOD_ERR_PANIC
        }
    }
}

/// Runs the body of an export that returns a value; `fallback` is returned on failure (after the
/// failure is recorded for `vod_last_error`).
pub(crate) fn value_call<T>(function: &str, fallback: T, body: impl FnOnce() -> FfiResult<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(f)) => {
            record(function, f);
            fallback
        }
        Err(payload) => {
            record(function, panic_failure(payload));
            fallback
        }
    }
}

/// A required pointer argument, as a shared reference.
///
/// # Safety
/// `p` is NULL or points to a live `T` that nobody mutates for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller's contract, documented on each export.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::invalid_argument(format!("{name} is NULL")))
}

/// A required pointer argument, as an exclusive reference.
///
/// # Safety
/// `p` is NULL or points to a live `T` nobody else uses for `'a`.
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: the caller's contract, documented on each export.
    unsafe { p.as_mut() }.ok_or_else(|| Failure::invalid_argument(format!("{name} is NULL")))
}

/// A required out-parameter. Checked up front, written only on success.
pub(crate) fn arg_out<T>(p: *mut T, name: &str) -> FfiResult<OutParam<T>> {
    if p.is_null() {
        Err(Failure::invalid_argument(format!("{name} is NULL")))
    } else {
        Ok(OutParam(p))
    }
}

/// A checked, non-NULL out-parameter.
pub(crate) struct OutParam<T>(*mut T);

impl<T> OutParam<T> {
    /// Stores `v` without reading or dropping what was there (C memory, maybe uninitialised).
    ///
    /// # Safety
    /// The pointer given to [`arg_out`] is valid for a write of `T`.
    pub(crate) unsafe fn write(self, v: T) {
        // SAFETY: non-NULL (checked by arg_out) and writable (the caller's contract).
        unsafe { self.0.write(v) }
    }
}

/// A required NUL-terminated string argument, as bytes.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that lives and stays unchanged for `'a`.
pub(crate) unsafe fn arg_bytes<'a>(p: *const c_char, name: &str) -> FfiResult<&'a [u8]> {
    if p.is_null() {
        return Err(Failure::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated (the caller's contract).
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A required UTF-8 string argument.
///
/// # Safety
/// As [`arg_bytes`].
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    let bytes = unsafe { arg_bytes(p, name) }?;
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            vod_status::VOD_ERR_INVALID_INPUT,
            format!(
                "{name} is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A required path argument: any bytes but NUL on Unix, where paths are bytes; UTF-8 elsewhere.
///
/// # Safety
/// As [`arg_bytes`].
pub(crate) unsafe fn arg_path<'a>(p: *const c_char, name: &str) -> FfiResult<&'a Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = unsafe { arg_bytes(p, name) }?;
        Ok(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        Ok(Path::new(unsafe { arg_str(p, name) }?))
    }
}

/// A string from the service or the core as a C string; a NUL inside (never expected) is an error
/// rather than a silently cut value.
pub(crate) fn to_cstring(what: &str, s: &str) -> FfiResult<CString> {
    CString::new(s).map_err(|_| {
        Failure::new(
            vod_status::VOD_ERR_PROTOCOL,
            format!("the {what} the service returned contains a NUL byte"),
        )
    })
}

/// The message of this thread's last failure ("" when there was none).
///
/// Set by every call that fails (returns a status other than `VOD_OK`, or its documented failure
/// value: NULL, false or 0 with a NULL argument); calls that succeed leave it as it was, like
/// `errno`, so read it right after the failing call. It says what went wrong and what to do
/// about it; it never contains the SecretKey.
///
/// Ownership: the string belongs to the library and stays valid on this thread until the next
/// failing `vod_*` call on this thread (or the thread's end). Copy it to keep it. Never NULL.
/// Thread-safety: each thread has its own.
#[unsafe(no_mangle)]
pub extern "C" fn vod_last_error() -> *const c_char {
    value_call("vod_last_error", c"".as_ptr(), || {
        Ok(read_last(|l| l.message.as_ptr()).unwrap_or(c"".as_ptr()))
    })
}

/// Reads this thread's slot; None while the thread is being torn down.
fn read_last<T>(f: impl FnOnce(&LastError) -> T) -> Option<T> {
    LAST.try_with(|l| l.try_borrow().ok().map(|l| f(&l)))
        .ok()
        .flatten()
}

/// The status of this thread's last failure (`VOD_OK` when there was none). Same lifetime rules
/// as `vod_last_error`; useful after calls that return a value rather than a status.
#[unsafe(no_mangle)]
pub extern "C" fn vod_last_status() -> vod_status {
    value_call("vod_last_status", vod_status::VOD_OK, || {
        Ok(read_last(|l| l.status).unwrap_or(vod_status::VOD_OK))
    })
}

/// The service's error code in this thread's last failure, when the failure was an answer from the
/// service (`VOD_ERR_AUTH` or `VOD_ERR_SERVER`, e.g. -10002 for a bad signature, 4400 for too
/// many requests); 0 otherwise (0 is never an error code of the service).
#[unsafe(no_mangle)]
pub extern "C" fn vod_last_server_code() -> i64 {
    value_call("vod_last_server_code", 0, || {
        Ok(read_last(|l| l.server_code).unwrap_or(0))
    })
}

/// Whether this thread's last failure is worth retrying as it is: true for network failures,
/// timeouts and service errors marked retryable (after the library's own retries were used up);
/// false for bad input, bad credentials, aborts, and when there was no failure.
#[unsafe(no_mangle)]
pub extern "C" fn vod_last_can_retry() -> bool {
    value_call("vod_last_can_retry", false, || {
        Ok(read_last(|l| l.can_retry).unwrap_or(false))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_message() -> String {
        unsafe { CStr::from_ptr(vod_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status() {
        let s = status_call("vod_test", || panic!("boom {}", 42));
        assert_eq!(s, vod_status::VOD_ERR_PANIC);
        assert_eq!(vod_last_status(), vod_status::VOD_ERR_PANIC);
        let m = last_message();
        assert!(m.starts_with("vod_test: internal error"), "{m}");
        assert!(m.contains("boom 42"), "{m}");

        let v = value_call("vod_test_value", 7usize, || panic!("static str"));
        assert_eq!(v, 7);
        assert!(last_message().contains("static str"));
    }

    #[test]
    fn failures_are_recorded_and_successes_leave_them() {
        let s = status_call("vod_x", || {
            Err(Failure {
                status: vod_status::VOD_ERR_SERVER,
                message: "UploadPart failed with code -10004".into(),
                server_code: -10004,
                can_retry: true,
            })
        });
        assert_eq!(s, vod_status::VOD_ERR_SERVER);
        assert_eq!(vod_last_server_code(), -10004);
        assert!(vod_last_can_retry());
        assert_eq!(last_message(), "UploadPart failed with code -10004");
        assert_eq!(status_call("vod_y", || Ok(())), vod_status::VOD_OK);
        assert_eq!(vod_last_server_code(), -10004);
    }

    #[test]
    fn last_error_is_per_thread() {
        status_call("vod_x", || Err(Failure::invalid_argument("x is NULL")));
        let other = std::thread::spawn(|| (vod_last_status(), last_message()))
            .join()
            .unwrap();
        assert_eq!(other, (vod_status::VOD_OK, String::new()));
        assert_eq!(last_message(), "vod_x: x is NULL");
    }

    #[test]
    fn nul_in_message_does_not_lose_it() {
        status_call("vod_x", || {
            Err(Failure::new(vod_status::VOD_ERR_IO, "a\0b"))
        });
        assert_eq!(last_message(), "a\u{fffd}b");
    }

    #[test]
    fn string_arguments() {
        assert!(unsafe { arg_str(std::ptr::null(), "name") }.is_err());
        let bad = c"\xff\xfe";
        let e = unsafe { arg_str(bad.as_ptr(), "name") }.unwrap_err();
        assert_eq!(e.status, vod_status::VOD_ERR_INVALID_INPUT);
        #[cfg(unix)]
        {
            let p = unsafe { arg_path(bad.as_ptr(), "path") }.unwrap();
            use std::os::unix::ffi::OsStrExt;
            assert_eq!(p.as_os_str().as_bytes(), b"\xff\xfe");
        }
    }
}
