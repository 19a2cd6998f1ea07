//! The exception hierarchy and the one place a core [`vodupload::Error`] becomes a Python exception.
//!
//! ```text
//! Exception
//!  └─ VodError                  .kind .message .code .code_desc .can_retry
//!      ├─ AuthError             the service refused the credentials or the signature
//!      ├─ ServerError           the service answered an error code
//!      ├─ ProtocolError         the answer was not the protocol
//!      ├─ FileChangedError      the file changed while it was being uploaded
//!      ├─ UploadCancelled       a CancelToken (or Upload.cancel) stopped the upload
//!      ├─ NetworkError          also a builtin ConnectionError
//!      └─ TimeoutError          also the builtin TimeoutError
//! ```
//! Bad arguments are `ValueError`/`TypeError`; local file problems are `OSError` subclasses
//! (`FileNotFoundError`, `IsADirectoryError`, `PermissionError`) with `errno` and `filename`.

use std::path::Path;

use pyo3::exceptions::{PyConnectionError, PyException, PyOSError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use vodupload::ErrorKind;

pyo3::create_exception!(
    vodupload,
    VodError,
    PyException,
    "Base class of every vodupload failure that is not a bad argument or a local file error.\n\n\
     Attributes: ``kind`` (a short name such as ``\"auth\"``, ``\"server\"``, ``\"network\"``), \
     ``message`` (the text, also ``str(err)``), and, when the service answered, ``code`` (int), \
     ``code_desc`` (str) and ``can_retry`` (bool); otherwise ``code`` is None."
);
pyo3::create_exception!(
    vodupload,
    AuthError,
    VodError,
    "The service refused the SecretId/SecretKey or the signature (codes -10002, 4100, 4300).\n\n\
     Retrying cannot help: check the credentials (``vodupload.sign`` shows the string to sign)."
);
pyo3::create_exception!(
    vodupload,
    ServerError,
    VodError,
    "The service answered with an error code, after any retries it allowed.\n\n\
     ``code`` is the service's code (e.g. -10004), ``message`` its text, ``can_retry`` its hint."
);
pyo3::create_exception!(
    vodupload,
    ProtocolError,
    VodError,
    "The upload host answered something that is not the protocol (HTML, malformed or cut JSON).\n\n\
     Often a wrong endpoint, or a proxy in the way."
);
pyo3::create_exception!(
    vodupload,
    FileChangedError,
    VodError,
    "The file changed (size, modification time or content) while it was being uploaded.\n\n\
     Upload it again once it is complete; the server keeps nothing usable from the old content."
);
pyo3::create_exception!(
    vodupload,
    UploadCancelled,
    VodError,
    "The upload was stopped by a ``CancelToken`` or ``Upload.cancel()``.\n\n\
     The parts already sent stay on the server: uploading the same file again resumes."
);

const NETWORK_DOC: &str = "The connection failed, was reset, or TLS failed, after the retries.\n\n\
Also a builtin ``ConnectionError``. The parts already sent stay on the server.";
const TIMEOUT_DOC: &str = "A request did not complete within its timeout, after the retries.\n\n\
Also the builtin ``TimeoutError``. The parts already sent stay on the server.";

static NETWORK_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEOUT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A class with two bases, which `create_exception!` cannot make: `type(name, bases, dict)`.
fn two_base_type(
    py: Python<'_>,
    name: &str,
    builtin: Bound<'_, PyType>,
    doc: &str,
) -> PyResult<Py<PyType>> {
    let bases = PyTuple::new(py, [py.get_type::<VodError>(), builtin])?;
    let dict = PyDict::new(py);
    dict.set_item("__module__", "vodupload")?;
    dict.set_item("__doc__", doc)?;
    let t = py.get_type::<PyType>().call1((name, bases, dict))?;
    Ok(t.cast_into::<PyType>()?.unbind())
}

/// `vodupload.NetworkError`, subclass of `VodError` and `ConnectionError`.
pub fn network_error(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    NETWORK_ERROR
        .get_or_try_init(py, || {
            two_base_type(
                py,
                "NetworkError",
                py.get_type::<PyConnectionError>(),
                NETWORK_DOC,
            )
        })
        .map(|t| t.bind(py))
}

/// `vodupload.TimeoutError`, subclass of `VodError` and the builtin `TimeoutError`.
pub fn timeout_error(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    TIMEOUT_ERROR
        .get_or_try_init(py, || {
            two_base_type(
                py,
                "TimeoutError",
                py.get_type::<PyTimeoutError>(),
                TIMEOUT_DOC,
            )
        })
        .map(|t| t.bind(py))
}

/// Adds the exception classes to the module, with class-level defaults for the attributes every
/// `VodError` instance carries (so a `VodError` raised by user code has them too).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<VodError>();
    base.setattr("kind", "")?;
    base.setattr("message", "")?;
    base.setattr("code", py.None())?;
    base.setattr("code_desc", py.None())?;
    base.setattr("can_retry", false)?;
    m.add("VodError", base)?;
    m.add("AuthError", py.get_type::<AuthError>())?;
    m.add("ServerError", py.get_type::<ServerError>())?;
    m.add("ProtocolError", py.get_type::<ProtocolError>())?;
    m.add("FileChangedError", py.get_type::<FileChangedError>())?;
    m.add("UploadCancelled", py.get_type::<UploadCancelled>())?;
    m.add("NetworkError", network_error(py)?)?;
    m.add("TimeoutError", timeout_error(py)?)?;
    Ok(())
}

