"""The bad-input table (docs/reliability.md), Python column: one test per row, in its order,
each asserting the exception class and a phrase of its message; the option rows assert the whole
message, which is the core's (the same text in every face). Inputs the user controls are refused
before any request reaches the emulator.

The protocol rows talk to a fake upload host (``http.server`` on 127.0.0.1, a thread) that
answers every request with the same canned body; the network and protocol rows use
``max_attempts=2`` so they stay fast.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import vodupload
from conftest import client_for

NOBODY = 65534


def fast_client(
    endpoint: str, secret_id: str = "AKIDbadinput", secret_key: str = "k"
) -> vodupload.Client:
    return vodupload.Client(
        secret_id, secret_key, endpoint=endpoint, max_attempts=2, retry_base_delay=0.01,
        retry_max_delay=0.05,
    )


@contextmanager
def fake_host(body: bytes) -> Iterator[tuple[str, list[int]]]:
    """A fake upload host answering every POST with HTTP 200 and `body` as text/html; yields its
    endpoint and a list that counts the requests it answered."""
    requests: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            requests.append(1)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass  # the client stopped reading (the huge body): expected

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v2/index.php", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2/index.php"


def small_file(tmp_path: Path, name: str = "good.mp4", size: int = 3000) -> Path:
    p = tmp_path / name
    p.write_bytes(os.urandom(size))
    return p


# ---- the rows, in the table's order --------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_file() -> None:
    """Root reads any file whatever its mode, so as root the upload runs in a forked child that
    dropped to nobody; the file's directory is open to all, so only the file's own mode stands in
    the way. Where the child cannot drop its privileges the row is skipped, with the reason."""
    d = tempfile.mkdtemp(prefix="vodupload-unreadable-")
    try:
        os.chmod(d, 0o755)
        path = os.path.join(d, "secret.mp4")
        with open(path, "wb") as f:
            f.write(b"x" * 100)
        os.chmod(path, 0)
        # No request may be made: an endpoint nobody listens on would turn one into NetworkError.
        endpoint = closed_port_endpoint()
        if os.geteuid() != 0:
            with pytest.raises(PermissionError, match="Permission denied") as info:
                fast_client(endpoint).upload(path)
            assert info.value.filename == path
            return
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            try:
                os.close(r)
                try:
                    os.setgroups([])
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                except OSError as e:
                    os.write(w, f"SKIP|setuid({NOBODY}) fails here: {e}".encode())
                    os._exit(0)
                if os.access(path, os.R_OK):
                    os.write(w, b"READABLE|")
                    os._exit(0)
                try:
                    fast_client(endpoint).upload(path)
                    out = "no error|"
                except BaseException as e:
                    out = f"{type(e).__name__}|{e}|{getattr(e, 'filename', None)}"
                os.write(w, out.encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            out = f.read().decode()
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, out
        kind, _, message = out.partition("|")
        if kind == "SKIP":
            pytest.skip(
                f"running as root, and {message}: no process of this test can be refused a file"
            )
        assert kind == "PermissionError", out
        assert "Permission denied" in message and message.endswith(f"|{path}"), out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_missing_file(emu: vodupload.Emulator, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.mp4")
    with pytest.raises(FileNotFoundError, match="No such file") as info:
        client_for(emu).upload(missing)
    assert info.value.filename == missing
    assert emu.stats()["requests"] == 0


def test_empty_file(emu: vodupload.Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the file is empty"):
        client_for(emu).upload(small_file(tmp_path, "empty.mp4", 0))
    assert emu.stats()["requests"] == 0


def test_directory(emu: vodupload.Emulator, tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="Is a directory"):
        client_for(emu).upload(tmp_path)
    assert emu.stats()["requests"] == 0


def test_fifo(emu: vodupload.Emulator, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        client_for(emu).upload(fifo)
    assert emu.stats()["requests"] == 0


def test_non_utf8_path_uploads(emu: vodupload.Emulator, tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"clip-\xff\xfe.mp4")
    with open(raw, "wb") as f:
        f.write(os.urandom(5000))
    path = os.fsdecode(raw)  # 'clip-\udcff\udcfe.mp4': how Python spells such a name
    r = client_for(emu).upload(path)
    assert r.parts_total == 1 and r.file_size == 5000
    assert client_for(emu).upload(Path(path)).instant


def test_no_extension_no_type(emu: vodupload.Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no extension"):
        client_for(emu).upload(small_file(tmp_path, "noext"))
    assert emu.stats()["requests"] == 0


def test_name_over_40_bytes(emu: vodupload.Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is 41 bytes; the service accepts at most 40"):
        client_for(emu).upload(small_file(tmp_path), name="x" * 41)
    assert emu.stats()["requests"] == 0


@pytest.mark.parametrize("char", list('\\/:*?"<>'))
def test_name_with_a_forbidden_character(
    emu: vodupload.Emulator, tmp_path: Path, char: str
) -> None:
    shown = "\\\\" if char == "\\" else char  # the message quotes names and characters escaped
    with pytest.raises(ValueError, match=re.escape(f"contains '{shown}'")):
        client_for(emu).upload(small_file(tmp_path), name=f"a{char}b")
    assert emu.stats()["requests"] == 0


def test_bad_part_size(emu: vodupload.Emulator) -> None:
    with pytest.raises(ValueError) as info:
        client_for(emu, part_size=1000)
    assert str(info.value) == (
        "part size 1000 is not accepted by the service: use 524288 (512 KiB) or 1048576 (1 MiB)"
    )


def test_zero_concurrency(emu: vodupload.Emulator) -> None:
    with pytest.raises(ValueError) as info:
        client_for(emu, concurrency=0)
    assert str(info.value) == "concurrency 0 is out of range: use 1 to 64"


def test_empty_secret_key(emu: vodupload.Emulator) -> None:
    with pytest.raises(ValueError, match="the SecretKey is empty"):
        vodupload.Client(emu.secret_id, "", endpoint=emu.endpoint)


def test_secret_key_with_a_newline(emu: vodupload.Emulator) -> None:
    with pytest.raises(ValueError, match="whitespace") as info:
        vodupload.Client(emu.secret_id, emu.secret_key + "\n", endpoint=emu.endpoint)
    assert emu.secret_key not in str(info.value) + repr(info.value)


def test_no_credentials(emu: vodupload.Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="no credentials.*TENCENTCLOUD_SECRET_ID"):
        vodupload.Client(endpoint=emu.endpoint)


def test_wrong_secret_key(emu: vodupload.Emulator, tmp_path: Path) -> None:
    with pytest.raises(vodupload.AuthError, match="-10002") as info:
        fast_client(emu.endpoint, emu.secret_id, "wrong").upload(small_file(tmp_path))
    assert info.value.code == -10002 and info.value.can_retry is False
    assert emu.stats()["init_calls"] == 1, "an auth failure is not retried"


def test_endpoint_not_a_url() -> None:
    with pytest.raises(ValueError, match="not a usable URL"):
        vodupload.Client("AKIDx", "k", endpoint="vod2 dot qcloud")


def test_unreachable_endpoint(tmp_path: Path) -> None:
    endpoint = closed_port_endpoint()
    with pytest.raises(vodupload.NetworkError, match="cannot connect") as info:
        fast_client(endpoint).upload(small_file(tmp_path))
    assert endpoint.split("/")[2] in str(info.value)
    assert info.value.can_retry is True


def test_server_answering_html(tmp_path: Path) -> None:
    with fake_host(b"<html><body>Welcome to nginx!</body></html>") as (endpoint, requests):
        with pytest.raises(vodupload.ProtocolError, match="not JSON.*<html>"):
            fast_client(endpoint).upload(small_file(tmp_path))
    assert len(requests) == 2, "a malformed answer is retried, up to max_attempts"


def test_json_without_code(tmp_path: Path) -> None:
    with fake_host(b'{"message":"hello"}') as (endpoint, requests):
        with pytest.raises(vodupload.ProtocolError, match='no numeric "code"'):
            fast_client(endpoint).upload(small_file(tmp_path))
    assert len(requests) >= 1


def test_huge_response_body(tmp_path: Path) -> None:
    with fake_host(b" " * (4 << 20)) as (endpoint, requests):
        with pytest.raises(
            vodupload.ProtocolError,
            match=r"larger than \d+ bytes, more than this request can legitimately get",
        ):
            fast_client(endpoint).upload(small_file(tmp_path))
    assert len(requests) >= 1


# ---- the option rows: the core's rule and message, whole -------------------------------------


def timeout_message(name: str, limit: int, given: str) -> str:
    return f"{name} must be more than 0 and at most {limit} seconds, not {given}"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"request_timeout": 0}, timeout_message("request_timeout", 86400, "0")),
        ({"connect_timeout": 0.0}, timeout_message("connect_timeout", 86400, "0")),
        ({"connect_timeout": -1.5}, timeout_message("connect_timeout", 86400, "-1.5")),
        ({"request_timeout": -5}, timeout_message("request_timeout", 86400, "-5")),
        ({"request_timeout": 10**6}, timeout_message("request_timeout", 86400, "1000000")),
        ({"request_timeout": float("inf")}, timeout_message("request_timeout", 86400, "inf")),
        ({"connect_timeout": float("nan")}, timeout_message("connect_timeout", 86400, "NaN")),
        ({"retry_base_delay": 0}, timeout_message("retry_base_delay", 3600, "0")),
        ({"retry_max_delay": 86400}, timeout_message("retry_max_delay", 3600, "86400")),
        ({"max_attempts": 0}, "max_attempts 0 is out of range: use 1 to 100 (1 means no retries)"),
        (
            {"max_attempts": 1 << 40},
            "max_attempts 1099511627776 is out of range: use 1 to 100 (1 means no retries)",
        ),
        ({"concurrency": 65}, "concurrency 65 is out of range: use 1 to 64"),
        ({"concurrency": -1}, "concurrency -1 is out of range: use 1 to 64"),
        (
            {"part_size": -1},
            "part size -1 is not accepted by the service: use 524288 (512 KiB) or 1048576 (1 MiB)",
        ),
        ({"proxy": "::not a url"}, 'proxy "::not a url" is not usable: invalid proxy url'),
        ({"proxy": "http://[::1"}, 'proxy "http://[::1" is not usable: invalid proxy url'),
        ({"region": "g z"}, 'region "g z" is not valid: use e.g. gz, bj, sh, hk, ca'),
        ({"signature_method": "md5"}, 'unknown signature method "md5": use HmacSHA1 or HmacSHA256'),
    ],
)
def test_bad_client_option(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        vodupload.Client("AKIDbadinput", "k", **options)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_fingerprint_cache_writable_by_others(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(ValueError) as info:
        vodupload.Client("AKIDbadinput", "k", fingerprint_cache=shared)
    assert str(info.value) == (
        f"the fingerprint cache directory {shared} is writable by other users (mode 777): "
        "another user could plant fingerprints that make an upload end under another file's "
        "id; make it private (chmod 700, owned by you) or choose another directory"
    )


def test_fingerprint_cache_that_is_a_file(tmp_path: Path) -> None:
    not_a_dir = small_file(tmp_path, "cache")
    with pytest.raises(ValueError) as info:
        vodupload.Client("AKIDbadinput", "k", fingerprint_cache=str(not_a_dir))
    assert str(info.value) == (
        f"the fingerprint cache directory {not_a_dir} is not a directory; choose another path"
    )


def test_negative_class_id(emu: vodupload.Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        client_for(emu).upload(small_file(tmp_path), class_id=-1)
    assert str(info.value) == (
        "class_id -1 is out of range: use the id of a category (0 or more), or none"
    )
    assert emu.stats()["requests"] == 0


def test_name_of_only_spaces(emu: vodupload.Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        client_for(emu).begin(small_file(tmp_path), name="   ")
    assert str(info.value) == (
        'the video name "   " is empty or only spaces, which the service refuses; pass a name'
    )
    assert emu.stats()["requests"] == 0


def test_file_named_only_dots(emu: vodupload.Emulator, tmp_path: Path) -> None:
    path = small_file(tmp_path, "....mp4")
    with pytest.raises(ValueError) as info:
        client_for(emu).upload(path)
    assert str(info.value) == (
        f'cannot name the video after {path}: the video name "..." is only dots, which the '
        "service refuses (it reads as a path); pass a name"
    )
    assert emu.stats()["requests"] == 0
    assert client_for(emu).upload(path, name="dots").parts_total == 1
