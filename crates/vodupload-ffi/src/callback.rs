//! C progress callbacks, wrapped so the core can call them from its worker threads.

use std::ffi::c_void;

use vodcore::{Phase, Progress};

/// A progress callback.
///
/// `bytes_done` counts the bytes the server holds (parts skipped by a resume count, a retried part
/// counts once), so it never decreases; `bytes_total` is the file size. For the upload it is
/// called once before the first part (with what a resume already has, possibly 0), then after
/// every part the server stores, ending with `bytes_done == bytes_total`. For hashing (see
/// `vod_upload_options_set_hash_progress`) it reports the bytes read so far.
///
/// Return 0 to go on; any other value stops the upload: the call then fails with
/// `VOD_ERR_ABORTED`, the parts in flight finish or stop, and the service keeps what it has, so
/// the next upload of the same file resumes.
///
/// Threads: the upload callback is called from the library's internal threads, never two calls at
/// once (calls are serialised, and each happens-before the next); the hashing callback is called
/// on the thread that called `vod_upload_file*` or `vod_upload_begin*`. `user_data` is passed
/// through untouched, so it must stay valid, and be usable from those threads, until the call
/// returns. The callback must return normally, and must not call `vod_*` on the same upload. A
/// `longjmp` or a C++ exception out of it is undefined behaviour: it unwinds through Rust frames
/// that hold locks, threads and file handles, and nothing detects it (it may even seem to work);
/// never do it. To stop from a callback, return non-zero.
pub type vod_progress_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, bytes_done: u64, bytes_total: u64) -> i32>;

/// A C callback with its user data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CCallback {
    cb: unsafe extern "C" fn(*mut c_void, u64, u64) -> i32,
    user_data: *mut c_void,
}

// SAFETY: the core serialises the calls it makes (never two at once), and the callback's contract,
// documented on `vod_progress_cb`, is that it and `user_data` may be used from the library's
// threads for the duration of the call that was given them.
unsafe impl Send for CCallback {}
unsafe impl Sync for CCallback {}

impl CCallback {
    pub(crate) fn new(cb: vod_progress_cb, user_data: *mut c_void) -> Option<CCallback> {
        cb.map(|cb| CCallback { cb, user_data })
    }

    /// Calls it; true means go on.
    fn call(&self, p: Progress) -> bool {
        // SAFETY: the caller's contract on `vod_progress_cb`.
        unsafe { (self.cb)(self.user_data, p.done, p.total) == 0 }
    }
}

/// The two C callbacks of one upload, as the core's progress function.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Callbacks {
    pub upload: Option<CCallback>,
    pub hashing: Option<CCallback>,
}

impl Callbacks {
    pub(crate) fn report(&self, p: Progress) -> bool {
        let cb = match p.phase {
            Phase::Uploading => self.upload,
            Phase::Hashing => self.hashing,
        };
        cb.is_none_or(|cb| cb.call(p))
    }
}
