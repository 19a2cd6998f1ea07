//! `vod_upload_result`: what a finished upload reports.

use std::ffi::{CString, c_char};

use vodcore::UploadResult;

use crate::boundary::{FfiResult, arg_ref, to_cstring, value_call};

/// The outcome of a finished upload. Opaque; read it with the accessors below, free it with
/// `vod_upload_result_free`. Immutable: safe to read from several threads at once.
#[derive(Debug)]
pub struct vod_upload_result {
    result: UploadResult,
    file_id: CString,
    url: CString,
    file_sha1: CString,
}

impl vod_upload_result {
    pub(crate) fn new_raw(result: UploadResult) -> FfiResult<*mut vod_upload_result> {
        Ok(Box::into_raw(Box::new(vod_upload_result {
            file_id: to_cstring("fileId", &result.file_id)?,
            url: to_cstring("url", &result.url)?,
            file_sha1: to_cstring("file SHA-1", &result.file_sha1)?,
            result,
        })))
    }
}

fn read<T>(
    function: &str,
    r: *const vod_upload_result,
    fallback: T,
    f: impl FnOnce(&vod_upload_result) -> T,
) -> T {
    value_call(function, fallback, || {
        Ok(f(unsafe { arg_ref(r, "result") }?))
    })
}

/// The service's id for the video (`fileId`), e.g. "7031868222808505913". Borrowed from `r`:
/// valid until `vod_upload_result_free(r)`. NULL if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_file_id(r: *const vod_upload_result) -> *const c_char {
    read("vod_upload_result_file_id", r, std::ptr::null(), |r| {
        r.file_id.as_ptr()
    })
}

/// Where the service serves the video (`url`). Borrowed from `r`: valid until
/// `vod_upload_result_free(r)`. NULL if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_url(r: *const vod_upload_result) -> *const c_char {
    read("vod_upload_result_url", r, std::ptr::null(), |r| {
        r.url.as_ptr()
    })
}

/// True when the service already had the file, so nothing was sent ("instant upload"). False if
/// `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_instant(r: *const vod_upload_result) -> bool {
    read("vod_upload_result_instant", r, false, |r| r.result.instant)
}

/// The file's SHA-1, lowercase hex (40 characters). Borrowed from `r`. NULL if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_file_sha1(r: *const vod_upload_result) -> *const c_char {
    read("vod_upload_result_file_sha1", r, std::ptr::null(), |r| {
        r.file_sha1.as_ptr()
    })
}

/// The file's size in bytes. 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_file_size(r: *const vod_upload_result) -> u64 {
    read("vod_upload_result_file_size", r, 0, |r| r.result.file_size)
}

/// How many parts the file has. 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_parts_total(r: *const vod_upload_result) -> usize {
    read("vod_upload_result_parts_total", r, 0, |r| {
        r.result.parts_total
    })
}

/// How many parts this run sent and the service stored. 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_parts_uploaded(r: *const vod_upload_result) -> usize {
    read("vod_upload_result_parts_uploaded", r, 0, |r| {
        r.result.parts_uploaded
    })
}

/// How many parts the service already held (a resume) or did not need (an instant upload).
/// 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_parts_skipped(r: *const vod_upload_result) -> usize {
    read("vod_upload_result_parts_skipped", r, 0, |r| {
        r.result.parts_skipped
    })
}

/// Part bytes this run sent and the service answered, retries included. 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_bytes_sent(r: *const vod_upload_result) -> u64 {
    read("vod_upload_result_bytes_sent", r, 0, |r| {
        r.result.bytes_sent
    })
}

/// Requests this run sent again after a transient failure (network error, timeout, HTTP 5xx, a
/// retryable service error). 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_retries(r: *const vod_upload_result) -> u64 {
    read("vod_upload_result_retries", r, 0, |r| r.result.retries)
}

/// The most parts the upload had in flight at once (with the "auto" concurrency, how far it
/// went). 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_concurrency_peak(r: *const vod_upload_result) -> usize {
    read("vod_upload_result_concurrency_peak", r, 0, |r| {
        r.result.concurrency_peak
    })
}

/// Milliseconds from the start of the upload (hashing included) to its finish. 0 if `r` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_elapsed_ms(r: *const vod_upload_result) -> u64 {
    read("vod_upload_result_elapsed_ms", r, 0, |r| {
        u64::try_from(r.result.elapsed.as_millis()).unwrap_or(u64::MAX)
    })
}

/// Frees a result (and the strings borrowed from it). NULL is fine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_result_free(r: *mut vod_upload_result) {
    value_call("vod_upload_result_free", (), || {
        if !r.is_null() {
            // SAFETY: a pointer from this library, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(r) });
        }
        Ok(())
    })
}
