"""asyncio face of the client, for FastAPI, aiohttp and other asyncio backends.

The blocking work (hashing, HTTP) runs in the Rust core on a thread of its own per call, with the
GIL released, so the event loop never waits on it. Progress callables run on the event loop,
between its other callbacks. Cancelling the awaiting task (``task.cancel()``,
``asyncio.timeout``, a client disconnecting from a FastAPI endpoint...) stops the upload as a
``CancelToken`` does: the await ends once the core has stopped, the server keeps the parts it
stored, and uploading the same file again resumes.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar, Union

from ._vodupload import CancelToken, Client, Event, Upload, UploadResult

_T = TypeVar("_T")
_StrPath = Union[str, "os.PathLike[str]"]
_Seconds = Union[float, datetime.timedelta]
ProgressCallback = Callable[[int, int], object]
"""``callback(done, total)``, called on the event loop; an exception raised in it stops the
upload and propagates from the awaited call."""


class _Relay:
    """Carries one kind of progress report from the upload's thread to the event loop.

    At most one delivery waits on the loop at a time, carrying the latest report, so a busy loop
    gets fewer calls rather than a backlog; the last report still arrives before the call's
    result, because the loop runs its callbacks in the order they were scheduled.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        callback: ProgressCallback,
        stop: Callable[[], None],
        failure: list[BaseException],
    ) -> None:
        self._loop = loop
        self._callback = callback
        self._stop = stop
        self._failure = failure
        self._lock = threading.Lock()
        self._latest: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        """On the upload's thread."""
        with self._lock:
            waiting = self._latest is not None
            self._latest = (done, total)
        if not waiting:
            self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        """On the event loop."""
        with self._lock:
            latest, self._latest = self._latest, None
        if latest is None or self._failure:
            return
        try:
            self._callback(*latest)
        except Exception as e:  # noqa: BLE001 (it is re-raised by the awaited call)
            self._failure.append(e)
            self._stop()


class _Call:
    """One blocking call on its own thread, awaited on the loop."""

    def __init__(self, stop: Callable[[], None] | None) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = stop
        self.failure: list[BaseException] = []

    def relay(self, name: str, callback: ProgressCallback | None) -> _Relay | None:
        if callback is None:
            return None
        if not callable(callback):
            raise TypeError(
                f"{name} must be a callable taking (done, total), not {type(callback).__name__}"
            )
        return _Relay(self.loop, callback, self.stop or (lambda: None), self.failure)

    async def run(self, fn: Callable[[], _T]) -> _T:
        future: asyncio.Future[_T] = self.loop.create_future()
        # A result nobody awaits any more (the task was cancelled) is not an error to report.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        ctx = contextvars.copy_context()
        loop = self.loop

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def work() -> None:
            try:
                result, error = ctx.run(fn), None
            except BaseException as e:  # noqa: BLE001 (handed to the awaiting task)
                result, error = None, e
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:
                pass  # the loop is closed: nobody is waiting

        # A daemon thread: an interpreter exiting does not wait for an upload, which resumes.
        threading.Thread(target=work, name="vodupload-async", daemon=True).start()
        try:
            result = await asyncio.shield(future)
        except asyncio.CancelledError:
            if self.stop is not None and not future.done():
                self.stop()
                # Return only once the core has stopped, so a rerun finds every stored part.
                while not future.done():
                    try:
                        await asyncio.wait([future])
                    except asyncio.CancelledError:
                        pass
            raise
        except Exception:
            if self.failure:
                raise self.failure[0] from None
            raise
        if self.failure:
            raise self.failure[0]
        return result


class AsyncUpload:
    """An upload between InitUpload and FinishUpload, from ``AsyncClient.begin()``.

    The properties and ``parts_needed()`` answer at once; ``upload_part()``,
    ``upload_parts()`` and ``finish()`` are awaitable and may run concurrently (e.g. one task per
    part). Cancelling a task awaiting one of them cancels the whole upload, as ``cancel()`` does:
    later calls raise ``UploadCancelled``, and ``AsyncClient.begin()`` on the same file resumes.
    """

    def __init__(self, upload: Upload) -> None:
        self._upload = upload

    @property
    def upload(self) -> Upload:
        """The blocking ``Upload`` this wraps."""
        return self._upload

    @property
    def part_count(self) -> int:
        """Number of parts of the file."""
        return self._upload.part_count

    @property
    def part_size(self) -> int:
        """Part size in bytes agreed with the server."""
        return self._upload.part_size

    @property
    def bytes_done(self) -> int:
        """Bytes the server holds; never decreases."""
        return self._upload.bytes_done

    @property
    def bytes_total(self) -> int:
        """Size of the file."""
        return self._upload.bytes_total

    @property
    def instant(self) -> bool:
        """True when the service already had the file: nothing to send."""
        return self._upload.instant

    @property
    def file_sha1(self) -> str:
        """SHA-1 of the file, lowercase hex."""
        return self._upload.file_sha1

    @property
    def path(self) -> str:
        """The file being uploaded."""
        return self._upload.path

    @property
    def cancelled(self) -> bool:
        """Whether this upload was cancelled."""
        return self._upload.cancelled

    def parts_needed(self) -> list[int]:
        """Indexes of the parts the server still lacks, in order."""
        return self._upload.parts_needed()

    def part_needed(self, index: int) -> bool:
        """Whether part ``index`` still has to be sent (False for an index that is no part)."""
        return self._upload.part_needed(index)

    def cancel(self) -> None:
        """Stops this upload: running calls raise ``UploadCancelled``; the server keeps parts."""
        self._upload.cancel()

    async def upload_part(self, index: int) -> None:
        """Sends part ``index`` (with retries); does nothing if it is no longer needed."""
        call = _Call(self._upload.cancel)
        await call.run(lambda: self._upload.upload_part(index))

    async def upload_parts(
        self, *, concurrency: int | Literal["auto"] | None = None, progress: ProgressCallback | None = None
    ) -> None:
        """Sends every needed part, ``concurrency`` at a time (default: the client's).

        ``progress(done, total)`` is called on the event loop.
        """
        call = _Call(self._upload.cancel)
        relay = call.relay("progress", progress)
        await call.run(lambda: self._upload.upload_parts(concurrency=concurrency, progress=relay))

    async def finish(self) -> UploadResult:
        """Calls FinishUpload once every part is on the server; returns the ``UploadResult``."""
        call = _Call(self._upload.cancel)
        return await call.run(self._upload.finish)

    def __repr__(self) -> str:
        return f"<Async{repr(self._upload)[1:]}"


