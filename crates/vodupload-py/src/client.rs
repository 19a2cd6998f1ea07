//! `Client`, `Upload`, `UploadResult` and `CancelToken`: thin wrappers over the core. Every
//! blocking call goes through [`crate::run::run`], which releases the GIL.

use std::fmt;
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyString};
use vodupload::{ClientOptions, Credentials, UploadOptions};

use crate::errors::to_py;
use crate::events::Event;
use crate::many;
use crate::options::{self, type_name};
use crate::run::{Callbacks, run};

/// Stops an upload from another thread: pass it as ``cancel=`` to ``Client.upload`` or
/// ``Client.begin``, then call ``cancel()``; the upload raises ``UploadCancelled`` within a
/// fraction of a second (a part already on the wire finishes first). The server keeps the parts
/// it has, so a later upload of the same file resumes. A token stays cancelled; it can be shared
/// by several uploads to stop them all.
#[pyclass(module = "vodupload", frozen)]
#[derive(Debug, Default)]
pub struct CancelToken {
    pub(crate) token: vodupload::CancelToken,
}

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Asks every upload watching this token to stop.
    fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether ``cancel()`` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    fn __repr__(&self) -> String {
        format!(
            "CancelToken(cancelled={})",
            py_bool(self.token.is_cancelled())
        )
    }
}

pub(crate) fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A Python-style string literal for `__repr__`: single quotes, backslash escapes.
pub(crate) fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// What a finished upload reports. Immutable.
///
/// ``file_id`` and ``url`` identify the video on the service; ``instant`` is True when the service
/// already had the file and nothing was sent; ``parts_uploaded`` parts were sent by this run and
/// ``parts_skipped`` were already on the server (resume, or instant upload); ``bytes_sent`` counts
/// part bytes sent, retries included; ``retries`` counts requests sent again after a transient
/// failure; ``elapsed`` is in seconds, hashing included. The field names are
/// ``vodupload.RESULT_FIELDS``.
#[pyclass(module = "vodupload", frozen, get_all)]
#[derive(Debug, Clone)]
pub struct UploadResult {
    /// The service's id of the video.
    file_id: String,
    /// Where the service serves the file.
    url: String,
    /// The service already had the file: nothing was sent.
    instant: bool,
    /// SHA-1 of the file, lowercase hex.
    file_sha1: String,
    /// Size of the file in bytes.
    file_size: u64,
    /// Number of parts of the file.
    parts_total: usize,
    /// Parts this run sent.
    parts_uploaded: usize,
    /// Parts the server already held.
    parts_skipped: usize,
    /// Part bytes sent by this run, retries included.
    bytes_sent: u64,
    /// Requests sent again after a transient failure (network error, timeout, retryable code).
    retries: u64,
    /// Seconds from the start of hashing to the end of FinishUpload.
    elapsed: f64,
    /// The most parts the upload had in flight at once.
    concurrency_peak: usize,
}

impl From<vodupload::UploadResult> for UploadResult {
    fn from(r: vodupload::UploadResult) -> Self {
        UploadResult {
            file_id: r.file_id,
            url: r.url,
            instant: r.instant,
            file_sha1: r.file_sha1,
            file_size: r.file_size,
            parts_total: r.parts_total,
            parts_uploaded: r.parts_uploaded,
            parts_skipped: r.parts_skipped,
            bytes_sent: r.bytes_sent,
            retries: r.retries,
            elapsed: r.elapsed.as_secs_f64(),
            concurrency_peak: r.concurrency_peak,
        }
    }
}

#[pymethods]
impl UploadResult {
    /// The fields as a plain dict (for JSON responses, logs...).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("file_id", &self.file_id)?;
        d.set_item("url", &self.url)?;
        d.set_item("instant", self.instant)?;
        d.set_item("file_sha1", &self.file_sha1)?;
        d.set_item("file_size", self.file_size)?;
        d.set_item("parts_total", self.parts_total)?;
        d.set_item("parts_uploaded", self.parts_uploaded)?;
        d.set_item("parts_skipped", self.parts_skipped)?;
        d.set_item("bytes_sent", self.bytes_sent)?;
        d.set_item("retries", self.retries)?;
        d.set_item("elapsed", self.elapsed)?;
        d.set_item("concurrency_peak", self.concurrency_peak)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "UploadResult(file_id={}, url={}, instant={}, parts_total={}, parts_uploaded={}, parts_skipped={}, bytes_sent={}, retries={}, file_size={}, elapsed={:.3}, concurrency_peak={})",
            py_str(&self.file_id),
            py_str(&self.url),
            py_bool(self.instant),
            self.parts_total,
            self.parts_uploaded,
            self.parts_skipped,
            self.bytes_sent,
            self.retries,
            self.file_size,
            self.elapsed,
            self.concurrency_peak
        )
    }
}

