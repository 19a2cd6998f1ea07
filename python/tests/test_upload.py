"""One-call uploads against the in-process emulator: results, progress, instant re-upload."""

from __future__ import annotations

import hashlib
import pathlib
import threading

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


def test_upload_then_instant_reupload(
    emu: vodupload.Emulator, client: vodupload.Client, make_file: MakeFile
) -> None:
    path = make_file(5 * PART + 1234)
    r = client.upload(str(path), tags=["a", "b c"], class_id=3, transcode=True)
    assert r.file_id and r.url.startswith("http://127.0.0.1:")
    assert not r.instant
    assert r.parts_total == 6
    assert r.parts_uploaded == 6 and r.parts_skipped == 0
    assert r.bytes_sent == path.stat().st_size == r.file_size
    assert r.file_sha1 == hashlib.sha1(path.read_bytes()).hexdigest()
    assert r.elapsed > 0
    assert emu.stats()["parts_stored"] == 6

    again = client.upload(path)  # os.PathLike works too
    assert again.instant
    assert again.file_id == r.file_id and again.url == r.url
    assert again.parts_uploaded == 0 and again.parts_skipped == 6 and again.bytes_sent == 0
    assert emu.stats()["parts_stored"] == 6, "an instant upload sends no part"


def test_progress_is_monotonic_and_reaches_total(
    client: vodupload.Client, make_file: MakeFile
) -> None:
    path = make_file(7 * PART + 99)
    size = path.stat().st_size
    seen: list[tuple[int, int]] = []
    hashed: list[tuple[int, int]] = []
    r = client.upload(
        path,
        progress=lambda done, total: seen.append((done, total)),
        hash_progress=lambda done, total: hashed.append((done, total)),
    )
    assert r.parts_uploaded == 8
    assert seen and all(t == size for _, t in seen)
    dones = [d for d, _ in seen]
    assert dones == sorted(dones), "done never decreases"
    assert dones[-1] == size
    assert hashed and hashed[-1] == (size, size)
    assert [d for d, _ in hashed] == sorted(d for d, _ in hashed)


def test_progress_runs_on_the_calling_thread(
    client: vodupload.Client, make_file: MakeFile
) -> None:
    threads: set[int] = set()
    client.upload(
        make_file(3 * PART), progress=lambda d, t: threads.add(threading.get_ident())
    )
    assert threads == {threading.get_ident()}


def test_options_and_result_helpers(
    emu: vodupload.Emulator, make_file: MakeFile
) -> None:
    c = client_for(emu, part_size=1 << 20, concurrency=2, signature_method="HmacSHA256")
    assert c.part_size == 1 << 20 and c.concurrency == 2 and c.endpoint == emu.endpoint
    assert "secret" not in repr(c).lower()
    path = make_file(1 << 20, name="clip.bin")
    r = c.upload(path, name="my clip", file_type="mp4", tags=("x",), screenshot=True)
    assert r.parts_total == 1
    d = r.to_dict()
    assert d["file_id"] == r.file_id and d["parts_total"] == 1 and d["instant"] is False
    assert repr(r).startswith("UploadResult(file_id=")


def test_credentials_from_environment(
    emu: vodupload.Emulator, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", emu.secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", emu.secret_key)
    c = vodupload.Client(endpoint=emu.endpoint, part_size=PART)
    assert not c.upload(make_file(PART)).instant


def test_tls_with_the_emulator_certificate(make_file: MakeFile) -> None:
    with vodupload.Emulator(tls=True) as emu:
        assert emu.endpoint.startswith("https://")
        assert emu.ca_file and emu.ca_cert_pem
        assert pathlib.Path(emu.ca_file).read_text() == emu.ca_cert_pem
        c = client_for(emu, ca_file=emu.ca_file)
        assert c.upload(make_file(2 * PART)).parts_uploaded == 2


def test_version_and_exports() -> None:
    assert vodupload.__version__.count(".") == 2
    assert vodupload.DEFAULT_ENDPOINT == "https://vod2.qcloud.com/v2/index.php"
    for name in vodupload.__all__:
        obj = getattr(vodupload, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"
