//! Running blocking core work with the GIL released, while the calling thread stays responsive.
//!
//! The core call runs on a helper thread. The calling thread releases the GIL and waits on a
//! channel; it wakes for each progress report (calls the Python callable itself, with the GIL, on
//! the thread that called `upload()`, so thread-locals and context variables behave as in any
//! Python call) and every [`TICK`] to run `PyErr_CheckSignals` (Ctrl-C) and to look at the
//! caller's `CancelToken`.
//!
//! - An exception raised by a callback is kept; the core is told to stop (the callback "returns
//!   false"); when the core has stopped, that same exception object is raised.
//! - A signal handler's exception (KeyboardInterrupt) is handled the same way: the upload stops at
//!   its next request boundary and the exception is raised. Parts the server stored stay there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use vodupload::{CancelToken, Phase, Progress, ProgressFn};

/// How often the waiting thread checks for signals and for a cancelled `CancelToken`.
pub const TICK: Duration = Duration::from_millis(50);

/// The Python callables of one call: `hashing(done, total)` and `uploading(done, total)`.
#[derive(Default)]
pub struct Callbacks<'py> {
    pub hashing: Option<Bound<'py, PyAny>>,
    pub uploading: Option<Bound<'py, PyAny>>,
}

impl<'py> Callbacks<'py> {
    /// Checks that each given callback is callable (TypeError otherwise, before anything starts).
    pub fn new(
        hashing: Option<Bound<'py, PyAny>>,
        uploading: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Self> {
        for (name, cb) in [("hash_progress", &hashing), ("progress", &uploading)] {
            if let Some(cb) = cb {
                if !cb.is_callable() {
                    return Err(PyTypeError::new_err(format!(
                        "{name} must be a callable taking (done, total), not {}",
                        cb.get_type().name()?
                    )));
                }
            }
        }
        Ok(Callbacks { hashing, uploading })
    }

    fn for_phase(&self, phase: Phase) -> Option<&Bound<'py, PyAny>> {
        match phase {
            Phase::Hashing => self.hashing.as_ref(),
            Phase::Uploading => self.uploading.as_ref(),
        }
    }
}

enum Msg {
    Progress(Progress, SyncSender<bool>),
    Done,
}

/// Runs `work` (given the progress function to hand to the core) on a helper thread with the GIL
/// released, serving `callbacks` and signals until it returns. `token` is the core's cancel flag
/// for this work: cancelled on a callback exception, a signal exception, or when `watch` (the
/// caller's own token) is cancelled.
pub fn run<'py, T, W>(
    py: Python<'py>,
    token: &CancelToken,
    watch: Option<&CancelToken>,
    callbacks: &Callbacks<'py>,
    work: W,
) -> PyResult<T>
where
    T: Send,
    W: FnOnce(ProgressFn<'_>) -> T + Send,
{
    crate::logging::refresh(py);
    if watch.is_some_and(CancelToken::is_cancelled) {
        token.cancel();
    }
    let wants_hashing = callbacks.hashing.is_some();
    let wants_uploading = callbacks.uploading.is_some();
    // Set once the caller side has decided to stop: later reports answer "stop" without a round trip.
    let aborted = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Msg>();

    std::thread::scope(|scope| {
        let aborted_ref = &aborted;
        let handle = std::thread::Builder::new()
            .name("vodupload-call".into())
            .spawn_scoped(scope, move || {
                let done_tx = tx.clone();
                let progress = move |p: Progress| -> bool {
                    if aborted_ref.load(Ordering::SeqCst) {
                        return false;
                    }
                    let wanted = match p.phase {
                        Phase::Hashing => wants_hashing,
                        Phase::Uploading => wants_uploading,
                    };
                    if !wanted {
                        return true;
                    }
                    let (reply_tx, reply_rx) = mpsc::sync_channel(1);
                    if tx.send(Msg::Progress(p, reply_tx)).is_err() {
                        return false;
                    }
                    reply_rx.recv().unwrap_or(false)
                };
                let out = work(&progress);
                let _ = done_tx.send(Msg::Done);
                out
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;

        let mut pending: Option<PyErr> = None;
        let stop = |pending: &mut Option<PyErr>, e: PyErr| {
            aborted.store(true, Ordering::SeqCst);
            token.cancel();
            if pending.is_none() {
                *pending = Some(e);
            }
        };
        let mut rx = rx;
        loop {
            let (msg, back) = py.detach(move || {
                let m = rx.recv_timeout(TICK);
                (m, rx)
            });
            rx = back;
            match msg {
                Ok(Msg::Progress(p, reply)) => {
                    let mut go = pending.is_none();
                    if go {
                        if let Some(cb) = callbacks.for_phase(p.phase) {
                            if let Err(e) = cb.call1((p.done, p.total)) {
                                stop(&mut pending, e);
                                go = false;
                            }
                        }
                    }
                    let _ = reply.send(go);
                }
                Ok(Msg::Done) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if pending.is_none() {
                if let Err(e) = py.check_signals() {
                    stop(&mut pending, e);
                }
            }
            if watch.is_some_and(CancelToken::is_cancelled) {
                token.cancel();
            }
        }
        let joined = py.detach(move || handle.join());
        let out = joined.map_err(panic_error)?;
        match pending {
            Some(e) => Err(e),
            None => Ok(out),
        }
    })
}

/// A panic of the helper thread, as Python's PanicException with its message.
fn panic_error(panic: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    PanicException::new_err(format!(
        "vodupload panicked (a bug, please report it): {what}"
    ))
}