/// A configured client for the VOD upload host. Thread-safe: share one between threads (and
/// requests of a web app); their uploads share its connection pool and its pacing under the
/// service's rate limits, and run in parallel (the GIL is released while they work).
///
/// ``secret_id``/``secret_key`` default to the ``TENCENTCLOUD_SECRET_ID`` and
/// ``TENCENTCLOUD_SECRET_KEY`` environment variables. The keywords are the names of
/// ``vodupload.CLIENT_OPTIONS``; None (or leaving one out) keeps its default. Each value goes to
/// the Rust core, which applies the option's rule: a bad value raises ``ValueError`` with the
/// same message as in every other face (the CLI, C, PHP), a wrong type ``TypeError``, before
/// anything is sent.
///
/// Options: ``endpoint`` (default ``https://vod2.qcloud.com/v2/index.php``), ``region`` ("gz"),
/// ``part_size`` (524288 or 1048576 bytes), ``concurrency`` (parts in flight per upload, 1-64),
/// ``max_attempts`` (tries per request, the first included, 1-100), ``retry_base_delay`` and
/// ``retry_max_delay`` (seconds, at most 3600), ``connect_timeout`` and ``request_timeout``
/// (seconds, at most 86400); durations are an int, a float or a ``datetime.timedelta``.
/// ``ca_file`` (PEM file of the only trusted roots), ``proxy`` (``http://host:port``; default:
/// the usual ``*_PROXY`` variables), ``signature_method`` ("HmacSHA1" or "HmacSHA256"),
/// ``rate_limit`` (pace requests under the service's published rates; default True),
/// ``rate_upload_part`` and ``rate_init_finish`` (the account's rates, calls a minute; default
/// 10000 and 100), ``pacing_url`` (``redis://host:port/db``: share the pacing with every process
/// using that Redis, for a fleet under one SecretId; ``?strict=true`` makes a failing Redis an
/// error instead of a fallback to local pacing),
/// ``fingerprint_cache`` (a private directory keeping each file's SHA-1 and part MD5s, so a
/// re-upload or resume of a large file starts without reading it again; created if missing,
/// refused if other users could write to it; default None: off), ``events_endpoint`` (the event
/// API that ``pull_events()`` and ``confirm_events()`` call; default
/// ``https://vod.api.qcloud.com/v2/index.php``, the provider's general API host).
#[pyclass(module = "vodupload", frozen)]
#[derive(Debug)]
pub struct Client {
    inner: vodupload::Client,
}

/// `str`/`os.PathLike`, refusing other types with a clear TypeError (pyo3's own message names
/// `PathBuf`).
pub(crate) fn extract_path(path: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    path.extract::<PathBuf>().map_err(|_| {
        PyTypeError::new_err(format!(
            "path must be a str or os.PathLike, not {}",
            type_name(path)
        ))
    })
}

/// The upload keywords shared by `upload()`, `begin()` and `upload_many()`, by option name.
pub(crate) struct UploadArgs<'a, 'py> {
    pub name: Option<&'a Bound<'py, PyAny>>,
    pub file_type: Option<&'a Bound<'py, PyAny>>,
    pub tags: Option<&'a Bound<'py, PyAny>>,
    pub class_id: Option<&'a Bound<'py, PyAny>>,
    pub transcode: bool,
    pub screenshot: bool,
    pub watermark: bool,
}

