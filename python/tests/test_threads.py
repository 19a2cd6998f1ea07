"""One Client shared by several threads: the GIL is released, uploads run in parallel."""

from __future__ import annotations

import threading
import time

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


def test_four_threads_through_one_client(
    make_file: MakeFile, capsys: pytest.CaptureFixture[str]
) -> None:
    # 60 ms per answer: an upload mostly waits, as it does against the real service. (With a
    # debug build, hashing and the emulator's checks also take CPU, and this machine may have
    # only 2 cores: the ratio printed is then higher than network-bound uploads would show.)
    with vodupload.Emulator(latency_ms=60) as emu:
        client = client_for(emu, concurrency=2)
        files = [make_file(8 * PART) for _ in range(5)]

        t0 = time.monotonic()
        client.upload(files[0])
        one = time.monotonic() - t0

        results: dict[int, vodupload.UploadResult] = {}
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                results[i] = client.upload(files[i])
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 5)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        four = time.monotonic() - t0

        assert not errors, errors
        assert len({r.file_id for r in results.values()}) == 4
        assert all(r.parts_uploaded == 8 for r in results.values())
        with capsys.disabled():  # shown even without -s; not asserted (the machine may be busy)
            print(
                f"\none upload {one * 1000:.0f} ms; four in parallel {four * 1000:.0f} ms "
                f"(sequential would be about {4 * one * 1000:.0f} ms; ratio {four / one:.2f})"
            )


def test_the_gil_is_released_while_uploading(make_file: MakeFile) -> None:
    with vodupload.Emulator(latency_ms=20) as emu:
        client = client_for(emu, concurrency=1)
        path = make_file(8 * PART)
        done = threading.Event()
        ticks = 0

        def upload() -> None:
            try:
                client.upload(path)
            finally:
                done.set()

        t = threading.Thread(target=upload)
        t.start()
        while not done.is_set():
            ticks += 1  # runs only while the upload thread does not hold the GIL
        t.join()
        assert ticks > 10_000, ticks