/// The Python exception for a core error. `path` is the file the call was about, for `filename`.
pub fn to_py(py: Python<'_>, err: vodupload::Error, path: Option<&Path>) -> PyErr {
    match build(py, &err, path) {
        Ok(e) => e,
        // Only if the interpreter cannot even make an exception object (out of memory...).
        Err(e) => e,
    }
}

fn build(py: Python<'_>, err: &vodupload::Error, path: Option<&Path>) -> PyResult<PyErr> {
    let message = err.message().to_owned();
    let class: Bound<'_, PyType> = match err.kind() {
        ErrorKind::InvalidInput => return Ok(PyValueError::new_err(message)),
        ErrorKind::Io => return os_error(py, err, path),
        ErrorKind::Auth => py.get_type::<AuthError>(),
        ErrorKind::Server => py.get_type::<ServerError>(),
        ErrorKind::Protocol => py.get_type::<ProtocolError>(),
        ErrorKind::FileChanged => py.get_type::<FileChangedError>(),
        ErrorKind::Cancelled => py.get_type::<UploadCancelled>(),
        ErrorKind::Network => network_error(py)?.clone(),
        ErrorKind::Timeout => timeout_error(py)?.clone(),
        // ErrorKind is non_exhaustive: a kind added to the core later is still a VodError.
        _ => py.get_type::<VodError>(),
    };
    let value = class.call1((message.as_str(),))?;
    value.setattr("kind", err.kind().as_str())?;
    value.setattr("message", message.as_str())?;
    match err.server() {
        Some(s) => {
            value.setattr("code", s.code)?;
            value.setattr("code_desc", s.code_desc.as_str())?;
            value.setattr("can_retry", s.can_retry)?;
        }
        None => {
            // Network failures and timeouts may pass on a retry; nothing else without a server
            // answer would.
            value.setattr("can_retry", err.is_transient())?;
        }
    }
    Ok(PyErr::from_value(value))
}

/// `FileNotFoundError(errno, strerror, filename)` and friends: the exception Python's own `open()`
/// would raise, so `except FileNotFoundError` works and the message is the familiar one.
fn os_error(py: Python<'_>, err: &vodupload::Error, path: Option<&Path>) -> PyResult<PyErr> {
    use std::io::ErrorKind as K;
    let errno_name = match err.io_kind() {
        Some(K::NotFound) => Some("ENOENT"),
        Some(K::PermissionDenied) => Some("EACCES"),
        Some(K::IsADirectory) => Some("EISDIR"),
        _ => None,
    };
    let Some(errno_name) = errno_name else {
        return Ok(PyOSError::new_err(err.message().to_owned()));
    };
    let errno: i64 = py.import("errno")?.getattr(errno_name)?.extract()?;
    // OSError(errno, ...) picks the subclass (FileNotFoundError for ENOENT...) itself.
    let os_error = py.get_type::<PyOSError>();
    let value = match path {
        Some(path) => {
            let strerror: String = py
                .import("os")?
                .call_method1("strerror", (errno,))?
                .extract()?;
            os_error.call1((errno, strerror, path.as_os_str()))?
        }
        // Not the upload's file (a CA file, say): the core's message says which.
        None => os_error.call1((errno, err.message()))?,
    };
    Ok(PyErr::from_value(value))
}
