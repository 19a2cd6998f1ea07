//! Progress reporting and cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which stage an upload is in when it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading the file to compute its SHA-1 and part MD5s (before InitUpload).
    Hashing,
    /// Sending parts; `done` counts bytes the server holds, skipped parts included.
    Uploading,
}

/// One progress report. `done` never decreases within a phase: a retried part is counted once,
/// when the server confirms it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
    /// While uploading, how many parts the upload may have in flight now (with
    /// [`Concurrency::Auto`](crate::Concurrency::Auto), what it has chosen so far); 0 while
    /// hashing.
    pub concurrency: usize,
}

/// A progress callback: return `false` to stop the upload (it then fails with
/// [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled) and the server keeps what it has).
/// Calls are serialised: never two at once, even with parallel parts.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) -> bool + Sync);

/// No progress reporting.
pub fn no_progress(_: Progress) -> bool {
    true
}

/// Stops an upload from another thread (or a signal handler thread). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
