//! `vodupload.Emulator`: the protocol emulator running inside the Python process, for tests and
//! examples (a real HTTP server on 127.0.0.1, real sockets, no network needed).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use vodupload_emulator::{EmulatorConfig, Faults, Stats, TlsSetup};

use crate::client::{py_bool, py_str};

/// The upload protocol emulator, running in this process on a free port of 127.0.0.1 (a real
/// HTTP or HTTPS server on its own threads), with a random SecretId/SecretKey unless given.
/// It checks everything the service checks (signatures, timestamps, part sizes, MD5s, SHA-1) and
/// can inject faults. Use it as a context manager, or call ``stop()``.
///
/// Options: ``secret_id``/``secret_key`` (both or neither), ``state_dir`` (keep parts and files
/// there, across restarts; default: a temporary directory removed on stop), ``tls`` (serve HTTPS
/// with a fresh self-signed certificate, see ``ca_file``), ``rate_limit`` (enforce the service's
/// per-minute call rates), ``any_part_size`` (accept any part size, not only 512 KiB and 1 MiB),
/// ``clock_offset_secs``, ``listen`` (``"host:port"``), ``notify_url`` (POST each "Video Upload
/// Completed" event's JSON there, from a background thread: 5 s timeout, 2 retries; ``ValueError``
/// unless an ``http://`` or ``https://`` URL with a host; its query string, e.g. a token, is kept
/// and never logged). Every FinishUpload that completes a file queues one event for the SecretId,
/// served by PullEvent/ConfirmEvent at ``endpoint`` (pass it as ``Client(events_endpoint=...)``)
/// and kept in ``state_dir`` until confirmed. Faults, decided per request from ``seed``:
/// ``fail_rate`` (answer -10004 with canRetry=1), ``drop_rate`` (close the connection without an
/// answer), ``http502_rate``, ``truncate_rate`` (cut the JSON answer), ``slow_rate`` with
/// ``slow_ms``, and ``latency_ms`` added to every answer; ``bandwidth`` (MB/s) makes request
/// bodies, all connections together, arrive no faster, as over a thin link.
#[pyclass(module = "vodupload", frozen)]
pub struct Emulator {
    /// Dropped (server stopped) before `_ca_dir` is removed: fields drop in order.
    server: Mutex<Option<vodupload_emulator::Emulator>>,
    final_stats: Mutex<Option<Stats>>,
    endpoint: String,
    secret_id: String,
    secret_key: String,
    ca_cert_pem: Option<String>,
    ca_file: Option<PathBuf>,
    state_dir: PathBuf,
    _ca_dir: Option<tempfile::TempDir>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("endpoint", &self.endpoint)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"***")
            .finish_non_exhaustive()
    }
}

fn rate(name: &str, v: f64) -> PyResult<f64> {
    if !(0.0..=1.0).contains(&v) {
        return Err(PyValueError::new_err(format!(
            "{name} must be a probability between 0.0 and 1.0, not {v}"
        )));
    }
    Ok(v)
}

fn non_negative(name: &str, v: i64) -> PyResult<u64> {
    u64::try_from(v)
        .map_err(|_| PyValueError::new_err(format!("{name} must be 0 or more, not {v}")))
}

fn stats_dict<'py>(py: Python<'py>, s: &Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("requests", s.requests)?;
    d.set_item("init_calls", s.init_calls)?;
    d.set_item("part_calls", s.part_calls)?;
    d.set_item("finish_calls", s.finish_calls)?;
    d.set_item("pull_calls", s.pull_calls)?;
    d.set_item("confirm_calls", s.confirm_calls)?;
    d.set_item("events_created", s.events_created)?;
    d.set_item("events_confirmed", s.events_confirmed)?;
    d.set_item("notify_attempts", s.notify_attempts)?;
    d.set_item("notify_delivered", s.notify_delivered)?;
    d.set_item("notify_failed", s.notify_failed)?;
    d.set_item("parts_stored", s.parts_stored)?;
    d.set_item("part_bytes_stored", s.part_bytes_stored)?;
    d.set_item("faults_injected", s.faults_injected)?;
    d.set_item("errors_returned", s.errors_returned)?;
    Ok(d)
}

