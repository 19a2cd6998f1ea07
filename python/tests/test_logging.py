"""The core's log records reach Python's logging (logger "vodupload"); secrets never do."""

from __future__ import annotations

import logging

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


def test_records_reach_python_logging(
    client: vodupload.Client, make_file: MakeFile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vodupload")
    client.upload(make_file(2 * PART))
    ours = [r for r in caplog.records if r.name == "vodupload"]
    assert any("hashed" in r.getMessage() for r in ours)
    assert any(r.levelno == logging.DEBUG and "UploadPart" in r.getMessage() for r in ours)


def test_level_is_honoured(
    client: vodupload.Client, make_file: MakeFile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vodupload")
    client.upload(make_file(PART))
    assert not [r for r in caplog.records if r.name == "vodupload"]


def test_no_secret_in_logs_of_a_failing_upload(
    make_file: MakeFile, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_key = "WrongKey0123456789abcdef"
    with vodupload.Emulator(fail_rate=0.5, seed=7) as emu:
        caplog.set_level(logging.DEBUG, logger="vodupload")
        # Retries first (injected -10004s), then the signature is refused.
        ok = client_for(emu, max_attempts=10)
        ok.upload(make_file(4 * PART))
        bad = vodupload.Client(emu.secret_id, wrong_key, endpoint=emu.endpoint)
        with pytest.raises(vodupload.AuthError) as info:
            bad.upload(make_file(PART))
        text = "\n".join(r.getMessage() for r in caplog.records) + str(info.value)
        assert "retrying" in text and "-10002" in text, text
        for secret in (wrong_key, emu.secret_key):
            assert secret not in text