class AsyncClient:
    """The asyncio counterpart of ``Client``: the same options, awaitable calls.

    ``AsyncClient(...)`` takes exactly ``Client``'s arguments (``CLIENT_OPTIONS``);
    ``AsyncClient.from_client(client)`` wraps an existing ``Client``, sharing its connections and
    pacing. Share one between tasks: calls run concurrently, each on its own thread.
    """

    def __init__(
        self,
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
    ) -> None:
        self._client = Client(
            secret_id,
            secret_key,
            endpoint=endpoint,
            region=region,
            part_size=part_size,
            concurrency=concurrency,
            max_attempts=max_attempts,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            ca_file=ca_file,
            proxy=proxy,
            signature_method=signature_method,
            rate_limit=rate_limit,
            rate_upload_part=rate_upload_part,
            rate_init_finish=rate_init_finish,
            pacing_url=pacing_url,
            fingerprint_cache=fingerprint_cache,
            events_endpoint=events_endpoint,
        )

    @classmethod
    def from_client(cls, client: Client) -> AsyncClient:
        """An ``AsyncClient`` over ``client`` (its options, connection pool and pacing)."""
        if not isinstance(client, Client):
            raise TypeError(f"client must be a vodupload.Client, not {type(client).__name__}")
        self = cls.__new__(cls)
        self._client = client
        return self

    @property
    def client(self) -> Client:
        """The blocking ``Client`` this wraps."""
        return self._client

    @property
    def options(self) -> dict[str, str | int | float | bool | None]:
        """Every option's value in use, keyed by ``CLIENT_OPTIONS``."""
        return self._client.options

    async def upload(
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
        progress: ProgressCallback | None = None,
        hash_progress: ProgressCallback | None = None,
    ) -> UploadResult:
        """Uploads a file (hash, InitUpload, parts in parallel, FinishUpload), as ``Client.upload``.

        ``progress``/``hash_progress`` are called on the event loop. Cancelling the task stops
        the upload; the server keeps its parts and a later upload of the file resumes.
        """
        token = CancelToken()
        call = _Call(token.cancel)
        on_progress = call.relay("progress", progress)
        on_hash = call.relay("hash_progress", hash_progress)
        return await call.run(
            lambda: self._client.upload(
                path,
                name=name,
                file_type=file_type,
                tags=tags,
                class_id=class_id,
                transcode=transcode,
                screenshot=screenshot,
                watermark=watermark,
                progress=on_progress,
                hash_progress=on_hash,
                cancel=token,
            )
        )

    async def begin(
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
        hash_progress: ProgressCallback | None = None,
    ) -> AsyncUpload:
        """Hashes the file and calls InitUpload; returns an ``AsyncUpload`` to send the parts."""
        token = CancelToken()
        call = _Call(token.cancel)
        on_hash = call.relay("hash_progress", hash_progress)
        upload = await call.run(
            lambda: self._client.begin(
                path,
                name=name,
                file_type=file_type,
                tags=tags,
                class_id=class_id,
                transcode=transcode,
                screenshot=screenshot,
                watermark=watermark,
                hash_progress=on_hash,
                cancel=token,
            )
        )
        return AsyncUpload(upload)

    async def upload_many(
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
        progress: ProgressCallback | None = None,
        hash_progress: ProgressCallback | None = None,
    ) -> list[UploadResult | Exception]:
        """Uploads several files, ``jobs`` at a time, as ``Client.upload_many``: one
        ``UploadResult`` or exception per path, in order; progress summed over the files, on the
        event loop. Cancelling the task stops every file (each resumes on a later upload)."""
        token = CancelToken()
        call = _Call(token.cancel)
        on_progress = call.relay("progress", progress)
        on_hash = call.relay("hash_progress", hash_progress)
        return await call.run(
            lambda: self._client.upload_many(
                paths,
                jobs=jobs,
                file_type=file_type,
                tags=tags,
                class_id=class_id,
                transcode=transcode,
                screenshot=screenshot,
                watermark=watermark,
                progress=on_progress,
                hash_progress=on_hash,
                cancel=token,
            )
        )

    async def pull_events(self) -> list[tuple[str, Event]]:
        """The oldest unconfirmed events (at most 16) as ``(msg_handle, Event)`` pairs, as
        ``Client.pull_events``. A cancelled pull loses nothing: its events come again."""
        return await _Call(None).run(self._client.pull_events)

    async def confirm_events(self, msg_handles: Iterable[str]) -> None:
        """Acknowledges handled events by ``msg_handle``, as ``Client.confirm_events``.
        Confirming is idempotent, so after a cancelled call simply confirm again."""
        await _Call(None).run(lambda: self._client.confirm_events(msg_handles))

    def __repr__(self) -> str:
        return f"Async{self._client!r}"


__all__ = ["AsyncClient", "AsyncUpload", "ProgressCallback"]