impl UploadArgs<'_, '_> {
    pub(crate) fn options(&self, py: Python<'_>) -> PyResult<UploadOptions> {
        let flag = |b: bool| PyBool::new(py, b).to_owned().into_any();
        let (transcode, screenshot, watermark) = (
            flag(self.transcode),
            flag(self.screenshot),
            flag(self.watermark),
        );
        options::upload_options(
            py,
            &[
                ("name", self.name),
                ("file_type", self.file_type),
                ("tags", self.tags),
                ("class_id", self.class_id),
                ("transcode", Some(&transcode)),
                ("screenshot", Some(&screenshot)),
                ("watermark", Some(&watermark)),
            ],
        )
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (
        secret_id=None, secret_key=None, *, endpoint=None, region=None, part_size=None,
        concurrency=None, max_attempts=None, retry_base_delay=None, retry_max_delay=None,
        connect_timeout=None, request_timeout=None, ca_file=None, proxy=None,
        signature_method=None, rate_limit=true, rate_upload_part=None, rate_init_finish=None,
        pacing_url=None, fingerprint_cache=None, events_endpoint=None
    ))]
    // One parameter per keyword argument of the Python signature above.
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        secret_id: Option<&str>,
        secret_key: Option<&str>,
        endpoint: Option<Bound<'_, PyAny>>,
        region: Option<Bound<'_, PyAny>>,
        part_size: Option<Bound<'_, PyAny>>,
        concurrency: Option<Bound<'_, PyAny>>,
        max_attempts: Option<Bound<'_, PyAny>>,
        retry_base_delay: Option<Bound<'_, PyAny>>,
        retry_max_delay: Option<Bound<'_, PyAny>>,
        connect_timeout: Option<Bound<'_, PyAny>>,
        request_timeout: Option<Bound<'_, PyAny>>,
        ca_file: Option<Bound<'_, PyAny>>,
        proxy: Option<Bound<'_, PyAny>>,
        signature_method: Option<Bound<'_, PyAny>>,
        rate_limit: bool,
        rate_upload_part: Option<Bound<'_, PyAny>>,
        rate_init_finish: Option<Bound<'_, PyAny>>,
        pacing_url: Option<Bound<'_, PyAny>>,
        fingerprint_cache: Option<Bound<'_, PyAny>>,
        events_endpoint: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let credentials =
            Credentials::resolve(secret_id, secret_key).map_err(|e| to_py(py, e, None))?;
        let rate_limit = PyBool::new(py, rate_limit).to_owned().into_any();
        // The keywords by their core names: the core converts and checks each one.
        let given = [
            ("endpoint", endpoint.as_ref()),
            ("region", region.as_ref()),
            ("part_size", part_size.as_ref()),
            ("concurrency", concurrency.as_ref()),
            ("max_attempts", max_attempts.as_ref()),
            ("retry_base_delay", retry_base_delay.as_ref()),
            ("retry_max_delay", retry_max_delay.as_ref()),
            ("connect_timeout", connect_timeout.as_ref()),
            ("request_timeout", request_timeout.as_ref()),
            ("ca_file", ca_file.as_ref()),
            ("proxy", proxy.as_ref()),
            ("signature_method", signature_method.as_ref()),
            ("rate_limit", Some(&rate_limit)),
            ("rate_upload_part", rate_upload_part.as_ref()),
            ("rate_init_finish", rate_init_finish.as_ref()),
            ("pacing_url", pacing_url.as_ref()),
            ("fingerprint_cache", fingerprint_cache.as_ref()),
            ("events_endpoint", events_endpoint.as_ref()),
        ];
        let mut o = ClientOptions::default();
        for (name, value) in given {
            options::set_client(py, &mut o, name, value)?;
        }
        let inner = vodupload::Client::new(credentials, o).map_err(|e| to_py(py, e, None))?;
        Ok(Client { inner })
    }

    /// Every option's value as this client uses it, by the names of ``CLIENT_OPTIONS``:
    /// durations in seconds, paths as str, unset ones None. A password in ``proxy`` shows as
    /// ``***``; the credentials are not included.
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        options::client_dict(py, self.inner.options())
    }

    /// The upload API URL this client talks to.
    #[getter]
    fn endpoint(&self) -> String {
        self.inner.options().endpoint.clone()
    }

    /// The event API URL ``pull_events()`` and ``confirm_events()`` talk to.
    #[getter]
    fn events_endpoint(&self) -> String {
        self.inner.options().events_endpoint.clone()
    }

    /// The region parameter sent with every request.
    #[getter]
    fn region(&self) -> String {
        self.inner.options().region.clone()
    }

    /// Part size in bytes.
    #[getter]
    fn part_size(&self) -> u64 {
        self.inner.options().part_size
    }

    /// Parts in flight: ``"auto"`` (measured and adjusted as uploads go) or a fixed number.
    #[getter]
    fn concurrency<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        options::concurrency_value(py, self.inner.options().concurrency)
    }

    /// Uploads a file in one call: hash it, InitUpload, send the parts the server lacks in
    /// parallel, FinishUpload; returns an ``UploadResult``.
    ///
    /// ``name`` (default: the file's stem) and ``file_type`` (default: its extension) name the
    /// video; ``tags``, ``class_id``, ``transcode``, ``screenshot`` and ``watermark`` are passed to
    /// the service. ``progress(done, total)`` is called while parts are sent, on this thread with
    /// the GIL held; ``done`` counts bytes the server holds (parts it already had included) and
    /// never decreases. ``hash_progress(done, total)`` is called while the file is hashed.
    /// An exception raised by either stops the upload and propagates unchanged. ``cancel`` is a
    /// ``CancelToken`` another thread may use to stop the upload (``UploadCancelled``).
    ///
    /// The GIL is released while the upload runs. Ctrl-C stops it within a fraction of a second
    /// (KeyboardInterrupt); the server keeps the parts it has, and uploading the same file again
    /// resumes. Uploading a file the service already has returns at once with ``instant=True``.
    #[pyo3(signature = (
        path, *, name=None, file_type=None, tags=None, class_id=None, transcode=false,
        screenshot=false, watermark=false, progress=None, hash_progress=None, cancel=None
    ))]
    // One parameter per keyword argument of the Python signature above.
    #[allow(clippy::too_many_arguments)]
    fn upload<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        name: Option<Bound<'py, PyAny>>,
        file_type: Option<Bound<'py, PyAny>>,
        tags: Option<Bound<'py, PyAny>>,
        class_id: Option<Bound<'py, PyAny>>,
        transcode: bool,
        screenshot: bool,
        watermark: bool,
        progress: Option<Bound<'py, PyAny>>,
        hash_progress: Option<Bound<'py, PyAny>>,
        cancel: Option<Bound<'py, CancelToken>>,
    ) -> PyResult<UploadResult> {
        let path = extract_path(path)?;
        let options = UploadArgs {
            name: name.as_ref(),
            file_type: file_type.as_ref(),
            tags: tags.as_ref(),
            class_id: class_id.as_ref(),
            transcode,
            screenshot,
            watermark,
        }
        .options(py)?;
        let callbacks = Callbacks::new(hash_progress, progress)?;
        let watch = cancel.map(|c| c.get().token.clone());
        let token = vodupload::CancelToken::new();
        let client = &self.inner;
        let out = run(py, &token, watch.as_ref(), &callbacks, |p| {
            client.upload(&path, &options, p, &token)
        })?;
        out.map(UploadResult::from)
            .map_err(|e| to_py(py, e, Some(&path)))
    }

    /// The first step of a step-by-step upload: checks and hashes the file and calls InitUpload.
    /// Returns an ``Upload``: send ``parts_needed()`` with ``upload_part(i)`` (from any threads),
    /// then ``finish()``.
    ///
    /// Takes the same options as ``upload()``, except ``progress`` (see
    /// ``Upload.upload_parts``). ``cancel`` stays attached to the returned ``Upload``.
    #[pyo3(signature = (
        path, *, name=None, file_type=None, tags=None, class_id=None, transcode=false,
        screenshot=false, watermark=false, hash_progress=None, cancel=None
    ))]
    // One parameter per keyword argument of the Python signature above.
    #[allow(clippy::too_many_arguments)]
    fn begin<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        name: Option<Bound<'py, PyAny>>,
        file_type: Option<Bound<'py, PyAny>>,
        tags: Option<Bound<'py, PyAny>>,
        class_id: Option<Bound<'py, PyAny>>,
        transcode: bool,
        screenshot: bool,
        watermark: bool,
        hash_progress: Option<Bound<'py, PyAny>>,
        cancel: Option<Bound<'py, CancelToken>>,
    ) -> PyResult<Upload> {
        let path = extract_path(path)?;
        let options = UploadArgs {
            name: name.as_ref(),
            file_type: file_type.as_ref(),
            tags: tags.as_ref(),
            class_id: class_id.as_ref(),
            transcode,
            screenshot,
            watermark,
        }
        .options(py)?;
        let callbacks = Callbacks::new(hash_progress, None)?;
        let watch = cancel.map(|c| c.get().token.clone());
        let token = vodupload::CancelToken::new();
        let client = &self.inner;
        let out = run(py, &token, watch.as_ref(), &callbacks, |p| {
            client.begin(&path, &options, p, &token)
        })?;
        let inner = out.map_err(|e| to_py(py, e, Some(&path)))?;
        Ok(Upload { inner, watch })
    }

    /// Uploads several files with this client, ``jobs`` files at a time (default 2, at most 64;
    /// each with the client's ``concurrency`` parts in flight), started in the order given.
    /// Returns one entry per path, in the same order: its ``UploadResult``, or the exception that
    /// file's upload raised (``FileNotFoundError``, ``ServerError``...), as ``upload()`` would
    /// have raised it. One file failing does not stop the others.
    ///
    /// ``paths`` is an iterable of str or ``os.PathLike`` (not one str). The other keywords are
    /// those of ``upload()`` and apply to every file, each named after its own path (so there is
    /// no ``name``); a bad one raises before any file starts. ``progress(done, total)`` and
    /// ``hash_progress(done, total)`` report bytes summed over all the files (``total`` starts
    /// as the files' sizes), called as in ``upload()``; an exception raised by either, Ctrl-C, or
    /// ``cancel`` stops every file, and the exception (``UploadCancelled`` for ``cancel``
    /// in the entries of the files it stopped) comes out as in ``upload()``. The server keeps the
    /// parts it has: the same call again resumes each unfinished file and instantly completes
    /// the finished ones.
    #[pyo3(signature = (
        paths, *, jobs=2, file_type=None, tags=None, class_id=None, transcode=false,
        screenshot=false, watermark=false, progress=None, hash_progress=None, cancel=None
    ))]
    // One parameter per keyword argument of the Python signature above.
    #[allow(clippy::too_many_arguments)]
    fn upload_many<'py>(
        &self,
        py: Python<'py>,
        paths: &Bound<'py, PyAny>,
        jobs: i64,
        file_type: Option<Bound<'py, PyAny>>,
        tags: Option<Bound<'py, PyAny>>,
        class_id: Option<Bound<'py, PyAny>>,
        transcode: bool,
        screenshot: bool,
        watermark: bool,
        progress: Option<Bound<'py, PyAny>>,
        hash_progress: Option<Bound<'py, PyAny>>,
        cancel: Option<Bound<'py, CancelToken>>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        if paths.is_instance_of::<PyString>()
            || paths.is_instance_of::<PyBytes>()
            || paths.hasattr("__fspath__")?
        {
            return Err(PyTypeError::new_err(format!(
                "paths must be an iterable of paths (a list...), not one {}",
                type_name(paths)
            )));
        }
        let paths: Vec<PathBuf> = paths
            .try_iter()?
            .map(|p| extract_path(&p?))
            .collect::<PyResult<_>>()?;
        // How many of this call's files run at once: the core's rule, as the CLI's --jobs.
        let jobs = vodupload::config::check_jobs(vodupload::settings::Value::Int(jobs.into()))
            .map_err(|e| to_py(py, e, None))?;
        let options = UploadArgs {
            name: None,
            file_type: file_type.as_ref(),
            tags: tags.as_ref(),
            class_id: class_id.as_ref(),
            transcode,
            screenshot,
            watermark,
        }
        .options(py)?;
        let callbacks = Callbacks::new(hash_progress, progress)?;
        let watch = cancel.map(|c| c.get().token.clone());
        let token = vodupload::CancelToken::new();
        let client = &self.inner;
        let results = run(py, &token, watch.as_ref(), &callbacks, |p| {
            many::upload_many(client, &paths, &options, jobs, p, &token)
        })?;
        results
            .into_iter()
            .zip(&paths)
            .map(|(r, path)| match r {
                Ok(r) => Ok(Py::new(py, UploadResult::from(r))?.into_any()),
                Err(e) => Ok(to_py(py, e, Some(path)).into_value(py).into_any()),
            })
            .collect()
    }

    /// Reads the app's event queue (one ``PullEvent`` on ``events_endpoint``, signed with this
    /// client's credentials and retried like any request, not paced): the oldest unconfirmed
    /// events, at most 16, as a list of ``(msg_handle, Event)``; ``[]`` when there are none (it
    /// does not wait).
    ///
    /// Pulled events stay queued, with the same ``msg_handle``, and every pull returns them again
    /// until ``confirm_events()`` acknowledges them: delivery is at least once, so handle events
    /// idempotently (key on ``event.file_id``) and confirm only after handling them.
    ///
    /// Raises ``AuthError``, ``ServerError``, ``NetworkError``, ``TimeoutError`` or
    /// ``ProtocolError`` (a malformed answer or event, naming it). The GIL is released during the
    /// request; Ctrl-C is raised once it ends.
    fn pull_events(&self, py: Python<'_>) -> PyResult<Vec<(String, Event)>> {
        let client = &self.inner;
        let pulled = run(
            py,
            &vodupload::CancelToken::new(),
            None,
            &Callbacks::default(),
            |_| client.pull_events(),
        )?
        .map_err(|e| to_py(py, e, None))?;
        Ok(pulled
            .into_iter()
            .map(|p| (p.msg_handle, Event::from(p.event)))
            .collect())
    }

    /// Acknowledges handled events by their ``msg_handle`` (``ConfirmEvent``; more than 16 go in
    /// several requests): they are not pulled again. Handles that are unknown or already
    /// confirmed are ignored by the service, so confirming again after a failure is safe. An empty
    /// iterable sends nothing.
    ///
    /// ``msg_handles`` is an iterable of str (a list, a generator...), not one str: ``TypeError``
    /// for a bare str or bytes, or a non-str item; ``ValueError`` for an empty handle, before
    /// anything is sent. Then the errors of ``pull_events()``; a failure after some requests
    /// succeeded says how many events were confirmed. The GIL is released during the requests.
    fn confirm_events(&self, py: Python<'_>, msg_handles: &Bound<'_, PyAny>) -> PyResult<()> {
        if msg_handles.is_instance_of::<PyString>()
            || msg_handles.is_instance_of::<PyBytes>()
            || msg_handles.is_instance_of::<PyByteArray>()
        {
            return Err(PyTypeError::new_err(format!(
                "confirm_events() takes an iterable of msg handles: pass a list of handles, not one {} (confirm_events([handle]))",
                msg_handles.get_type().name()?
            )));
        }
        let mut handles = Vec::new();
        for (i, item) in msg_handles.try_iter()?.enumerate() {
            let item = item?;
            let h = item.extract::<String>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "msg handle {i} must be a str, not {}",
                    item.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_else(|_| "?".into())
                ))
            })?;
            handles.push(h);
        }
        let client = &self.inner;
        run(
            py,
            &vodupload::CancelToken::new(),
            None,
            &Callbacks::default(),
            |_| client.confirm_events(&handles),
        )?
        .map_err(|e| to_py(py, e, None))
    }

    fn __repr__(&self) -> String {
        let o = self.inner.options();
        format!(
            "Client(endpoint={}, region={}, part_size={}, concurrency={})",
            py_str(&o.endpoint),
            py_str(&o.region),
            o.part_size,
            match o.concurrency {
                vodupload::Concurrency::Fixed(n) => n.to_string(),
                _ => py_str("auto"),
            }
        )
    }
}

