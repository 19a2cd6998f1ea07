"""Every exception class, each from a real failure against the emulator."""

from __future__ import annotations

import builtins
import os
import sys

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


def test_wrong_key_is_auth_error(emu: vodupload.Emulator, make_file: MakeFile) -> None:
    bad = vodupload.Client(emu.secret_id, "not-the-key-123", endpoint=emu.endpoint)
    with pytest.raises(vodupload.AuthError) as info:
        bad.upload(make_file(PART))
    e = info.value
    assert isinstance(e, vodupload.VodError)
    assert e.code == -10002 and e.can_retry is False and e.kind == "auth"
    assert "-10002" in str(e) and e.message == str(e)
    assert "not-the-key-123" not in str(e) + repr(e)
    assert emu.stats()["init_calls"] == 1, "an auth failure is not retried"


def test_unknown_secret_id_is_auth_error(emu: vodupload.Emulator, make_file: MakeFile) -> None:
    bad = vodupload.Client("AKIDnobody", emu.secret_key, endpoint=emu.endpoint)
    with pytest.raises(vodupload.AuthError):
        bad.upload(make_file(PART))


def test_server_error_after_the_retry_budget(make_file: MakeFile) -> None:
    with vodupload.Emulator(fail_rate=1.0) as emu:
        c = client_for(emu, max_attempts=3)
        with pytest.raises(vodupload.ServerError) as info:
            c.upload(make_file(PART))
        e = info.value
        assert e.code == -10004 and e.can_retry is True and e.kind == "server"
        assert e.message and "3 attempts" in str(e)
        assert emu.stats()["init_calls"] == 3


def test_stopped_emulator_is_network_error(make_file: MakeFile) -> None:
    emu = vodupload.Emulator()
    c = client_for(emu, max_attempts=2)
    emu.stop()
    assert not emu.running
    emu.stop()  # again: nothing
    with pytest.raises(vodupload.NetworkError) as info:
        c.upload(make_file(PART))
    assert isinstance(info.value, ConnectionError)
    assert isinstance(info.value, vodupload.VodError)
    assert info.value.code is None and info.value.kind == "network"


def test_dropped_connections_are_network_error(make_file: MakeFile) -> None:
    with vodupload.Emulator(drop_rate=1.0) as emu:
        with pytest.raises(vodupload.NetworkError):
            client_for(emu, max_attempts=2).upload(make_file(PART))
        assert emu.stats()["faults_injected"] == 2


def test_tls_without_the_ca_is_network_error(make_file: MakeFile) -> None:
    with vodupload.Emulator(tls=True) as emu:
        with pytest.raises(vodupload.NetworkError, match="TLS"):
            client_for(emu).upload(make_file(PART))


def test_slow_answers_are_timeout_error(make_file: MakeFile) -> None:
    with vodupload.Emulator(slow_rate=1.0, slow_ms=1500) as emu:
        c = client_for(emu, max_attempts=1, request_timeout=0.3)
        with pytest.raises(vodupload.TimeoutError) as info:
            c.upload(make_file(PART))
        assert isinstance(info.value, builtins.TimeoutError)
        assert isinstance(info.value, vodupload.VodError)
        assert info.value.kind == "timeout"


def test_html_502_is_protocol_error(make_file: MakeFile) -> None:
    with vodupload.Emulator(http502_rate=1.0) as emu:
        with pytest.raises(vodupload.ProtocolError, match="502"):
            client_for(emu, max_attempts=2).upload(make_file(PART))


def test_file_changed_between_steps(client: vodupload.Client, make_file: MakeFile) -> None:
    path = make_file(3 * PART)
    up = client.begin(path)
    up.upload_part(0)
    with open(path, "ab") as f:
        f.write(b"more")
    with pytest.raises(vodupload.FileChangedError) as info:
        up.upload_part(1)
    assert info.value.kind == "file_changed"


def test_cancelled_is_upload_cancelled(client: vodupload.Client, make_file: MakeFile) -> None:
    token = vodupload.CancelToken()
    token.cancel()
    with pytest.raises(vodupload.UploadCancelled):
        client.upload(make_file(PART), cancel=token)


def test_missing_file(client: vodupload.Client, tmp_path: os.PathLike[str]) -> None:
    missing = os.path.join(tmp_path, "nope.mp4")
    with pytest.raises(FileNotFoundError) as info:
        client.upload(missing)
    assert info.value.filename == missing
    assert "No such file" in str(info.value)
    with pytest.raises(FileNotFoundError):
        client.begin(missing)


def test_directory(client: vodupload.Client, tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(IsADirectoryError):
        client.upload(tmp_path)


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file"
)
def test_unreadable_file(client: vodupload.Client, make_file: MakeFile) -> None:
    path = make_file(PART)
    path.chmod(0)
    with pytest.raises(PermissionError):
        client.upload(path)


def test_exception_classes() -> None:
    for cls in (
        vodupload.AuthError,
        vodupload.ServerError,
        vodupload.ProtocolError,
        vodupload.FileChangedError,
        vodupload.UploadCancelled,
        vodupload.NetworkError,
        vodupload.TimeoutError,
    ):
        assert issubclass(cls, vodupload.VodError)
        assert cls.__module__ == "vodupload"
        assert cls.__doc__
    assert issubclass(vodupload.NetworkError, ConnectionError)
    assert issubclass(vodupload.TimeoutError, builtins.TimeoutError)
    assert not issubclass(vodupload.AuthError, vodupload.ServerError)
    # Raised by user code (a mock, say): the attributes still exist.
    e = vodupload.ServerError("x")
    assert e.code is None and e.can_retry is False
