"""AsyncClient: awaitable calls whose work runs off the event loop, progress delivered on the loop,
and task cancellation that stops an upload as a CancelToken does. Plain tests driving
``asyncio.run``, against the in-process emulator."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

import vodupload
from conftest import PART, MakeFile, client_for

T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def wrapper() -> T:
        return await main()

    return asyncio.run(wrapper())


def async_client(emu: vodupload.Emulator, **options: object) -> vodupload.AsyncClient:
    return vodupload.AsyncClient.from_client(client_for(emu, **options))


def test_upload_progress_on_the_loop(
    emu: vodupload.Emulator, make_file: MakeFile
) -> None:
    path = make_file(6 * PART + 5)
    size = path.stat().st_size

    async def main() -> None:
        client = async_client(emu)
        loop_thread = threading.get_ident()
        seen: list[tuple[int, int]] = []
        hashed: list[tuple[int, int]] = []
        threads: set[int] = set()

        def progress(done: int, total: int) -> None:
            threads.add(threading.get_ident())
            seen.append((done, total))

        def hash_progress(done: int, total: int) -> None:
            threads.add(threading.get_ident())
            hashed.append((done, total))

        r = await client.upload(
            path, tags=["async"], progress=progress, hash_progress=hash_progress
        )
        assert r.parts_uploaded == 7 and r.file_size == size
        assert threads == {loop_thread}, "callables run on the event loop's thread"
        assert seen[-1] == (size, size), "the last report arrives before the result"
        assert hashed[-1] == (size, size)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        again = await client.upload(str(path))
        assert again.instant and again.file_id == r.file_id

    run(main)


def test_the_loop_runs_while_an_upload_works(make_file: MakeFile) -> None:
    """Another task observes the upload in flight: it has reported progress but not finished.
    Were the work on the loop's thread, no other task could run between its start and its end."""
    path = make_file(8 * PART)

    async def main() -> None:
        with vodupload.Emulator(latency_ms=20) as emu:
            client = async_client(emu, concurrency=1)
            reports: list[int] = []
            task = asyncio.ensure_future(
                client.upload(path, progress=lambda d, t: reports.append(d))
            )
            observed_in_flight = False
            while not task.done():
                if reports and 0 < reports[-1] < 8 * PART:
                    observed_in_flight = True
                await asyncio.sleep(0.001)
            await task
            assert observed_in_flight

    run(main)


def test_cancelling_the_task_stops_the_upload_and_a_rerun_resumes(make_file: MakeFile) -> None:
    path = make_file(12 * PART)

    async def main() -> None:
        with vodupload.Emulator(latency_ms=20) as emu:
            client = async_client(emu, concurrency=2)
            first_part = asyncio.Event()

            def progress(done: int, total: int) -> None:
                if done >= PART:
                    first_part.set()

            task = asyncio.ensure_future(client.upload(path, progress=progress))
            await first_part.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The await ended after the core stopped: no request of that upload comes later.
            sent = emu.stats()["part_calls"]
            assert 0 < sent < 12
            again = await client.upload(path)
            assert again.parts_skipped > 0
            assert again.parts_skipped + again.parts_uploaded == 12
            assert emu.stats()["part_calls"] == sent + again.parts_uploaded

    run(main)


def test_a_timeout_stops_the_upload(make_file: MakeFile) -> None:
    path = make_file(12 * PART)

    async def main() -> None:
        # At least 12 x 20 ms of answers one after the other: the upload outlasts the timeout.
        with vodupload.Emulator(latency_ms=20) as emu:
            client = async_client(emu, concurrency=1)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.upload(path), timeout=0.1)
            sent, stored = emu.stats()["part_calls"], emu.stats()["parts_stored"]
            assert stored < 12, "the upload stopped when its time was up"
            again = await client.upload(path)
            assert again.parts_skipped == stored and again.parts_uploaded == 12 - stored
            # Nothing of the stopped upload arrived after the await ended.
            assert emu.stats()["part_calls"] == sent + again.parts_uploaded

    run(main)


def test_a_progress_exception_propagates_and_stops(
    emu: vodupload.Emulator, make_file: MakeFile
) -> None:
    path = make_file(6 * PART)

    class Stop(Exception):
        pass

    async def main() -> None:
        client = async_client(emu, concurrency=1)

        def progress(done: int, total: int) -> None:
            if done >= PART:
                raise Stop("enough")

        with pytest.raises(Stop, match="enough"):
            await client.upload(path, progress=progress)
        stored = emu.stats()["parts_stored"]
        assert 0 < stored < 6
        again = await client.upload(path)
        assert again.parts_skipped == stored

        with pytest.raises(TypeError, match="progress must be a callable"):
            await client.upload(path, progress=5)  # type: ignore[arg-type]

    run(main)