/// An upload between InitUpload and FinishUpload, made by ``Client.begin()``. Thread-safe: parts
/// may be sent from several threads at once.
///
/// ``parts_needed()`` lists the parts the server still lacks; ``upload_part(i)`` sends one (with
/// retries; the GIL is released); ``upload_parts()`` sends all of them in parallel; ``finish()``
/// completes the upload and returns the ``UploadResult``. After an instant upload
/// (``instant`` is True) nothing is needed and ``finish()`` returns at once.
#[pyclass(module = "vodupload", frozen)]
pub struct Upload {
    inner: vodupload::Upload,
    watch: Option<vodupload::CancelToken>,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("path", &self.inner.path())
            .field("part_count", &self.inner.part_count())
            .finish_non_exhaustive()
    }
}

impl Upload {
    fn path(&self) -> &Path {
        self.inner.path()
    }

    /// A part index for the core, which checks the range itself. A negative one cannot be a
    /// part: it is given the core's wording, as the core's type cannot hold it.
    fn index(&self, index: i64) -> PyResult<usize> {
        usize::try_from(index).map_err(|_| {
            PyValueError::new_err(format!(
                "part index {index} is out of range: the file has {} parts",
                self.inner.part_count()
            ))
        })
    }
}

#[pymethods]
impl Upload {
    /// Number of parts of the file.
    #[getter]
    fn part_count(&self) -> usize {
        self.inner.part_count()
    }

