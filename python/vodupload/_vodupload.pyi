"""Type stubs for the ``vodupload._vodupload`` extension (crates/vodupload-py).

Hand-written; ``python -m mypy.stubtest vodupload._vodupload`` checks them against the built module.
"""

import builtins
import datetime
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal, final

from typing_extensions import Self, TypeAlias

__all__ = [
    "__version__",
    "CLIENT_OPTIONS",
    "UPLOAD_OPTIONS",
    "RESULT_FIELDS",
    "DEFAULT_ENDPOINT",
    "DEFAULT_EVENTS_ENDPOINT",
    "Client",
    "Upload",
    "UploadResult",
    "CancelToken",
    "Emulator",
    "Event",
    "parse_event",
    "sign",
    "string_to_sign",
    "VodError",
    "AuthError",
    "ServerError",
    "ProtocolError",
    "FileChangedError",
    "UploadCancelled",
    "NetworkError",
    "TimeoutError",
]

__version__: str
DEFAULT_ENDPOINT: str
DEFAULT_EVENTS_ENDPOINT: str
CLIENT_OPTIONS: tuple[str, ...]
"""Every client option's name (``Client`` keywords, ``Client.options`` keys), from the core."""
UPLOAD_OPTIONS: tuple[str, ...]
"""The names of every upload option (``Client.upload``/``begin`` keywords), from the core."""
RESULT_FIELDS: tuple[str, ...]
"""The names of every ``UploadResult`` field (attributes and ``to_dict()`` keys), from the core."""

_ProgressCallback: TypeAlias = Callable[[int, int], object]
"""``callback(done, total)``: bytes done so far and the file size. The return value is ignored;
an exception raised in it stops the upload and propagates."""

_StrPath: TypeAlias = str | os.PathLike[str]
_Seconds: TypeAlias = float | datetime.timedelta
"""A duration: seconds as an int or float, or a ``datetime.timedelta``."""

@final
class CancelToken:
    """Stops uploads from another thread: pass as ``cancel=``, then call ``cancel()``."""

    def __new__(cls) -> Self: ...
    def cancel(self) -> None:
        """Asks every upload watching this token to stop (they raise ``UploadCancelled``)."""

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel()`` was called."""

@final
class UploadResult:
    """What a finished upload reports. Immutable."""

    @property
    def file_id(self) -> str:
        """The service's id of the video."""

    @property
    def url(self) -> str:
        """Where the service serves the file."""

    @property
    def instant(self) -> bool:
        """The service already had the file: nothing was sent."""

    @property
    def file_sha1(self) -> str:
        """SHA-1 of the file, lowercase hex."""

    @property
    def file_size(self) -> int:
        """Size of the file in bytes."""

    @property
    def parts_total(self) -> int:
        """Number of parts of the file."""

    @property
    def parts_uploaded(self) -> int:
        """Parts this run sent."""

    @property
    def parts_skipped(self) -> int:
        """Parts the server already held (resume or instant upload)."""

    @property
    def bytes_sent(self) -> int:
        """Part bytes sent by this run, retries included."""

    @property
    def retries(self) -> int:
        """Requests sent again after a transient failure (network error, timeout, retryable code)"""

    @property
    def elapsed(self) -> float:
        """Seconds from the start of hashing to the end of FinishUpload."""

    @property
    def concurrency_peak(self) -> int:
        """The most parts the upload had in flight at once."""

    def to_dict(self) -> dict[str, str | int | float | bool]:
        """The fields as a plain dict, keyed by the names of ``RESULT_FIELDS``."""

