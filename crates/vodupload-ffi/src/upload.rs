//! Uploads: in one call (`vod_upload_file*`) or step by step (`vod_upload_begin*`, then
//! `vod_upload_part` per part, then `vod_upload_finish`).

use std::ffi::{c_char, c_void};

use vodcore::{CancelToken, UploadOptions};

use crate::boundary::{arg_out, arg_path, arg_ref, status_call, value_call};
use crate::callback::{CCallback, Callbacks, vod_progress_cb};
use crate::client::vod_client;
use crate::options::vod_upload_options;
use crate::result::vod_upload_result;
use crate::status::vod_status;

/// One upload between its beginning (hashing, InitUpload) and its finish. Opaque.
///
/// Thread-safety: the calls on one upload may come from any thread, and `vod_upload_part` may run
/// on several threads at once for different parts (the library serialises what must be);
/// `vod_upload_free` must be the last call, once no other call on it is running. It does not
/// borrow its client: the client may be freed first.
#[derive(Debug)]
pub struct vod_upload {
    upload: vodcore::Upload,
}

fn defaults() -> &'static vod_upload_options {
    static DEFAULT: std::sync::OnceLock<vod_upload_options> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(vod_upload_options::default)
}

/// Options from C: NULL means the defaults.
unsafe fn options_arg<'a>(options: *const vod_upload_options) -> &'a vod_upload_options {
    // SAFETY: NULL or a live options object not being changed (the caller's contract).
    unsafe { options.as_ref() }.unwrap_or_else(defaults)
}

/// The body of `vod_upload_file` and `vod_upload_file_with_options`: their C arguments, and the
/// name their errors give.
unsafe fn upload_file(
    function: &str,
    client: *mut vod_client,
    path: *const c_char,
    options: *const vod_upload_options,
    progress: vod_progress_cb,
    user_data: *mut c_void,
    out: *mut *mut vod_upload_result,
) -> vod_status {
    status_call(function, || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        let path = unsafe { arg_path(path, "path") }?;
        let out = arg_out(out, "out")?;
        let options = unsafe { options_arg(options) };
        let callbacks = Callbacks {
            upload: CCallback::new(progress, user_data),
            hashing: options.hash_progress,
        };
        let result = client.client().upload(
            path,
            &options.options,
            &|p| callbacks.report(p),
            &CancelToken::new(),
        )?;
        let result = vod_upload_result::new_raw(result)?;
        unsafe { out.write(result) };
        Ok(())
    })
}

/// Uploads the file at `path` in one call: reads it once to hash it, asks the service what it
/// already has (InitUpload), sends the missing parts in parallel (`vod_client_set_concurrency`)
/// with retries, and finishes (FinishUpload). With the default options; see
/// `vod_upload_file_with_options` for name, type, tags...
///
/// - `client`: required; may be shared with other threads uploading at the same time.
/// - `path`: required; bytes as on the file system (need not be UTF-8). A regular, non-empty file
///   that must not change during the upload.
/// - `progress`: optional (NULL: none), called with `user_data`; see `vod_progress_cb`. A non-zero
///   return stops the upload with `VOD_ERR_ABORTED`; uploading the same file again then resumes,
///   sending only the parts the service lacks.
/// - `out`: required; receives the result on success (untouched on failure); free it with
///   `vod_upload_result_free`.
///
/// Blocks until done. Errors: any status; `vod_last_error()` says what happened and
/// `vod_last_server_code()` gives the service's code. Typical: `VOD_ERR_NOT_FOUND`,
/// `VOD_ERR_INVALID_INPUT` (empty file, no extension and no type...), `VOD_ERR_AUTH` (wrong
/// key), `VOD_ERR_NETWORK`, `VOD_ERR_TIMEOUT`, `VOD_ERR_SERVER`, `VOD_ERR_FILE_CHANGED`,
/// `VOD_ERR_ABORTED`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_file(
    client: *mut vod_client,
    path: *const c_char,
    progress: vod_progress_cb,
    user_data: *mut c_void,
    out: *mut *mut vod_upload_result,
) -> vod_status {
    unsafe {
        upload_file(
            "vod_upload_file",
            client,
            path,
            std::ptr::null(),
            progress,
            user_data,
            out,
        )
    }
}

/// As `vod_upload_file`, with `options` (NULL: the defaults). The options are only read during
/// the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_file_with_options(
    client: *mut vod_client,
    path: *const c_char,
    options: *const vod_upload_options,
    progress: vod_progress_cb,
    user_data: *mut c_void,
    out: *mut *mut vod_upload_result,
) -> vod_status {
    unsafe {
        upload_file(
            "vod_upload_file_with_options",
            client,
            path,
            options,
            progress,
            user_data,
            out,
        )
    }
}

unsafe fn begin(
    function: &str,
    client: *mut vod_client,
    path: *const c_char,
    options: *const vod_upload_options,
    out: *mut *mut vod_upload,
) -> vod_status {
    status_call(function, || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        let path = unsafe { arg_path(path, "path") }?;
        let out = arg_out(out, "out")?;
        let options = unsafe { options_arg(options) };
        let callbacks = Callbacks {
            upload: None,
            hashing: options.hash_progress,
        };
        let opts: &UploadOptions = &options.options;
        let upload =
            client
                .client()
                .begin(path, opts, &|p| callbacks.report(p), &CancelToken::new())?;
        unsafe { out.write(Box::into_raw(Box::new(vod_upload { upload }))) };
        Ok(())
    })
}

