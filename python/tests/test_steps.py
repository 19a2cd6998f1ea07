"""The step-by-step API: begin, parts_needed, upload_part, finish."""

from __future__ import annotations

import hashlib
import threading

import pytest

import vodupload
from conftest import PART, MakeFile


def test_step_by_step(
    emu: vodupload.Emulator, client: vodupload.Client, make_file: MakeFile
) -> None:
    path = make_file(4 * PART + 10)
    hashed: list[int] = []
    up = client.begin(path, name="steps", hash_progress=lambda d, t: hashed.append(d))
    assert hashed[-1] == path.stat().st_size
    assert isinstance(up, vodupload.Upload)
    assert up.part_count == 5 and up.part_size == PART
    assert up.bytes_total == path.stat().st_size and up.bytes_done == 0
    assert not up.instant and not up.cancelled
    assert up.file_sha1 == hashlib.sha1(path.read_bytes()).hexdigest()
    assert up.path == str(path)
    assert up.parts_needed() == [0, 1, 2, 3, 4]
    assert "parts_needed=5" in repr(up)

    with pytest.raises(ValueError, match="still needed"):
        up.finish()

    for i in up.parts_needed():
        up.upload_part(i)
        assert not up.part_needed(i)
    up.upload_part(0)  # no longer needed: nothing sent
    assert emu.stats()["part_calls"] == 5
    assert up.parts_needed() == [] and up.bytes_done == up.bytes_total

    r = up.finish()
    assert r.parts_uploaded == 5 and not r.instant
    assert up.finish().file_id == r.file_id, "finish() again returns the same result"


def test_step_resume_and_instant(
    emu: vodupload.Emulator, client: vodupload.Client, make_file: MakeFile
) -> None:
    path = make_file(6 * PART)
    first = client.begin(path)
    first.upload_part(1)
    first.upload_part(4)
    # A new process (here: a new begin) asks the server what it holds.
    second = client.begin(path)
    assert second.parts_needed() == [0, 2, 3, 5]
    assert second.bytes_done == 2 * PART
    seen: list[int] = []
    second.upload_parts(concurrency=2, progress=lambda d, t: seen.append(d))
    assert seen[0] == 2 * PART and seen[-1] == 6 * PART
    r = second.finish()
    assert r.parts_skipped == 2 and r.parts_uploaded == 4

    third = client.begin(path)
    assert third.instant and third.parts_needed() == []
    assert third.finish().instant


def test_parts_from_several_threads(
    emu: vodupload.Emulator, client: vodupload.Client, make_file: MakeFile
) -> None:
    path = make_file(9 * PART)
    up = client.begin(path)
    errors: list[BaseException] = []

    def send(indexes: list[int]) -> None:
        try:
            for i in indexes:
                up.upload_part(i)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=send, args=(up.parts_needed()[k::3],)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert up.finish().parts_uploaded == 9


def test_bad_part_index(client: vodupload.Client, make_file: MakeFile) -> None:
    up = client.begin(make_file(2 * PART))
    for bad in (2, -1, 10**6):
        with pytest.raises(ValueError) as info:
            up.upload_part(bad)
        assert str(info.value) == f"part index {bad} is out of range: the file has 2 parts"
        # As in the core and every face: an index that is not a part is not needed.
        assert up.part_needed(bad) is False
    with pytest.raises(TypeError):
        up.upload_part("0")  # type: ignore[arg-type]


def test_cancelled_upload_refuses_more_parts(
    client: vodupload.Client, make_file: MakeFile
) -> None:
    up = client.begin(make_file(3 * PART))
    up.upload_part(0)
    up.cancel()
    assert up.cancelled
    with pytest.raises(vodupload.UploadCancelled):
        up.upload_part(1)
    # begin again to resume
    again = client.begin(up.path)
    assert again.parts_needed() == [1, 2]