#[pymethods]
impl Emulator {
    #[new]
    #[pyo3(signature = (
        *, secret_id=None, secret_key=None, state_dir=None, tls=false, rate_limit=true,
        any_part_size=false, clock_offset_secs=0, listen="127.0.0.1:0", seed=0, fail_rate=0.0,
        drop_rate=0.0, http502_rate=0.0, truncate_rate=0.0, slow_rate=0.0, slow_ms=0,
        latency_ms=0, bandwidth=None, notify_url=None
    ))]
    // One parameter per keyword argument of the Python signature above.
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        secret_id: Option<String>,
        secret_key: Option<String>,
        state_dir: Option<PathBuf>,
        tls: bool,
        rate_limit: bool,
        any_part_size: bool,
        clock_offset_secs: i64,
        listen: &str,
        seed: i64,
        fail_rate: f64,
        drop_rate: f64,
        http502_rate: f64,
        truncate_rate: f64,
        slow_rate: f64,
        slow_ms: i64,
        latency_ms: i64,
        bandwidth: Option<f64>,
        notify_url: Option<String>,
    ) -> PyResult<Self> {
        let mut config = EmulatorConfig::default();
        config.listen = listen.parse::<SocketAddr>().map_err(|_| {
            PyValueError::new_err(format!(
                "listen must be an address such as \"127.0.0.1:0\", not {listen:?}"
            ))
        })?;
        match (secret_id, secret_key) {
            (None, None) => {}
            (Some(id), Some(key)) if !id.is_empty() && !key.is_empty() => {
                config.credentials = vec![(id, key)];
            }
            _ => {
                return Err(PyValueError::new_err(
                    "pass both secret_id and secret_key (non-empty), or neither for random ones",
                ));
            }
        }
        config.state_dir = state_dir;
        config.rate_limit = rate_limit;
        config.any_part_size = any_part_size;
        config.clock_offset_secs = clock_offset_secs;
        config.faults = Faults {
            seed: u64::from_ne_bytes(seed.to_ne_bytes()),
            fail_rate: rate("fail_rate", fail_rate)?,
            drop_rate: rate("drop_rate", drop_rate)?,
            http502_rate: rate("http502_rate", http502_rate)?,
            truncate_rate: rate("truncate_rate", truncate_rate)?,
            slow_rate: rate("slow_rate", slow_rate)?,
            slow_ms: non_negative("slow_ms", slow_ms)?,
            latency_ms: non_negative("latency_ms", latency_ms)?,
            bandwidth_bytes_per_sec: bandwidth
                .map(Faults::bandwidth_from_mb_per_s)
                .transpose()
                .map_err(|e| {
                    PyValueError::new_err(e.message().replacen("--bandwidth", "bandwidth", 1))
                })?
                .unwrap_or(0),
        };
        let (ca_dir, ca_file) = if tls {
            let dir = tempfile::Builder::new()
                .prefix("vodupload-emulator-ca-")
                .tempdir()
                .map_err(|e| {
                    PyOSError::new_err(format!("cannot create a temporary directory: {e}"))
                })?;
            let file = dir.path().join("ca.pem");
            config.tls = Some(TlsSetup::SelfSigned {
                cert_out: Some(file.clone()),
            });
            (Some(dir), Some(file))
        } else {
            (None, None)
        };
        config.notify_url = notify_url;
        let server = py
            .detach(move || vodupload_emulator::Emulator::start(config))
            .map_err(|e| {
                // A refused notify URL is a bad argument (its message names it), not an OS error.
                if e.message().starts_with("the notify URL") {
                    PyValueError::new_err(e.message().to_owned())
                } else {
                    PyOSError::new_err(format!("the emulator cannot start: {e}"))
                }
            })?;
        let (secret_id, secret_key) = server.credentials()[0].clone();
        Ok(Emulator {
            endpoint: server.endpoint(),
            ca_cert_pem: server.ca_cert_pem(),
            state_dir: server.state_dir().to_owned(),
            server: Mutex::new(Some(server)),
            final_stats: Mutex::new(None),
            secret_id,
            secret_key,
            ca_file,
            _ca_dir: ca_dir,
        })
    }

    /// The URL to pass as ``Client(endpoint=...)``, e.g. ``http://127.0.0.1:41234/v2/index.php``.
    #[getter]
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The SecretId the emulator accepts.
    #[getter]
    fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The SecretKey the emulator accepts.
    #[getter]
    fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// PEM of the self-signed certificate when ``tls=True``, else None.
    #[getter]
    fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_cert_pem.as_deref()
    }

    /// Path of a file holding ``ca_cert_pem``, for ``Client(ca_file=...)``; None without TLS.
    #[getter]
    fn ca_file(&self) -> Option<String> {
        self.ca_file.as_ref().map(|p| p.display().to_string())
    }

    /// Where the emulator keeps parts and finished files.
    #[getter]
    fn state_dir(&self) -> String {
        self.state_dir.display().to_string()
    }

    /// False once ``stop()`` was called.
    #[getter]
    fn running(&self) -> bool {
        lock(&self.server).is_some()
    }

    /// The emulator's counters, as a dict: requests, init_calls, part_calls, finish_calls,
    /// pull_calls, confirm_calls, events_created, events_confirmed, notify_attempts (POSTs to
    /// ``notify_url``, retries included), notify_delivered (events it accepted with a 2xx),
    /// notify_failed (events whose every attempt failed), parts_stored, part_bytes_stored,
    /// faults_injected, errors_returned. After ``stop()``, the final values.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = match lock(&self.server).as_ref() {
            Some(server) => server.stats(),
            None => lock(&self.final_stats).clone().unwrap_or_default(),
        };
        stats_dict(py, &s)
    }

    /// Stops the server (connections are closed; a client then gets ``NetworkError``) and, unless
    /// ``state_dir`` was given, removes its state. Calling it again does nothing.
    fn stop(&self, py: Python<'_>) {
        let server = lock(&self.server).take();
        if let Some(server) = server {
            *lock(&self.final_stats) = Some(server.stats());
            py.detach(move || server.shutdown());
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Emulator(endpoint={}, secret_id={}, running={})",
            py_str(&self.endpoint),
            py_str(&self.secret_id),
            py_bool(self.running())
        )
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
