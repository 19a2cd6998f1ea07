"""Shared fixtures: an in-process emulator (real HTTP on 127.0.0.1), a client for it, and files."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import vodupload

PART = 512 * 1024  # the smaller of the two part sizes the service accepts


@pytest.fixture
def emu() -> Iterator[vodupload.Emulator]:
    with vodupload.Emulator() as e:
        yield e


def client_for(emu: vodupload.Emulator, **options: object) -> vodupload.Client:
    """A client for `emu` with small parts and quick retries, so failure tests stay fast."""
    kw: dict[str, object] = dict(
        endpoint=emu.endpoint,
        part_size=PART,
        concurrency=4,
        retry_base_delay=0.01,
        retry_max_delay=0.05,
    )
    kw.update(options)
    return vodupload.Client(emu.secret_id, emu.secret_key, **kw)  # type: ignore[arg-type]


@pytest.fixture
def client(emu: vodupload.Emulator) -> vodupload.Client:
    return client_for(emu)


MakeFile = Callable[..., Path]


@pytest.fixture
def make_file(tmp_path: Path) -> MakeFile:
    """make_file(size, name="video.mp4") writes `size` random bytes (so each file is new to the
    server) and returns its path."""
    counter = [0]

    def make(size: int, name: str | None = None) -> Path:
        counter[0] += 1
        p = tmp_path / (name or f"video{counter[0]}.mp4")
        p.write_bytes(os.urandom(size))
        return p

    return make
