//! `vodupload._vodupload`: the Python face of the vodupload core (pyo3, abi3 for CPython >= 3.9).
//!
//! Users import the `vodupload` package (python/vodupload/__init__.py), which re-exports
//! everything here. The face holds no protocol logic: signing, hashing, retries and resume all
//! live in the core crate, and so do the rules of every option (see [`options`]). What lives
//! here: converting Python values for the core, releasing the GIL
//! around blocking work ([`run`]), exceptions ([`errors`]), logging ([`logging`]) and the
//! in-process emulator ([`emulator`]). Type stubs: python/vodupload/_vodupload.pyi (hand-written,
//! checked by `python -m mypy.stubtest vodupload._vodupload`).

mod client;
mod emulator;
mod errors;
mod events;
mod logging;
mod many;
mod options;
mod run;

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use vodupload::SignatureMethod;

fn signature_method(py: Python<'_>, name: &str) -> PyResult<SignatureMethod> {
    SignatureMethod::parse(name).map_err(|e| errors::to_py(py, e, None))
}

fn sorted_params(params: HashMap<String, String>) -> Vec<(String, String)> {
    // string_to_sign sorts; sorting here too only keeps the work deterministic.
    let mut v: Vec<_> = params.into_iter().collect();
    v.sort();
    v
}

/// Signs a request of the legacy v2 API family: HMAC (``HmacSHA1`` or ``HmacSHA256``) of
/// ``string_to_sign(method, host, path, params)`` keyed with ``secret_key``, Base64-encoded.
///
/// ``params`` holds every request parameter except ``Signature``, with raw (not URL-encoded)
/// string values. Useful to debug an ``AuthError`` by comparing with what a server computes.
#[pyfunction]
#[pyo3(signature = (method, host, path, params, secret_key, signature_method="HmacSHA1"))]
fn sign(
    py: Python<'_>,
    method: &str,
    host: &str,
    path: &str,
    params: HashMap<String, String>,
    secret_key: &str,
    signature_method: &str,
) -> PyResult<String> {
    let m = self::signature_method(py, signature_method)?;
    Ok(vodupload::signature::sign(
        method,
        host,
        path,
        &sorted_params(params),
        secret_key,
        m,
    ))
}

/// The string that ``sign()`` signs: uppercase ``method`` + ``host`` + ``path`` + ``"?"`` +
/// ``key=value`` pairs joined with ``&``, keys sorted bytewise with ``_`` replaced by ``.``,
/// values raw; ``Signature`` is left out.
#[pyfunction]
fn string_to_sign(method: &str, host: &str, path: &str, params: HashMap<String, String>) -> String {
    vodupload::signature::string_to_sign(method, host, path, &sorted_params(params))
}

/// Chunked server-side uploads to the VOD upload host (InitUpload, UploadPart x N, FinishUpload)
/// with resume, retries, progress and cancellation, and the "Video Upload Completed" events
/// (callbacks and the event queue). Import the ``vodupload`` package, not this module.
#[pymodule(name = "_vodupload")]
fn vodupload_py(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install(m.py());
    m.add("__version__", vodupload::VERSION)?;
    m.add("DEFAULT_ENDPOINT", vodupload::config::DEFAULT_ENDPOINT)?;
    m.add(
        "DEFAULT_EVENTS_ENDPOINT",
        vodupload::config::DEFAULT_EVENTS_ENDPOINT,
    )?;
    // Tuples built from the core's lists, so a name the core adds appears here without a copy.
    m.add(
        "CLIENT_OPTIONS",
        PyTuple::new(m.py(), options::names(vodupload::settings::CLIENT_OPTIONS))?,
    )?;
    m.add(
        "UPLOAD_OPTIONS",
        PyTuple::new(m.py(), options::names(vodupload::settings::UPLOAD_OPTIONS))?,
    )?;
    m.add(
        "RESULT_FIELDS",
        PyTuple::new(m.py(), options::names(vodupload::settings::RESULT_FIELDS))?,
    )?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::Upload>()?;
    m.add_class::<client::UploadResult>()?;
    m.add_class::<client::CancelToken>()?;
    m.add_class::<emulator::Emulator>()?;
    m.add_class::<events::Event>()?;
    m.add_function(wrap_pyfunction!(events::parse_event, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(string_to_sign, m)?)?;
    errors::register(m)?;
    Ok(())
}