@final
class Client:
    """A configured, thread-safe client for the VOD upload host.

    Credentials default to ``TENCENTCLOUD_SECRET_ID`` / ``TENCENTCLOUD_SECRET_KEY``. The keywords
    are ``CLIENT_OPTIONS``; None keeps an option's default. Durations are seconds (int, float) or
    a ``timedelta``. The core checks every value: a bad one raises ``ValueError`` with the same
    message as in every face, a wrong type ``TypeError``, before anything is sent.
    """

    def __new__(
        cls,
        secret_id: str | None = None,
        secret_key: str | None = None,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        part_size: int | None = None,
        concurrency: int | Literal["auto"] | None = None,
        max_attempts: int | None = None,
        retry_base_delay: _Seconds | None = None,
        retry_max_delay: _Seconds | None = None,
        connect_timeout: _Seconds | None = None,
        request_timeout: _Seconds | None = None,
        ca_file: _StrPath | None = None,
        proxy: str | None = None,
        signature_method: str | None = None,
        rate_limit: bool = True,
        rate_upload_part: int | None = None,
        rate_init_finish: int | None = None,
        pacing_url: str | None = None,
        fingerprint_cache: _StrPath | None = None,
        events_endpoint: str | None = None,
    ) -> Self: ...
    @property
    def options(self) -> dict[str, str | int | float | bool | None]:
        """Every option's value in use, keyed by ``CLIENT_OPTIONS`` (a proxy password as ***)."""

    @property
    def endpoint(self) -> str:
        """The upload API URL this client talks to."""

    @property
    def events_endpoint(self) -> str:
        """The event API URL ``pull_events()`` and ``confirm_events()`` talk to."""

    @property
    def region(self) -> str:
        """The region parameter sent with every request."""

    @property
    def part_size(self) -> int:
        """Part size in bytes."""

    @property
    def concurrency(self) -> int | Literal["auto"]:
        """Parts in flight at once per upload."""

    def upload(
        self,
        path: _StrPath,
        *,
        name: str | None = None,
        file_type: str | None = None,
        tags: Iterable[str] | None = None,
        class_id: int | None = None,
        transcode: bool = False,
        screenshot: bool = False,
        watermark: bool = False,
        progress: _ProgressCallback | None = None,
        hash_progress: _ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> UploadResult:
        """Uploads a file in one call (hash, InitUpload, parts in parallel, FinishUpload).

        Releases the GIL; ``progress``/``hash_progress`` are called on this thread with the GIL.
        """

    def begin(
        self,
        path: _StrPath,
        *,
        name: str | None = None,
        file_type: str | None = None,
        tags: Iterable[str] | None = None,
        class_id: int | None = None,
        transcode: bool = False,
        screenshot: bool = False,
        watermark: bool = False,
        hash_progress: _ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Upload:
        """Hashes the file and calls InitUpload; returns an ``Upload`` to send parts step by step."""

    def upload_many(
        self,
        paths: Iterable[_StrPath],
        *,
        jobs: int = 2,
        file_type: str | None = None,
        tags: Iterable[str] | None = None,
        class_id: int | None = None,
        transcode: bool = False,
        screenshot: bool = False,
        watermark: bool = False,
        progress: _ProgressCallback | None = None,
        hash_progress: _ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> list[UploadResult | Exception]:
        """Uploads several files, ``jobs`` at a time: one ``UploadResult`` or exception per path,
        in order. Progress is summed over the files. Releases the GIL.
        """

    def pull_events(self) -> list[tuple[str, Event]]:
        """The oldest unconfirmed events (at most 16) as ``(msg_handle, Event)`` pairs; ``[]`` if none.

        Pulled events are returned again by every pull until ``confirm_events()``. Releases the GIL.
        """

    def confirm_events(self, msg_handles: Iterable[str]) -> None:
        """Acknowledges handled events by ``msg_handle`` (a list of str, not one str).

        An empty iterable sends nothing; unknown or already confirmed handles are ignored.
        Releases the GIL.
        """

@final
class Upload:
    """An upload between InitUpload and FinishUpload (from ``Client.begin``). Thread-safe."""

    @property
    def part_count(self) -> int:
        """Number of parts of the file."""

    @property
    def part_size(self) -> int:
        """Part size in bytes agreed with the server."""

    @property
    def bytes_done(self) -> int:
        """Bytes the server holds; never decreases."""

    @property
    def bytes_total(self) -> int:
        """Size of the file."""

    @property
    def instant(self) -> bool:
        """True when the service already had the file: nothing to send."""

    @property
    def file_sha1(self) -> str:
        """SHA-1 of the file, lowercase hex."""

    @property
    def path(self) -> str:
        """The file being uploaded."""

    @property
    def cancelled(self) -> bool:
        """Whether this upload was cancelled."""

    def parts_needed(self) -> list[int]:
        """Indexes of the parts the server still lacks, in order."""

    def part_needed(self, index: int) -> bool:
        """Whether part ``index`` still has to be sent (False for an index that is no part)."""

    def upload_part(self, index: int) -> None:
        """Sends part ``index`` (with retries; GIL released). No-op if no longer needed."""

    def upload_parts(
        self, *, concurrency: int | Literal["auto"] | None = None, progress: _ProgressCallback | None = None
    ) -> None:
        """Sends every needed part in parallel (GIL released)."""

    def finish(self) -> UploadResult:
        """Calls FinishUpload once every part is on the server."""

    def cancel(self) -> None:
        """Stops this upload; the server keeps its parts."""

@final
class Emulator:
    """The upload protocol emulator, running in this process on 127.0.0.1 (for tests)."""

    def __new__(
        cls,
        *,
        secret_id: str | None = None,
        secret_key: str | None = None,
        state_dir: _StrPath | None = None,
        tls: bool = False,
        rate_limit: bool = True,
        any_part_size: bool = False,
        clock_offset_secs: int = 0,
        listen: str = "127.0.0.1:0",
        seed: int = 0,
        fail_rate: float = 0.0,
        drop_rate: float = 0.0,
        http502_rate: float = 0.0,
        truncate_rate: float = 0.0,
        slow_rate: float = 0.0,
        slow_ms: int = 0,
        latency_ms: int = 0,
        bandwidth: float | None = None,
        notify_url: str | None = None,
    ) -> Self: ...
    @property
    def endpoint(self) -> str:
        """The URL to pass as ``Client(endpoint=...)``."""

    @property
    def secret_id(self) -> str:
        """The SecretId the emulator accepts."""

    @property
    def secret_key(self) -> str:
        """The SecretKey the emulator accepts."""

    @property
    def ca_cert_pem(self) -> str | None:
        """PEM of the self-signed certificate when ``tls=True``."""

    @property
    def ca_file(self) -> str | None:
        """A file holding ``ca_cert_pem``, for ``Client(ca_file=...)``."""

    @property
    def state_dir(self) -> str:
        """Where the emulator keeps parts and finished files."""

    @property
    def running(self) -> bool:
        """False once ``stop()`` was called."""

    def stats(self) -> dict[str, int]:
        """The emulator's counters."""

    def stop(self) -> None:
        """Stops the server; calling it again does nothing."""

    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc_info: object) -> Literal[False]:
        """Stops the server; an exception in the ``with`` block propagates."""

@final
class Event:
    """One event, from ``parse_event()`` or ``Client.pull_events()``. Immutable.

    ``event_type`` is ``"NewFileUpload"`` for "Video Upload Completed"; other types parse too.
    The ``data`` fields are None when absent; ``raw`` is the whole JSON text.
    """

    __hash__: ClassVar[None]  # type: ignore[assignment]
    @property
    def event_type(self) -> str:
        """``eventType``, e.g. ``"NewFileUpload"``."""

    @property
    def is_new_file_upload(self) -> bool:
        """Whether ``event_type == "NewFileUpload"`` ("Video Upload Completed")."""

    @property
    def version(self) -> str | None:
        """``version``, e.g. ``"4.0"``."""

    @property
    def file_id(self) -> str | None:
        """``data.fileId``: the video's id, as ``UploadResult.file_id`` gave it."""

    @property
    def file_url(self) -> str | None:
        """``data.fileUrl``: where the service serves the video."""

    @property
    def file_name(self) -> str | None:
        """``data.fileName``: the video's name, without extension."""

    @property
    def source_type(self) -> str | None:
        """``data.sourceType``: ``"ServerUpload"`` for uploads made with this package."""

    @property
    def source_context(self) -> str | None:
        """``data.sourceContext``."""

    @property
    def transcode_task_id(self) -> str | None:
        """``data.transcodeTaskId``."""

    @property
    def procedure_task_id(self) -> str | None:
        """``data.procedureTaskId``."""

    @property
    def raw(self) -> str:
        """The event's JSON text, every field included."""

    def to_dict(self) -> dict[str, Any]:
        """The whole event as parsed JSON (``json.loads(self.raw)``)."""

    def __eq__(self, value: object, /) -> bool: ...

def parse_event(data: bytes | bytearray | memoryview | str) -> Event:
    """Parses an event's JSON (a callback's body); ``ValueError`` with the reason if malformed."""

def sign(
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    secret_key: str,
    signature_method: str = "HmacSHA1",
) -> str:
    """Signs a request: Base64 HMAC of ``string_to_sign(...)`` keyed with ``secret_key``."""

def string_to_sign(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """The string ``sign()`` signs: METHOD + host + path + "?" + sorted raw ``k=v&...``."""

class VodError(Exception):
    """Base class of vodupload failures (not bad arguments or local file errors)."""

    kind: str
    message: str
    code: int | None
    code_desc: str | None
    can_retry: bool

class AuthError(VodError):
    """The service refused the credentials or the signature (-10002, 4100, 4300)."""

class ServerError(VodError):
    """The service answered an error code (``code``, ``message``, ``can_retry``)."""

class ProtocolError(VodError):
    """The upload host answered something that is not the protocol."""

class FileChangedError(VodError):
    """The file changed while it was being uploaded."""

class UploadCancelled(VodError):
    """A ``CancelToken`` or ``Upload.cancel()`` stopped the upload; the server keeps its parts."""

class NetworkError(VodError, builtins.ConnectionError):
    """The connection failed, was reset, or TLS failed, after the retries."""

class TimeoutError(VodError, builtins.TimeoutError):
    """A request did not complete within its timeout, after the retries."""
