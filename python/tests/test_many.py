"""Client.upload_many: several files through one client, a bounded number at once, one result or
exception per file in order, progress summed over the files."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import vodupload
from conftest import PART, MakeFile, client_for


class Watch:
    """What a relay saw: how many files were open (InitUpload sent, FinishUpload not answered)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.most_open = 0
        self.inits = 0
        self.second_init = threading.Event()
        self.hold_first_finish = False


@contextmanager
def relay(emu: vodupload.Emulator, watch: Watch) -> Iterator[str]:
    """A relay on 127.0.0.1 in front of the emulator that counts open files. With
    ``hold_first_finish`` the first FinishUpload waits until a second InitUpload arrives (at most
    30 s, then it goes on and the test's assertion fails): proof that files run side by side,
    whatever the machine's speed."""
    target = urlsplit(emu.endpoint)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            action = parse_qs(urlsplit(self.path).query).get("Action", [""])[0]
            if action == "InitUpload":
                # A file is open from its InitUpload's arrival: counted before the held
                # FinishUpload is let go, so the two overlap whatever the scheduling.
                with watch.lock:
                    watch.inits += 1
                    watch.open += 1
                    watch.most_open = max(watch.most_open, watch.open)
                    if watch.inits >= 2:
                        watch.second_init.set()
            if action == "FinishUpload" and watch.hold_first_finish:
                watch.hold_first_finish = False
                watch.second_init.wait(30)
            req = urllib.request.Request(
                f"{target.scheme}://{target.netloc}{self.path}", data=body, method="POST"
            )
            for k in ("Host", "Content-Type"):
                if self.headers.get(k):
                    req.add_header(k, self.headers[k])
            with urllib.request.urlopen(req, timeout=60) as resp:
                answer = resp.read()
            if action == "FinishUpload":
                # Closed before the answer goes back: the client cannot start another file
                # before it has this one's answer.
                with watch.lock:
                    watch.open -= 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{target.path}"
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


def test_results_in_order_one_per_file(
    emu: vodupload.Emulator, client: vodupload.Client, make_file: MakeFile, tmp_path: Path
) -> None:
    good = [make_file(3 * PART + 17), make_file(PART), make_file(2 * PART)]
    missing = tmp_path / "missing.mp4"
    empty = make_file(0)
    paths: list[str | Path] = [good[0], missing, good[1], empty, str(good[2])]
    seen: list[tuple[int, int]] = []
    results = client.upload_many(
        paths, jobs=2, tags=["batch"], progress=lambda d, t: seen.append((d, t))
    )
    assert len(results) == 5
    r0, r1, r2, r3, r4 = results
    assert isinstance(r0, vodupload.UploadResult) and r0.file_size == good[0].stat().st_size
    assert isinstance(r1, FileNotFoundError) and r1.filename == str(missing)
    assert isinstance(r2, vodupload.UploadResult) and r2.parts_total == 1
    assert isinstance(r3, ValueError) and "empty" in str(r3)
    assert isinstance(r4, vodupload.UploadResult) and r4.parts_total == 2
    assert len({r0.file_id, r2.file_id, r4.file_id}) == 3
    total = sum(p.stat().st_size for p in good)
    assert seen and seen[-1] == (total, total)
    dones = [d for d, _ in seen]
    assert dones == sorted(dones), "summed progress never goes back"
    assert emu.stats()["finish_calls"] == 3

    again = client.upload_many(good)
    assert all(isinstance(r, vodupload.UploadResult) and r.instant for r in again)


def test_files_run_side_by_side_up_to_jobs(emu: vodupload.Emulator, make_file: MakeFile) -> None:
    paths = [make_file(PART + i) for i in range(5)]
    watch = Watch()
    watch.hold_first_finish = True
    with relay(emu, watch) as endpoint:
        results = client_for(emu, endpoint=endpoint).upload_many(paths, jobs=2)
    assert all(isinstance(r, vodupload.UploadResult) for r in results), results
    assert watch.second_init.is_set()
    assert watch.most_open == 2, "two files at once, never more"

    one = Watch()
    with relay(emu, one) as endpoint:
        results = client_for(emu, endpoint=endpoint).upload_many(
            [make_file(PART) for _ in range(3)], jobs=1
        )
    assert all(isinstance(r, vodupload.UploadResult) for r in results)
    assert one.most_open == 1 and one.inits == 3


def test_cancel_stops_every_file_and_a_rerun_resumes(
    emu: vodupload.Emulator, make_file: MakeFile
) -> None:
    client = client_for(emu, concurrency=1)
    paths = [make_file(4 * PART) for _ in range(3)]
    token = vodupload.CancelToken()

    def progress(done: int, total: int) -> None:
        if done >= PART:
            token.cancel()

    results = client.upload_many(paths, jobs=3, progress=progress, cancel=token)
    assert all(isinstance(r, vodupload.UploadCancelled) for r in results), results
    stored = emu.stats()["parts_stored"]
    assert 0 < stored < 12
    again = client.upload_many(paths, jobs=3)
    assert all(isinstance(r, vodupload.UploadResult) for r in again), again
    assert sum(r.parts_skipped for r in again if isinstance(r, vodupload.UploadResult)) == stored


def test_a_progress_exception_stops_all_and_propagates(
    client: vodupload.Client, make_file: MakeFile
) -> None:
    class Stop(Exception):
        pass

    def progress(done: int, total: int) -> None:
        if done > 0:
            raise Stop

    with pytest.raises(Stop):
        client.upload_many([make_file(2 * PART) for _ in range(3)], progress=progress)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"paths": "a.mp4"}, TypeError, "paths must be an iterable of paths (a list...), not one"),
        ({"paths": Path("a.mp4")}, TypeError, "not one PosixPath"),
        ({"paths": [1]}, TypeError, "path must be a str or os.PathLike, not int"),
        ({"paths": [], "jobs": 0}, ValueError, "jobs 0 is out of range: use 1 to 64"),
        ({"paths": [], "jobs": 65}, ValueError, "jobs 65 is out of range: use 1 to 64"),
        (
            {"paths": ["x.mp4"], "class_id": -1},
            ValueError,
            "class_id -1 is out of range: use the id of a category (0 or more), or none",
        ),
        ({"paths": [], "progress": 3}, TypeError, "progress must be a callable"),
    ],
)
def test_bad_arguments_raise_before_anything_starts(
    emu: vodupload.Emulator,
    client: vodupload.Client,
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error) as info:
        client.upload_many(**kwargs)
    assert message in str(info.value)
    assert emu.stats()["requests"] == 0


def test_no_paths(client: vodupload.Client) -> None:
    assert client.upload_many([]) == []
    assert client.upload_many(iter(())) == []
