//! `vodupload.Event` and `vodupload.parse_event()`: "Video Upload Completed" (and any other event
//! type) from a callback's body or from the queue (`Client.pull_events`, in [`crate::client`]).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};

use crate::client::py_str;
use crate::errors::to_py;

/// One event: the JSON the service POSTs to the callback URL, or one ``Client.pull_events()``
/// returned. Immutable. Made by ``vodupload.parse_event()`` and ``Client.pull_events()``.
///
/// ``event_type`` is ``"NewFileUpload"`` for "Video Upload Completed" (``is_new_file_upload``);
/// other types parse too. The ``data`` fields (``file_id``, ``file_url``, ``file_name``,
/// ``source_type``, ``source_context``, ``transcode_task_id``, ``procedure_task_id``) and
/// ``version`` are str, or None when absent (a numeric id reads as its digits). ``raw`` is the
/// JSON text itself, with every field, known or not; ``to_dict()`` parses it. Two events are
/// equal when their JSON values are.
#[pyclass(module = "vodupload", frozen)]
#[derive(Debug, Clone)]
pub struct Event {
    pub(crate) inner: vodupload::Event,
}

impl From<vodupload::Event> for Event {
    fn from(inner: vodupload::Event) -> Self {
        Event { inner }
    }
}

fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "None".to_owned(), py_str)
}

#[pymethods]
impl Event {
    /// ``eventType``, e.g. ``"NewFileUpload"``.
    #[getter]
    fn event_type(&self) -> &str {
        self.inner.event_type()
    }

    /// Whether this is "Video Upload Completed" (``event_type == "NewFileUpload"``).
    #[getter]
    fn is_new_file_upload(&self) -> bool {
        self.inner.is_new_file_upload()
    }

    /// ``version``, e.g. ``"4.0"``; None when absent.
    #[getter]
    fn version(&self) -> Option<&str> {
        self.inner.version()
    }

    /// ``data.fileId``: the video's id, as ``UploadResult.file_id`` gave it; None when absent.
    #[getter]
    fn file_id(&self) -> Option<&str> {
        self.inner.file_id()
    }

    /// ``data.fileUrl``: where the service serves the video; None when absent.
    #[getter]
    fn file_url(&self) -> Option<&str> {
        self.inner.file_url()
    }

    /// ``data.fileName``: the video's name, without extension; None when absent.
    #[getter]
    fn file_name(&self) -> Option<&str> {
        self.inner.file_name()
    }

    /// ``data.sourceType``: ``"ServerUpload"`` for uploads made with this package; None when
    /// absent.
    #[getter]
    fn source_type(&self) -> Option<&str> {
        self.inner.source_type()
    }

    /// ``data.sourceContext``; None when absent.
    #[getter]
    fn source_context(&self) -> Option<&str> {
        self.inner.source_context()
    }

    /// ``data.transcodeTaskId``; None when absent.
    #[getter]
    fn transcode_task_id(&self) -> Option<&str> {
        self.inner.transcode_task_id()
    }

    /// ``data.procedureTaskId``; None when absent.
    #[getter]
    fn procedure_task_id(&self) -> Option<&str> {
        self.inner.procedure_task_id()
    }

    /// The event's JSON text: exactly what ``parse_event()`` was given (decoded), or the JSON of
    /// a pulled event. Fields this class does not name are all there.
    #[getter]
    fn raw(&self) -> &str {
        self.inner.raw_json()
    }

    /// The whole event as parsed JSON (``json.loads(self.raw)``): a new dict at each call.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.inner.raw_json(),))
    }

    fn __eq__(&self, other: PyRef<'_, Event>) -> bool {
        self.inner.value() == other.inner.value()
    }

    fn __repr__(&self) -> String {
        format!(
            "Event(event_type={}, file_id={}, file_name={})",
            py_str(self.inner.event_type()),
            opt(self.inner.file_id()),
            opt(self.inner.file_name())
        )
    }
}

/// Parses an event's JSON: the body of a callback POST (``bytes``, as received), or a stored event
/// (``str``). Only a JSON object with a non-empty string ``"eventType"`` is required: other event
/// types and unknown fields are accepted and kept (``Event.raw``, ``Event.to_dict()``).
///
/// Raises ``ValueError`` with the reason for anything else (not UTF-8, not JSON, with line and
/// column, not an object, no ``"eventType"``...), and ``TypeError`` for an argument that is not
/// bytes, bytearray, memoryview or str.
#[pyfunction]
pub fn parse_event(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Event> {
    let parsed = if let Ok(s) = data.cast::<PyString>() {
        // A str with a lone surrogate has no UTF-8 form: UnicodeEncodeError, a ValueError.
        vodupload::Event::parse(s.to_cow()?.as_bytes())
    } else if let Ok(b) = data.cast::<PyBytes>() {
        vodupload::Event::parse(b.as_bytes())
    } else if let Ok(b) = data.cast::<PyByteArray>() {
        vodupload::Event::parse(b.to_vec())
    } else if data.cast::<PyMemoryView>().is_ok() {
        let bytes = py.get_type::<PyBytes>().call1((data,))?;
        vodupload::Event::parse(bytes.cast::<PyBytes>()?.as_bytes())
    } else {
        return Err(PyTypeError::new_err(format!(
            "parse_event() takes the event's JSON as bytes, bytearray, memoryview or str, not {}",
            data.get_type().name()?
        )));
    };
    parsed.map(Event::from).map_err(|e| to_py(py, e, None))
}
