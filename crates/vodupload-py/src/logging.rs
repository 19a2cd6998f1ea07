//! Forwards the core's `log` records to Python's `logging.getLogger("vodupload")`.
//!
//! Only records of the vodupload crates are forwarded (not ureq's or rustls's, whose debug output
//! would include full request URLs). The core never puts the SecretKey or a signature in a record.
//!
//! Cost: deciding whether a record is wanted must not take the GIL, because records come from the
//! worker threads of an upload running with the GIL released. So the effective level of the
//! `vodupload` logger is read (with the GIL) at the start of every blocking call and kept in an
//! atomic; only records at or above it take the GIL, to be handed to `logger.handle()`.
//! A logging configuration changed in the middle of an upload applies from the next call.

use std::sync::atomic::{AtomicUsize, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

/// The Python logger name.
pub const LOGGER_NAME: &str = "vodupload";

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
/// `LevelFilter as usize` of the Python logger, refreshed by [`refresh`].
static LEVEL: AtomicUsize = AtomicUsize::new(0);
static BRIDGE: Bridge = Bridge;

struct Bridge;

fn python_level(level: Level) -> u32 {
    match level {
        Level::Error => 40,
        Level::Warn => 30,
        Level::Info => 20,
        Level::Debug => 10,
        Level::Trace => 5,
    }
}

fn level_filter() -> LevelFilter {
    match LEVEL.load(Ordering::Relaxed) {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Records from the core (`vodupload::...`) and from this crate; not the emulator's, nor other
/// crates'.
fn is_ours(target: &str) -> bool {
    target == "vodupload" || target.starts_with("vodupload::") || target.starts_with("vodupload_py")
}

fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    LOGGER
        .get_or_try_init(py, || {
            py.import("logging")?
                .call_method1("getLogger", (LOGGER_NAME,))
                .map(Bound::unbind)
        })
        .map(|l| l.bind(py))
}

/// Installs the bridge (once per process; a logger someone else installed first wins) and reads
/// the Python logger's level.
pub fn install(py: Python<'_>) {
    let _ = log::set_logger(&BRIDGE);
    refresh(py);
}

/// Re-reads which levels the Python `vodupload` logger lets through.
pub fn refresh(py: Python<'_>) {
    let filter = (|| -> PyResult<LevelFilter> {
        let l = logger(py)?;
        for (level, filter) in [
            (Level::Trace, LevelFilter::Trace),
            (Level::Debug, LevelFilter::Debug),
            (Level::Info, LevelFilter::Info),
            (Level::Warn, LevelFilter::Warn),
            (Level::Error, LevelFilter::Error),
        ] {
            if l.call_method1("isEnabledFor", (python_level(level),))?
                .is_truthy()?
            {
                return Ok(filter);
            }
        }
        Ok(LevelFilter::Off)
    })()
    .unwrap_or(LevelFilter::Off);
    LEVEL.store(filter as usize, Ordering::Relaxed);
    log::set_max_level(filter);
}

fn emit(py: Python<'_>, record: &Record<'_>) -> PyResult<()> {
    let l = logger(py)?;
    let level = python_level(record.level());
    if !l.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    // makeRecord(name, level, fn, lno, msg, args, exc_info, func): args is empty, so a `%` in the
    // message is never taken for a format.
    let rec = l.call_method1(
        "makeRecord",
        (
            LOGGER_NAME,
            level,
            record.file().unwrap_or("<rust>"),
            record.line().unwrap_or(0),
            record.args().to_string(),
            PyTuple::empty(py),
            py.None(),
            record.module_path().unwrap_or(record.target()),
        ),
    )?;
    l.call_method1("handle", (rec,))?;
    Ok(())
}

impl Log for Bridge {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_ours(metadata.target()) && metadata.level() <= level_filter()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        Python::attach(|py| {
            // A record logged while an exception is being raised must not replace it.
            let saved = PyErr::take(py);
            // A failing handler is Python logging's business (it reports via handleError);
            // anything else going wrong here must not disturb the upload.
            let _ = emit(py, record);
            if let Some(e) = saved {
                e.restore(py);
            }
        });
    }

    fn flush(&self) {}
}