    /// Part size in bytes agreed with the server (a resumed upload keeps the first one's).
    #[getter]
    fn part_size(&self) -> u64 {
        self.inner.part_size()
    }

    /// Bytes the server holds (parts it had plus parts sent); never decreases.
    #[getter]
    fn bytes_done(&self) -> u64 {
        self.inner.bytes_done()
    }

    /// Size of the file.
    #[getter]
    fn bytes_total(&self) -> u64 {
        self.inner.bytes_total()
    }

    /// True when InitUpload found the file already on the service: nothing to send.
    #[getter]
    fn instant(&self) -> bool {
        self.inner.is_instant()
    }

    /// SHA-1 of the file, lowercase hex.
    #[getter]
    fn file_sha1(&self) -> String {
        self.inner.file_sha1().to_owned()
    }

    /// The file being uploaded.
    #[getter(path)]
    fn path_py(&self) -> String {
        self.path().display().to_string()
    }

    /// Whether ``cancel()`` was called (or a Ctrl-C or callback exception stopped this upload).
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.cancel_token().is_cancelled()
    }

    /// Indexes of the parts the server still lacks, in order.
    fn parts_needed(&self) -> Vec<usize> {
        self.inner.parts_needed()
    }

    /// Whether part ``index`` still has to be sent (False for an index that is not a part).
    fn part_needed(&self, index: i64) -> bool {
        usize::try_from(index).is_ok_and(|i| self.inner.part_needed(i))
    }

    /// Reads, checks and sends part ``index`` (retrying as the client allows), with the GIL
    /// released. Sending a part that is no longer needed does nothing.
    fn upload_part(&self, py: Python<'_>, index: i64) -> PyResult<()> {
        let index = self.index(index)?;
        let token = self.inner.cancel_token();
        let inner = &self.inner;
        run(
            py,
            &token,
            self.watch.as_ref(),
            &Callbacks::default(),
            |_| inner.upload_part(index),
        )?
        .map_err(|e| to_py(py, e, Some(self.path())))
    }

    /// Sends every needed part, ``concurrency`` at a time (default: the client's), with the GIL
    /// released. ``progress(done, total)`` is called as in ``Client.upload``.
    #[pyo3(signature = (*, concurrency=None, progress=None))]
    fn upload_parts<'py>(
        &self,
        py: Python<'py>,
        concurrency: Option<Bound<'py, PyAny>>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        // The client option's rule ("auto" or 1 to 64) and message, applied to this call's value.
        let concurrency = match concurrency.filter(|c| !c.is_none()) {
            Some(c) => {
                let mut o = ClientOptions::default();
                options::set_client(py, &mut o, "concurrency", Some(&c))?;
                Some(o.concurrency)
            }
            None => None,
        };
        let callbacks = Callbacks::new(None, progress)?;
        let token = self.inner.cancel_token();
        let inner = &self.inner;
        run(py, &token, self.watch.as_ref(), &callbacks, |p| {
            inner.upload_parts(concurrency, p)
        })?
        .map_err(|e| to_py(py, e, Some(self.path())))
    }

    /// Calls FinishUpload once every part is on the server and returns the ``UploadResult``
    /// (``ValueError`` if parts are still needed). Calling it again returns the same result.
    fn finish(&self, py: Python<'_>) -> PyResult<UploadResult> {
        let token = self.inner.cancel_token();
        let inner = &self.inner;
        run(
            py,
            &token,
            self.watch.as_ref(),
            &Callbacks::default(),
            |_| inner.finish(),
        )?
        .map(UploadResult::from)
        .map_err(|e| to_py(py, e, Some(self.path())))
    }

    /// Stops this upload: a running ``upload_part``/``upload_parts`` raises ``UploadCancelled``
    /// at its next request, and so do later calls. The server keeps the parts it has; begin
    /// again to resume.
    fn cancel(&self) {
        self.inner.cancel_token().cancel();
    }

    fn __repr__(&self) -> String {
        format!(
            "<Upload path={} part_count={} parts_needed={} bytes_done={} bytes_total={} instant={}>",
            py_str(&self.path().display().to_string()),
            self.inner.part_count(),
            self.inner.parts_needed().len(),
            self.inner.bytes_done(),
            self.inner.bytes_total(),
            py_bool(self.inner.is_instant())
        )
    }
}