/// Begins a step-by-step upload: checks and hashes the file, then asks the service what it
/// already has (InitUpload). No callbacks are needed, which suits event loops and PHP FFI. Then
/// send each part for which `vod_upload_part_needed` is true with `vod_upload_part`, and call
/// `vod_upload_finish`.
///
/// If the service already holds some parts (an earlier, interrupted upload of the same content),
/// they are not needed; if it holds the whole file, no part is needed ("instant upload").
///
/// - `client`, `path`: as for `vod_upload_file`.
/// - `out`: required; receives the upload on success (untouched on failure); free it with
///   `vod_upload_free`.
///
/// Blocks while it hashes and asks. Errors: as `vod_upload_file`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_begin(
    client: *mut vod_client,
    path: *const c_char,
    out: *mut *mut vod_upload,
) -> vod_status {
    unsafe { begin("vod_upload_begin", client, path, std::ptr::null(), out) }
}

/// As `vod_upload_begin`, with `options` (NULL: the defaults); a hashing callback set on them is
/// called during this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_begin_with_options(
    client: *mut vod_client,
    path: *const c_char,
    options: *const vod_upload_options,
    out: *mut *mut vod_upload,
) -> vod_status {
    unsafe { begin("vod_upload_begin_with_options", client, path, options, out) }
}

fn read<T>(
    function: &str,
    upload: *const vod_upload,
    fallback: T,
    f: impl FnOnce(&vodcore::Upload) -> T,
) -> T {
    value_call(function, fallback, || {
        Ok(f(&unsafe { arg_ref(upload, "upload") }?.upload))
    })
}

/// How many parts the file has (all of them, needed or not); parts are numbered from 0.
/// 0 if `upload` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_part_count(upload: *const vod_upload) -> usize {
    read("vod_upload_part_count", upload, 0, |u| u.part_count())
}

/// Whether part `index` still has to be sent: false once the service stored it, when the service
/// already had it (resume, instant upload), and for an index out of range or a NULL `upload`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_part_needed(upload: *const vod_upload, index: usize) -> bool {
    read("vod_upload_part_needed", upload, false, |u| {
        u.part_needed(index)
    })
}

/// The part size agreed with the service (the client's, or the one an earlier attempt fixed).
/// 0 if `upload` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_part_size(upload: *const vod_upload) -> u64 {
    read("vod_upload_part_size", upload, 0, |u| u.part_size())
}

/// Bytes the service holds (parts stored plus parts it already had); never decreases.
/// 0 if `upload` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_bytes_done(upload: *const vod_upload) -> u64 {
    read("vod_upload_bytes_done", upload, 0, |u| u.bytes_done())
}

/// The file size. 0 if `upload` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_bytes_total(upload: *const vod_upload) -> u64 {
    read("vod_upload_bytes_total", upload, 0, |u| u.bytes_total())
}

/// Whether the service already had the whole file (no part is needed). False if `upload` is
/// NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_is_instant(upload: *const vod_upload) -> bool {
    read("vod_upload_is_instant", upload, false, |u| u.is_instant())
}

/// Sends part `index` (numbered from 0): checks the file has not changed, reads the part and
/// sends it with the MD5 computed while hashing, retrying what can be retried. Blocks until the
/// service stored it. Sending a part that is not needed does nothing and returns `VOD_OK`. May be
/// called from several threads at once for different parts.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (index out of range),
/// `VOD_ERR_FILE_CHANGED`, `VOD_ERR_IO`, transport and service errors, `VOD_ERR_ABORTED` (after
/// `vod_upload_cancel`). A failed part stays needed: try it again later, or begin again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_part(upload: *mut vod_upload, index: usize) -> vod_status {
    status_call("vod_upload_part", || {
        let upload = unsafe { arg_ref(upload.cast_const(), "upload") }?;
        upload.upload.upload_part(index)?;
        Ok(())
    })
}

/// Finishes the upload (FinishUpload) once no part is needed. `out` receives the result on
/// success (untouched on failure); free it with `vod_upload_result_free`. Calling it again after a
/// success gives another copy of the same result. Should the service say parts are missing, the
/// library asks it what it holds, sends the rest and finishes again.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (parts still needed),
/// `VOD_ERR_FILE_CHANGED`, transport and service errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_finish(
    upload: *mut vod_upload,
    out: *mut *mut vod_upload_result,
) -> vod_status {
    status_call("vod_upload_finish", || {
        let upload = unsafe { arg_ref(upload.cast_const(), "upload") }?;
        let out = arg_out(out, "out")?;
        let result = vod_upload_result::new_raw(upload.upload.finish()?)?;
        unsafe { out.write(result) };
        Ok(())
    })
}

/// Stops the upload from any thread: a `vod_upload_part` or `vod_upload_finish` running now
/// returns `VOD_ERR_ABORTED` as soon as it can, and so does every later one. The service keeps
/// the parts it has: begin again to resume. Does nothing if `upload` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_cancel(upload: *const vod_upload) {
    read("vod_upload_cancel", upload, (), |u| {
        u.cancel_token().cancel()
    })
}

/// Frees an upload. NULL is fine. Freeing an unfinished upload sends nothing: the service keeps
/// the parts it has for a later resume.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_free(upload: *mut vod_upload) {
    value_call("vod_upload_free", (), || {
        if !upload.is_null() {
            // SAFETY: a pointer from vod_upload_begin*, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(upload) });
        }
        Ok(())
    })
}
