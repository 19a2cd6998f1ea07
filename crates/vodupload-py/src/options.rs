//! Python values into the core's options: each keyword becomes a [`vodupload::settings::Value`]
//! and goes through `ClientOptions::set` / `UploadOptions::set`, so every rule and its message is
//! the core's. This module only decides which Python types an option takes (an `int` for a count,
//! a number or `timedelta` for seconds, a `str` for text, `str`/`os.PathLike` for a path) and
//! raises `TypeError` for others, as Python's own functions do.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDelta, PyDict, PyFloat, PyInt, PyString};
use vodupload::settings::{self, Kind, Setting, Value};
use vodupload::{ClientOptions, RateLimits, UploadOptions};

use crate::errors::to_py;

/// A converted value that owns its text or path, so a borrowed [`Value`] can be made from it.
enum Owned {
    Default,
    Text(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Path(PathBuf),
}

impl Owned {
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Default => Value::Default,
            Owned::Text(t) => Value::Text(t),
            Owned::Int(n) => Value::Int(*n),
            Owned::Float(f) => Value::Float(*f),
            Owned::Bool(b) => Value::Bool(*b),
            Owned::Path(p) => Value::Path(p),
        }
    }
}

pub(crate) fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

fn wrong_type(name: &str, expected: &str, v: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!("{name} must be {expected}, not {}", type_name(v)))
}

fn is_text_like(v: &Bound<'_, PyAny>) -> bool {
    v.is_instance_of::<PyString>()
        || v.is_instance_of::<PyBytes>()
        || v.is_instance_of::<PyByteArray>()
}

/// The Python value `v` for an option of kind `kind`; None is the option's default.
fn convert(name: &str, kind: Kind, v: Option<&Bound<'_, PyAny>>) -> PyResult<Owned> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(Owned::Default);
    };
    // bool is an int subclass in Python: a flag passed where a number goes is a mistake.
    let is_bool = v.is_instance_of::<PyBool>();
    Ok(match kind {
        Kind::Integer => {
            if is_bool || !v.hasattr("__index__")? {
                return Err(wrong_type(name, "an int", v));
            }
            Owned::Int(v.extract::<i128>()?)
        }
        // "auto" goes to the core as text, which applies the one rule for both forms.
        Kind::IntegerOrAuto if v.is_instance_of::<PyString>() => Owned::Text(v.extract()?),
        Kind::IntegerOrAuto => {
            if is_bool || !v.hasattr("__index__")? {
                return Err(wrong_type(name, "an int or \"auto\"", v));
            }
            Owned::Int(v.extract::<i128>()?)
        }
        Kind::Seconds => {
            if v.is_instance_of::<PyDelta>() {
                Owned::Float(v.call_method0("total_seconds")?.extract()?)
            } else if is_bool || is_text_like(v) {
                return Err(wrong_type(
                    name,
                    "a number of seconds (int, float or datetime.timedelta)",
                    v,
                ));
            } else if v.is_instance_of::<PyInt>() {
                // Exact where it fits, so the message shows the number as given.
                match v.extract::<i128>() {
                    Ok(n) => Owned::Int(n),
                    Err(_) => Owned::Float(v.extract()?),
                }
            } else {
                Owned::Float(v.extract::<f64>().map_err(|_| {
                    wrong_type(
                        name,
                        "a number of seconds (int, float or datetime.timedelta)",
                        v,
                    )
                })?)
            }
        }
        Kind::Bool => {
            if !is_bool {
                return Err(wrong_type(name, "a bool", v));
            }
            Owned::Bool(v.extract()?)
        }
        Kind::Text | Kind::Url | Kind::TextList => Owned::Text(
            v.cast::<PyString>()
                .map_err(|_| wrong_type(name, "a str", v))?
                .to_cow()?
                .into_owned(),
        ),
        Kind::Path => {
            if !v.is_instance_of::<PyString>() && !v.hasattr("__fspath__")? {
                return Err(wrong_type(name, "a str or os.PathLike", v));
            }
            Owned::Path(
                v.extract::<PathBuf>()
                    .map_err(|_| wrong_type(name, "a str or os.PathLike", v))?,
            )
        }
        // A kind added to the core later: pass the value as Python typed it.
        _ => generic(v)?,
    })
}

fn generic(v: &Bound<'_, PyAny>) -> PyResult<Owned> {
    Ok(if v.is_instance_of::<PyBool>() {
        Owned::Bool(v.extract()?)
    } else if v.is_instance_of::<PyInt>() {
        Owned::Int(v.extract()?)
    } else if v.is_instance_of::<PyFloat>() {
        Owned::Float(v.extract()?)
    } else if v.is_instance_of::<PyString>() {
        Owned::Text(v.extract()?)
    } else {
        Owned::Path(v.extract()?)
    })
}

