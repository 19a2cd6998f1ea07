//! `vod_upload_options`: what the caller says about the video (name, type, tags, category,
//! processing flags) and the optional hashing-progress callback.

use std::ffi::{c_char, c_void};

use vodcore::UploadOptions;
use vodcore::settings::{UPLOAD_OPTIONS, Value};

use crate::boundary::{FfiResult, arg_mut, arg_out, arg_str, status_call, value_call};
use crate::callback::{CCallback, vod_progress_cb};
use crate::status::vod_status;

/// Per-upload parameters, built with setters and passed to `vod_upload_file_with_options` or
/// `vod_upload_begin_with_options` (which copy what they need: the options may be changed or freed
/// once the call returns, and one options object may serve many uploads). Opaque.
///
/// Every setting is optional: by default the video's name is the file name without its extension
/// (characters the service refuses become '_', cut to 40 bytes), its type is the extension, with
/// no tags, no category and no processing.
///
/// Thread-safety: not synchronised. Several uploads may read one options object at once, but it
/// must not be changed while a call that was given it is running.
#[derive(Debug, Default)]
pub struct vod_upload_options {
    pub(crate) options: UploadOptions,
    pub(crate) hash_progress: Option<CCallback>,
}

/// Creates an options object with every setting at its default. Free it with
/// `vod_upload_options_free`.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `out`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_new(out: *mut *mut vod_upload_options) -> vod_status {
    status_call("vod_upload_options_new", || {
        let out = arg_out(out, "out")?;
        unsafe { out.write(Box::into_raw(Box::default())) };
        Ok(())
    })
}

/// Frees an options object. NULL is fine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_free(options: *mut vod_upload_options) {
    value_call("vod_upload_options_free", (), || {
        if !options.is_null() {
            // SAFETY: a pointer from vod_upload_options_new, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(options) });
        }
        Ok(())
    })
}

unsafe fn set(
    function: &str,
    options: *mut vod_upload_options,
    change: impl FnOnce(&mut vod_upload_options) -> FfiResult<()>,
) -> vod_status {
    status_call(function, || {
        let options = unsafe { arg_mut(options, "options") }?;
        change(options)
    })
}

/// Sets one option through the core, which applies its rule (the same in every face).
unsafe fn set_option<'a>(
    function: &str,
    options: *mut vod_upload_options,
    name: &str,
    value: impl FnOnce() -> FfiResult<Value<'a>>,
) -> vod_status {
    unsafe {
        set(function, options, |o| {
            o.options.set(name, value()?)?;
            Ok(())
        })
    }
}

/// Sets any upload option by its name, from text: `name` is one of the names
/// `vod_upload_option_name` lists ("name", "file_type", "tags", "class_id", "transcode"...),
/// `value` its text ("mp4", "42", "true"), or NULL for the default. "tags" adds one tag per call
/// (NULL removes them all). The same rules and messages as the typed setters.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL options or name), `VOD_ERR_INVALID_INPUT` (an unknown
/// name, a value the option refuses, not UTF-8); the options are then unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set(
    options: *mut vod_upload_options,
    name: *const c_char,
    value: *const c_char,
) -> vod_status {
    unsafe {
        set("vod_upload_options_set", options, |o| {
            let name = arg_str(name, "name")?;
            let value = crate::names::option_value(UPLOAD_OPTIONS, name, value)?;
            o.options.set(name, value)?;
            Ok(())
        })
    }
}

/// Sets the video's name (the service's `fileName`): UTF-8, 1 to 40 bytes, none of
/// `\ / : * ? " < >` nor control characters, without the extension. It is checked now and used as
/// given, never silently changed.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (breaks a rule above).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set_name(
    options: *mut vod_upload_options,
    name: *const c_char,
) -> vod_status {
    unsafe {
        set_option("vod_upload_options_set_name", options, "name", || {
            Ok(Value::Text(arg_str(name, "name")?))
        })
    }
}

/// Sets the video's type (the service's `fileType`), e.g. "mp4" (a leading '.' is dropped);
/// needed when the file has no extension. Letters and digits only, at most 16.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (breaks a rule above, not
/// UTF-8).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set_type(
    options: *mut vod_upload_options,
    file_type: *const c_char,
) -> vod_status {
    unsafe {
        set_option("vod_upload_options_set_type", options, "file_type", || {
            Ok(Value::Text(arg_str(file_type, "file_type")?))
        })
    }
}

/// Adds a tag (sent as `tags.1`, `tags.2`... in the order added). Tags must be non-empty and
/// without control characters.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (breaks a rule above, not
/// UTF-8).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_add_tag(
    options: *mut vod_upload_options,
    tag: *const c_char,
) -> vod_status {
    unsafe {
        set_option("vod_upload_options_add_tag", options, "tags", || {
            Ok(Value::Text(arg_str(tag, "tag")?))
        })
    }
}

/// Removes every tag added so far.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_clear_tags(
    options: *mut vod_upload_options,
) -> vod_status {
    unsafe {
        set("vod_upload_options_clear_tags", options, |o| {
            o.options.tags.clear();
            Ok(())
        })
    }
}

/// Sets the category (the service's `classId`), a non-negative id; -1 removes it (the default:
/// none).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (another negative value).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set_class_id(
    options: *mut vod_upload_options,
    class_id: i64,
) -> vod_status {
    unsafe {
        set_option(
            "vod_upload_options_set_class_id",
            options,
            "class_id",
            || {
                Ok(if class_id == -1 {
                    Value::Default
                } else {
                    Value::Int(class_id.into())
                })
            },
        )
    }
}

/// Asks the service to transcode the video after the upload (`isTranscode`; default off).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set_transcode(
    options: *mut vod_upload_options,
    enabled: bool,
) -> vod_status {
    unsafe {
        set_option(
            "vod_upload_options_set_transcode",
            options,
            "transcode",
            || Ok(Value::Bool(enabled)),
        )
    }
}

/// Asks the service to take screenshots of the video (`isScreenshot`; default off).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set_screenshot(
    options: *mut vod_upload_options,
    enabled: bool,
) -> vod_status {
    unsafe {
        set_option(
            "vod_upload_options_set_screenshot",
            options,
            "screenshot",
            || Ok(Value::Bool(enabled)),
        )
    }
}

/// Asks the service to watermark the video (`isWatermark`; default off).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set_watermark(
    options: *mut vod_upload_options,
    enabled: bool,
) -> vod_status {
    unsafe {
        set_option(
            "vod_upload_options_set_watermark",
            options,
            "watermark",
            || Ok(Value::Bool(enabled)),
        )
    }
}

/// Sets a callback for the hashing phase: before anything is sent, the whole file is read once
/// to compute its SHA-1 and part MD5s, which takes a while for a large file. `callback` gets the
/// bytes read so far and the file size, on the thread that called `vod_upload_file*` /
/// `vod_upload_begin*`; a non-zero return stops with `VOD_ERR_ABORTED`. NULL `callback` removes
/// it. See `vod_progress_cb` for the rules; `user_data` must stay valid while uploads using these
/// options run.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `options`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_upload_options_set_hash_progress(
    options: *mut vod_upload_options,
    callback: vod_progress_cb,
    user_data: *mut c_void,
) -> vod_status {
    unsafe {
        set("vod_upload_options_set_hash_progress", options, |o| {
            o.hash_progress = CCallback::new(callback, user_data);
            Ok(())
        })
    }
}
