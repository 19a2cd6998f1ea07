"""Parity with the core: every option the core lists is a keyword here and takes effect, every
result field it lists is readable. The lists come from the core at import
(``vodupload.CLIENT_OPTIONS``, ``UPLOAD_OPTIONS``, ``RESULT_FIELDS``), so an option added to the
core without this face fails here."""

from __future__ import annotations

import datetime
import inspect
import json
import os
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


def keywords(fn: Callable[..., object]) -> set[str]:
    try:
        signature = inspect.signature(fn)
    except ValueError:
        # CPython 3.9 shows no signature for an extension class built for the stable ABI; the
        # tests below pass every option to it by name, which proves the keywords as well.
        assert sys.version_info < (3, 10), f"{fn!r} has no signature"
        return set(vodupload.CLIENT_OPTIONS)
    return {
        name
        for name, p in signature.parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def test_the_lists_come_from_the_core() -> None:
    for names in (vodupload.CLIENT_OPTIONS, vodupload.UPLOAD_OPTIONS, vodupload.RESULT_FIELDS):
        assert isinstance(names, tuple) and names
        assert all(isinstance(n, str) and n.isidentifier() for n in names)
        assert len(set(names)) == len(names)
    # Spot checks that these are the core's lists, not empty or stale copies.
    assert "fingerprint_cache" in vodupload.CLIENT_OPTIONS
    assert "tags" in vodupload.UPLOAD_OPTIONS
    assert "retries" in vodupload.RESULT_FIELDS


def valid_client_values(tmp_path: Path) -> dict[str, tuple[Any, object]]:
    """For each client option: a valid value other than the default, and what
    ``Client.options`` reads back for it."""
    cache = tmp_path / "fingerprints"
    return {
        "endpoint": ("http://127.0.0.1:1/v2/index.php",) * 2,
        "region": ("bj",) * 2,
        "part_size": (PART,) * 2,
        "concurrency": (7,) * 2,
        "max_attempts": (3,) * 2,
        "retry_base_delay": (0.5, 0.5),
        "retry_max_delay": (datetime.timedelta(seconds=2.5), 2.5),
        "connect_timeout": (1.5, 1.5),
        "request_timeout": (30, 30.0),
        "ca_file": (None, None),  # filled in by the test: the file must hold a certificate
        "proxy": ("http://user:pw@127.0.0.1:3128", "http://user:***@127.0.0.1:3128"),
        "signature_method": ("HmacSHA256",) * 2,
        "rate_limit": (False, False),
        "rate_upload_part": (3000, 3000),
        "rate_init_finish": (60, 60),
        "pacing_url": ("redis://:pw@127.0.0.1:6379/2", "redis://:***@127.0.0.1:6379/2"),
        "fingerprint_cache": (cache, str(cache)),
        "events_endpoint": ("http://127.0.0.1:2/v2/index.php",) * 2,
    }


def test_every_client_option_is_a_keyword_and_takes_effect(tmp_path: Path) -> None:
    missing = set(vodupload.CLIENT_OPTIONS) - keywords(vodupload.Client)
    assert not missing, f"Client() lacks the core's options {sorted(missing)}"
    missing = set(vodupload.CLIENT_OPTIONS) - keywords(vodupload.AsyncClient)
    assert not missing, f"AsyncClient() lacks the core's options {sorted(missing)}"
    values = valid_client_values(tmp_path)
    untested = set(vodupload.CLIENT_OPTIONS) - set(values)
    assert not untested, f"add a valid value for {sorted(untested)} to this test"
    default = vodupload.Client("AKIDparity", "k").options
    assert list(default) == list(vodupload.CLIENT_OPTIONS), "Client.options reads every option"
    with vodupload.Emulator(tls=True) as tls_emu:
        assert tls_emu.ca_file is not None
        values["ca_file"] = (tls_emu.ca_file, tls_emu.ca_file)
        for name in vodupload.CLIENT_OPTIONS:
            given, shown = values[name]
            options = vodupload.Client("AKIDparity", "k", **{name: given}).options
            assert options[name] == shown, name
            assert vodupload.AsyncClient("AKIDparity", "k", **{name: given}).options == options
            assert options[name] != default[name], f"{name} left at its default"
            # Turning pacing off sets the account's rates to 0 ("not paced"): they read so.
            linked = {"rate_limit": {"rate_upload_part", "rate_init_finish"}}.get(name, set())
            others = {k: v for k, v in options.items() if k != name and k not in linked}
            assert others == {k: v for k, v in default.items() if k != name and k not in linked}
            assert all(options[k] == 0 for k in linked), name


def test_none_is_the_default() -> None:
    default = vodupload.Client("AKIDparity", "k").options
    nones: dict[str, Any] = {n: None for n in vodupload.CLIENT_OPTIONS if n != "rate_limit"}
    assert vodupload.Client("AKIDparity", "k", **nones).options == default


def test_options_hide_nothing_secret_but_the_proxy_password() -> None:
    c = vodupload.Client("AKIDparity", "topsecret", proxy="http://me:hunter2@127.0.0.1:3128")
    shown = repr(c) + repr(c.options)
    assert "topsecret" not in shown and "hunter2" not in shown


SERVER_FIELD = {
    "name": "fileName",
    "file_type": "fileType",
    "tags": "tags",
    "class_id": "classId",
    "transcode": "isTranscode",
    "screenshot": "isScreenshot",
    "watermark": "isWatermark",
}
VALID_UPLOAD: dict[str, tuple[Any, object]] = {
    "name": ("clip one", "clip one"),
    "file_type": ("MOV", "mov"),
    "tags": (["a", "b c"], ["a", "b c"]),
    "class_id": (3, 3),
    "transcode": (True, 1),
    "screenshot": (True, 1),
    "watermark": (True, 1),
}


def received(emu: vodupload.Emulator, file_id: str) -> dict[str, Any]:
    """What the emulator's InitUpload received for a finished file, from its inspector's JSON."""
    base = emu.endpoint.rsplit("/v2/index.php", 1)[0]
    with urllib.request.urlopen(f"{base}/_emulator/state", timeout=10) as answer:
        state = json.loads(answer.read())
    found: list[dict[str, Any]] = [f for f in state["files"] if f["fileId"] == file_id]
    assert found, f"{file_id} is not among the emulator's finished files"
    return found[0]


def test_every_upload_option_is_a_keyword_and_reaches_the_server(
    emu: vodupload.Emulator, client: vodupload.Client, make_file: MakeFile
) -> None:
    upload_calls: list[Callable[..., object]] = [
        vodupload.Client.upload,
        vodupload.Client.begin,
        vodupload.AsyncClient.upload,
        vodupload.AsyncClient.begin,
    ]
    for fn in upload_calls:
        missing = set(vodupload.UPLOAD_OPTIONS) - keywords(fn)
        assert not missing, f"{fn.__qualname__} lacks the core's options {sorted(missing)}"
    # upload_many names each file after its path: every other option applies to all files.
    for fn in (vodupload.Client.upload_many, vodupload.AsyncClient.upload_many):
        assert set(vodupload.UPLOAD_OPTIONS) - keywords(fn) == {"name"}, fn.__qualname__
    untested = set(vodupload.UPLOAD_OPTIONS) - (set(VALID_UPLOAD) & set(SERVER_FIELD))
    assert not untested, f"add a valid value for {sorted(untested)} to this test"
    for name in vodupload.UPLOAD_OPTIONS:
        given, sent = VALID_UPLOAD[name]
        r = client.upload(make_file(1000), **{name: given})
        assert received(emu, r.file_id)[SERVER_FIELD[name]] == sent, name


def test_every_result_field_is_readable(client: vodupload.Client, make_file: MakeFile) -> None:
    r = client.upload(make_file(PART + 1))
    d = r.to_dict()
    assert list(d) == list(vodupload.RESULT_FIELDS)
    for name in vodupload.RESULT_FIELDS:
        assert getattr(r, name) == d[name], name
        assert f"{name}=" in repr(r) or name in ("file_sha1",), name
    assert r.retries == 0


def test_retries_counts_requests_sent_again(make_file: MakeFile) -> None:
    # One part at a time so the seeded faults fall on the same requests every run.
    with vodupload.Emulator(fail_rate=0.4, seed=7) as emu:
        c = client_for(emu, concurrency=1, max_attempts=20)
        r = c.upload(make_file(6 * PART))
        assert r.parts_uploaded == 6
        assert r.retries == emu.stats()["faults_injected"] > 0


def test_fingerprint_cache_is_used(tmp_path: Path, make_file: MakeFile) -> None:
    cache = tmp_path / "fp"
    path = make_file(3 * PART)
    with vodupload.Emulator() as emu:
        r = client_for(emu, fingerprint_cache=cache).upload(path)
    assert r.parts_uploaded == 3
    assert cache.is_dir() and any(cache.iterdir()), "the fingerprints were saved"
    assert os.stat(cache).st_mode & 0o077 == 0, "the cache directory is private"
    with vodupload.Emulator() as emu:
        again = client_for(emu, fingerprint_cache=os.fspath(cache)).upload(path)
    assert again.file_sha1 == r.file_sha1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"part_size": 2.0}, "part_size must be an int, not float"),
        ({"concurrency": True}, "concurrency must be an int or \"auto\", not bool"),
        ({"request_timeout": "10"}, "request_timeout must be a number of seconds"),
        ({"connect_timeout": False}, "connect_timeout must be a number of seconds"),
        ({"endpoint": b"http://x/"}, "endpoint must be a str, not bytes"),
        ({"fingerprint_cache": 5}, "fingerprint_cache must be a str or os.PathLike, not int"),
    ],
)
def test_wrong_python_types_are_type_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as info:
        vodupload.Client("AKIDparity", "k", **options)
    assert str(info.value).startswith(message)


def test_concurrency_is_auto_by_default_or_fixed(emu: vodupload.Emulator, tmp_path: Path) -> None:
    auto = client_for(emu, concurrency="auto")
    assert vodupload.Client(emu.secret_id, emu.secret_key).concurrency == "auto"
    path = tmp_path / "auto.mp4"
    path.write_bytes(os.urandom(3 * 1048576 + 5))
    r = auto.upload(path)
    assert 1 <= r.concurrency_peak <= 64 and r.to_dict()["concurrency_peak"] == r.concurrency_peak
    fixed = client_for(emu, concurrency=2)
    assert fixed.concurrency == 2
    other = tmp_path / "fixed.mp4"
    other.write_bytes(os.urandom(3 * 1048576 + 6))
    assert 1 <= fixed.upload(other).concurrency_peak <= 2
    with pytest.raises(ValueError, match='concurrency must be auto or a number of parts from 1 to 64, not "lots"'):
        client_for(emu, concurrency="lots")