fn setting(list: &'static [Setting], name: &str) -> Option<&'static Setting> {
    list.iter().find(|s| s.name == name)
}

/// Sets the client option `name` from a keyword argument (None: the default).
pub(crate) fn set_client(
    py: Python<'_>,
    o: &mut ClientOptions,
    name: &str,
    v: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    // None leaves the option as it is: the options start at their defaults, and setting a
    // default again could undo another keyword's effect (rate_limit=False, then the rates).
    if v.is_none_or(|v| v.is_none()) && settings::CLIENT_OPTIONS.iter().any(|s| s.name == name) {
        return Ok(());
    }
    // An unknown name still reaches the core, which names the options that exist.
    let kind = setting(settings::CLIENT_OPTIONS, name).map_or(Kind::Text, |s| s.kind);
    let owned = convert(name, kind, v)?;
    o.set(name, owned.value()).map_err(|e| to_py(py, e, None))
}

/// The upload options of one call, each keyword through `UploadOptions::set`; `tags` is an
/// iterable of str, one `set` per tag.
pub(crate) fn upload_options(
    py: Python<'_>,
    given: &[(&str, Option<&Bound<'_, PyAny>>)],
) -> PyResult<UploadOptions> {
    let mut o = UploadOptions::default();
    for &(name, v) in given {
        let kind = setting(settings::UPLOAD_OPTIONS, name).map_or(Kind::Text, |s| s.kind);
        match (kind, v.filter(|v| !v.is_none())) {
            (Kind::TextList, Some(list)) => {
                if is_text_like(list) {
                    return Err(PyTypeError::new_err(format!(
                        "{name} must be an iterable of str (a list...), not one {}",
                        type_name(list)
                    )));
                }
                for (i, item) in list.try_iter()?.enumerate() {
                    let item = item?;
                    let text = item.cast::<PyString>().map_err(|_| {
                        PyTypeError::new_err(format!(
                            "{name}[{i}] must be a str, not {}",
                            type_name(&item)
                        ))
                    })?;
                    o.set(name, Value::Text(&text.to_cow()?))
                        .map_err(|e| to_py(py, e, None))?;
                }
            }
            (_, v) => {
                let owned = convert(name, kind, v)?;
                o.set(name, owned.value()).map_err(|e| to_py(py, e, None))?;
            }
        }
    }
    Ok(o)
}

/// A proxy or pacing URL as it can be shown: a password in it is replaced by `***`.
fn redact_proxy(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// The concurrency as Python sees it: `"auto"` or an int.
pub(crate) fn concurrency_value(
    py: Python<'_>,
    c: vodupload::Concurrency,
) -> PyResult<Bound<'_, PyAny>> {
    Ok(match c {
        vodupload::Concurrency::Fixed(n) => n.into_pyobject(py)?.into_any(),
        _ => "auto".into_pyobject(py)?.into_any(),
    })
}

/// The value of the client option `name` as Python sees it: durations in seconds, paths as str,
/// absent ones None, a proxy's password hidden.
fn client_value(py: Python<'_>, o: &ClientOptions, name: &str) -> PyResult<Option<Py<PyAny>>> {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    Ok(Some(match name {
        "endpoint" => o.endpoint.clone().into_pyobject(py)?.into_any().unbind(),
        "region" => o.region.clone().into_pyobject(py)?.into_any().unbind(),
        "part_size" => o.part_size.into_pyobject(py)?.into_any().unbind(),
        "concurrency" => concurrency_value(py, o.concurrency)?.unbind(),
        "max_attempts" => o.max_attempts.into_pyobject(py)?.into_any().unbind(),
        "retry_base_delay" => secs(py, o.retry_base_delay)?,
        "retry_max_delay" => secs(py, o.retry_max_delay)?,
        "connect_timeout" => secs(py, o.connect_timeout)?,
        "request_timeout" => secs(py, o.request_timeout)?,
        "ca_file" => path(&o.ca_file).into_pyobject(py)?.into_any().unbind(),
        "proxy" => o
            .proxy
            .as_deref()
            .map(redact_proxy)
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        "signature_method" => o
            .signature_method
            .as_param()
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        "rate_limit" => PyBool::new(py, o.rate_limits != RateLimits::unlimited())
            .to_owned()
            .into_any()
            .unbind(),
        "rate_upload_part" => o
            .rate_limits
            .upload_part_per_minute
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        "rate_init_finish" => o
            .rate_limits
            .init_per_minute
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        "pacing_url" => o
            .pacing_url
            .as_deref()
            .map(redact_proxy)
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        "fingerprint_cache" => path(&o.fingerprint_cache)
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        "events_endpoint" => o
            .events_endpoint
            .clone()
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        _ => return Ok(None),
    }))
}

fn secs(py: Python<'_>, d: std::time::Duration) -> PyResult<Py<PyAny>> {
    Ok(d.as_secs_f64().into_pyobject(py)?.into_any().unbind())
}

/// Every client option this face can read back, in the core's order. An option the core added
/// and this face does not know is left out, which the face's tests catch.
pub(crate) fn client_dict<'py>(py: Python<'py>, o: &ClientOptions) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for s in settings::CLIENT_OPTIONS {
        if let Some(v) = client_value(py, o, s.name)? {
            d.set_item(s.name, v)?;
        }
    }
    Ok(d)
}

/// The names of a settings list, for `vodupload.CLIENT_OPTIONS` and the others.
pub(crate) fn names(list: &'static [Setting]) -> impl ExactSizeIterator<Item = &'static str> {
    list.iter().map(|s| s.name)
}