def test_errors_come_out_of_the_await(emu: vodupload.Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        client = async_client(emu)
        with pytest.raises(FileNotFoundError):
            await client.upload(tmp_path / "nope.mp4")
        with pytest.raises(ValueError, match="class_id -1 is out of range"):
            await client.upload(tmp_path / "nope.mp4", class_id=-1)
        bad = vodupload.AsyncClient(emu.secret_id, "wrong", endpoint=emu.endpoint, max_attempts=1)
        (tmp_path / "a.mp4").write_bytes(b"x" * 100)
        with pytest.raises(vodupload.AuthError):
            await bad.upload(tmp_path / "a.mp4")

    run(main)


def test_step_by_step(emu: vodupload.Emulator, make_file: MakeFile) -> None:
    path = make_file(5 * PART + 1)

    async def main() -> None:
        client = async_client(emu)
        up = await client.begin(path, name="steps")
        assert isinstance(up, vodupload.AsyncUpload)
        assert up.part_count == 6 and up.parts_needed() == list(range(6))
        await asyncio.gather(*(up.upload_part(i) for i in up.parts_needed()[:3]))
        assert up.parts_needed() == [3, 4, 5] and up.bytes_done == 3 * PART
        seen: list[int] = []
        await up.upload_parts(concurrency=2, progress=lambda d, t: seen.append(d))
        assert seen[-1] == up.bytes_total and not up.parts_needed()
        r = await up.finish()
        assert r.parts_uploaded == 6 and r.parts_total == 6

    run(main)


def test_cancelling_a_step_cancels_the_upload(make_file: MakeFile) -> None:
    path = make_file(10 * PART)

    async def main() -> None:
        with vodupload.Emulator(latency_ms=20) as emu:
            client = async_client(emu, concurrency=1)
            up = await client.begin(path)
            one = asyncio.Event()
            task = asyncio.ensure_future(
                up.upload_parts(progress=lambda d, t: one.set() if d else None)
            )
            await one.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert up.cancelled
            with pytest.raises(vodupload.UploadCancelled):
                await up.upload_part(up.parts_needed()[0])
            again = await client.begin(path)
            assert 0 < len(again.parts_needed()) < 10
            await again.upload_parts()
            assert (await again.finish()).parts_total == 10

    run(main)


def test_events(make_file: MakeFile) -> None:
    async def main() -> None:
        with vodupload.Emulator() as emu:
            client = async_client(emu, events_endpoint=emu.endpoint)
            assert await client.pull_events() == []
            r = await client.upload(make_file(PART))
            pulled = await client.pull_events()
            assert [e.file_id for _, e in pulled] == [r.file_id]
            await client.confirm_events(h for h, _ in pulled)
            assert await client.pull_events() == []
            with pytest.raises(TypeError, match="iterable of msg handles"):
                await client.confirm_events("one-handle")

    run(main)


def test_upload_many(emu: vodupload.Emulator, make_file: MakeFile, tmp_path: Path) -> None:
    paths = [make_file(2 * PART), tmp_path / "missing.mp4", make_file(PART)]

    async def main() -> None:
        client = async_client(emu)
        loop_thread = threading.get_ident()
        seen: list[tuple[int, int, int]] = []
        results = await client.upload_many(
            paths, jobs=2, progress=lambda d, t: seen.append((threading.get_ident(), d, t))
        )
        assert isinstance(results[0], vodupload.UploadResult)
        assert isinstance(results[1], FileNotFoundError)
        assert isinstance(results[2], vodupload.UploadResult)
        assert {t for t, _, _ in seen} == {loop_thread}
        assert seen[-1][1:] == (3 * PART, 3 * PART)

    run(main)


def test_construction_and_options(emu: vodupload.Emulator) -> None:
    a = vodupload.AsyncClient(emu.secret_id, emu.secret_key, endpoint=emu.endpoint, concurrency=3)
    assert a.options["concurrency"] == 3 and a.client.options == a.options
    assert "secret" not in repr(a).lower() or emu.secret_key not in repr(a)
    with pytest.raises(ValueError, match="concurrency 0 is out of range: use 1 to 64"):
        vodupload.AsyncClient(emu.secret_id, emu.secret_key, concurrency=0)
    with pytest.raises(TypeError):
        vodupload.AsyncClient.from_client("not a client")  # type: ignore[arg-type]
