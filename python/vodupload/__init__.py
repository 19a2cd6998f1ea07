"""Put large videos into the VOD service from a Python backend.

vodupload speaks the service's server-side chunked upload protocol (InitUpload, UploadPart x N,
FinishUpload) with a Rust core: one-pass hashing, parallel parts, retries with backoff, resume
after any interruption, instant upload of files the service already has, pacing under the
service's rate limits. The GIL is released while it works, so a shared ``Client`` uploads from
several threads in parallel.

    import vodupload

    client = vodupload.Client()      # TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY
    r = client.upload("holiday.mp4", tags=["travel"], progress=lambda done, total: None)
    print(r.file_id, r.url)

Each finished upload also produces a "Video Upload Completed" event: the service POSTs it to the
app's callback URL (parse the body with ``vodupload.parse_event(body)``) and keeps it in a queue
until confirmed (``client.pull_events()`` returns ``(msg_handle, Event)`` pairs,
``client.confirm_events(handles)`` acknowledges them):

    for handle, event in client.pull_events():
        if event.is_new_file_upload:
            print(event.file_id, event.file_url)
        client.confirm_events([handle])

Several files at once: ``client.upload_many(paths, jobs=2)`` returns one ``UploadResult`` or
exception per path. For asyncio backends (FastAPI, aiohttp), ``vodupload.AsyncClient`` has the
same calls, awaitable; the work runs off the event loop and cancelling the task stops the upload
(a later upload of the file resumes):

    client = vodupload.AsyncClient()
    r = await client.upload("holiday.mp4", progress=lambda done, total: None)

``vodupload.Emulator()`` runs a local emulator of the upload host in-process, for tests
(``Emulator(notify_url=...)`` POSTs the events to a callback URL too).
Logging goes to the ``logging`` logger named ``"vodupload"``; secrets never appear in it.
"""

import importlib.util

if importlib.util.find_spec(__name__ + "._vodupload") is None:  # pragma: no cover
    raise ImportError(
        "vodupload's compiled extension is missing: this is the source tree, not an installed "
        "package. Install it with `pip install ./python` (from the repository root), and run "
        "the tests from the repository root so this folder does not shadow the installed package."
    )

from ._vodupload import (
    CLIENT_OPTIONS,
    DEFAULT_ENDPOINT,
    DEFAULT_EVENTS_ENDPOINT,
    AuthError,
    CancelToken,
    Client,
    Emulator,
    Event,
    FileChangedError,
    NetworkError,
    ProtocolError,
    RESULT_FIELDS,
    ServerError,
    TimeoutError,
    UPLOAD_OPTIONS,
    Upload,
    UploadCancelled,
    UploadResult,
    VodError,
    __version__,
    parse_event,
    sign,
    string_to_sign,
)
from ._async import AsyncClient, AsyncUpload

__all__ = [
    "AsyncClient",
    "AsyncUpload",
    "CLIENT_OPTIONS",
    "DEFAULT_ENDPOINT",
    "DEFAULT_EVENTS_ENDPOINT",
    "AuthError",
    "CancelToken",
    "Client",
    "Emulator",
    "Event",
    "FileChangedError",
    "NetworkError",
    "ProtocolError",
    "RESULT_FIELDS",
    "ServerError",
    "TimeoutError",
    "UPLOAD_OPTIONS",
    "Upload",
    "UploadCancelled",
    "UploadResult",
    "VodError",
    "__version__",
    "parse_event",
    "sign",
    "string_to_sign",
]
