"""Stopping an upload (callback exception, Ctrl-C, CancelToken) and resuming it later."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


class Stop(Exception):
    pass


def test_callback_exception_propagates_unchanged_then_resume(
    emu: vodupload.Emulator, make_file: MakeFile
) -> None:
    client = client_for(emu, concurrency=2)
    path = make_file(12 * PART)
    err = Stop("enough for now")

    def progress(done: int, total: int) -> None:
        if done >= 4 * PART:
            raise err

    with pytest.raises(Stop) as info:
        client.upload(path, progress=progress)
    assert info.value is err, "the very exception object raised in the callback"
    assert any(
        entry.name == "progress" for entry in info.traceback
    ), "the traceback goes through the callback"
    stored = emu.stats()["parts_stored"]
    assert 4 <= stored < 12, stored

    r = client.upload(path)
    assert not r.instant
    assert r.parts_skipped == stored, "the parts the server kept are not sent again"
    assert r.parts_uploaded == 12 - stored
    assert emu.stats()["parts_stored"] == 12


def test_hash_progress_exception_stops_before_any_request(
    emu: vodupload.Emulator, client: vodupload.Client, make_file: MakeFile
) -> None:
    def boom(done: int, total: int) -> None:
        raise KeyError("from hashing")

    with pytest.raises(KeyError, match="from hashing"):
        client.upload(make_file(3 * PART), hash_progress=boom)
    assert emu.stats()["init_calls"] == 0


def test_ctrl_c_stops_within_a_second_and_the_server_keeps_the_parts(
    make_file: MakeFile, capsys: pytest.CaptureFixture[str]
) -> None:
    # 40 ms per answer, one part at a time: 24 parts take about a second, so the signal sent at
    # 0.4 s lands in the middle of the upload.
    with vodupload.Emulator(latency_ms=40) as emu:
        client = client_for(emu, concurrency=1)
        path = make_file(24 * PART)
        sent_at: list[float] = []

        def interrupt() -> None:
            sent_at.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, to this process

        # Python's own handler, even if this process started with SIGINT ignored (as background
        # jobs of a non-interactive shell do).
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        timer = threading.Timer(0.4, interrupt)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.upload(path)
            stopped = time.monotonic() - sent_at[0]
        finally:
            timer.cancel()
            signal.signal(signal.SIGINT, previous)
        with capsys.disabled():
            print(f"\nKeyboardInterrupt {stopped * 1000:.0f} ms after SIGINT")
        assert stopped < 1.0
        stored = emu.stats()["parts_stored"]
        assert 0 < stored < 24, stored

        r = client_for(emu, concurrency=8).upload(path)
        assert r.parts_skipped == stored and r.parts_uploaded == 24 - stored


def test_cancel_token_from_another_thread(make_file: MakeFile) -> None:
    with vodupload.Emulator(latency_ms=30) as emu:
        client = client_for(emu, concurrency=1)
        path = make_file(20 * PART)
        token = vodupload.CancelToken()
        assert not token.cancelled and "False" in repr(token)
        threading.Timer(0.2, token.cancel).start()
        with pytest.raises(vodupload.UploadCancelled) as info:
            client.upload(path, cancel=token)
        assert token.cancelled
        assert info.value.kind == "cancelled"
        assert "resume" in str(info.value)
        stored = emu.stats()["parts_stored"]
        assert 0 < stored < 20

        # A new token (or none): the next upload resumes.
        r = client.upload(path, cancel=vodupload.CancelToken())
        assert r.parts_skipped == stored
