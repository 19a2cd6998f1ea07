"""Bad argument types raise TypeError, bad values ValueError, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


@pytest.mark.parametrize(
    "options, message",
    [
        ({"part_size": 1000}, "part size"),
        ({"part_size": -1}, "part size -1"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 1000}, "concurrency"),
        ({"max_attempts": 0}, "max.attempts"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"connect_timeout": -1.5}, "connect_timeout"),
        ({"retry_base_delay": float("nan")}, "retry_base_delay"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"endpoint": "ftp://x/y"}, "scheme"),
        ({"region": "g z"}, "region"),
        ({"signature_method": "md5"}, "signature method"),
    ],
)
def test_bad_client_values(
    emu: vodupload.Emulator, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        client_for(emu, **options)


def test_missing_ca_file(emu: vodupload.Emulator) -> None:
    with pytest.raises(FileNotFoundError, match="CA file"):
        client_for(emu, ca_file="/nonexistent/ca.pem")


@pytest.mark.parametrize(
    "options",
    [
        {"part_size": "big"},
        {"concurrency": 2.5},
        {"request_timeout": "10"},
        {"rate_limit": "yes"},
        {"endpoint": 42},
    ],
)
def test_bad_client_types(emu: vodupload.Emulator, options: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        client_for(emu, **options)


def test_credentials(emu: vodupload.Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="TENCENTCLOUD_SECRET_ID"):
        vodupload.Client()
    with pytest.raises(ValueError, match="SecretKey"):
        vodupload.Client("AKIDx")
    with pytest.raises(ValueError, match="whitespace"):
        vodupload.Client("AKIDx", "key\n")
    with pytest.raises(TypeError):
        vodupload.Client(123, "key")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"name": "a/b"}, "name"),
        ({"name": "x" * 41}, "40"),
        ({"file_type": "m p4"}, "type"),
        ({"class_id": -1}, "class_id -1"),
        ({"tags": ["ok", ""]}, 'tag "" is empty'),
    ],
)
def test_bad_upload_values(
    emu: vodupload.Emulator,
    client: vodupload.Client,
    make_file: MakeFile,
    options: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        client.upload(make_file(PART), **options)
    assert emu.stats()["requests"] == 0


@pytest.mark.parametrize(
    "options",
    [
        {"tags": "a"},  # a str is not a list of tags
        {"tags": [1, 2]},
        {"transcode": 1},
        {"class_id": "3"},
        {"progress": 5},
        {"hash_progress": "print"},
        {"cancel": True},
    ],
)
def test_bad_upload_types(
    emu: vodupload.Emulator,
    client: vodupload.Client,
    make_file: MakeFile,
    options: dict[str, Any],
) -> None:
    with pytest.raises(TypeError):
        client.upload(make_file(PART), **options)
    assert emu.stats()["requests"] == 0


def test_bad_paths(client: vodupload.Client, make_file: MakeFile) -> None:
    with pytest.raises(TypeError, match="path"):
        client.upload(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.upload(make_file(PART), "positional-name")  # type: ignore[call-arg]
    empty = make_file(0)
    with pytest.raises(ValueError, match="empty"):
        client.upload(empty)
    no_ext = make_file(PART, name="noext")
    with pytest.raises(ValueError, match="extension"):
        client.upload(no_ext)
    assert client.upload(no_ext, file_type="mp4").parts_total == 1


def test_bad_emulator_values() -> None:
    with pytest.raises(ValueError, match="fail_rate"):
        vodupload.Emulator(fail_rate=1.5)
    with pytest.raises(ValueError, match="latency_ms"):
        vodupload.Emulator(latency_ms=-1)
    for bad in (0.0, -5.0, float("nan")):
        with pytest.raises(ValueError, match="bandwidth .* MB/s"):
            vodupload.Emulator(bandwidth=bad)
    with pytest.raises(ValueError, match="secret_key"):
        vodupload.Emulator(secret_id="only-id")
    with pytest.raises(ValueError, match="listen"):
        vodupload.Emulator(listen="nowhere")
    with pytest.raises(TypeError):
        vodupload.Emulator(tls="yes")  # type: ignore[arg-type]
