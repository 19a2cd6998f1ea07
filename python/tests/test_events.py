"""Issue #8, "Video Upload Completed": the callback POSTed to a receiver over a real socket,
pull_events() until confirm_events(), events kept across an emulator restart, parse_event() on
malformed input, errors, and examples/python/webhook.py --demo.

Every test that reads the queue uses its own emulator: a shared one would hold other tests'
events for the same credential.
"""

from __future__ import annotations

import http.server
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import vodupload
from conftest import PART, MakeFile, client_for

ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """A callback receiver on 127.0.0.1: each POST's (path, content type, body) goes on `posts`,
    answered 200."""

    def __init__(self) -> None:
        self.posts: queue.Queue[tuple[str, str, bytes]] = queue.Queue()
        posts = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                posts.put((self.path, self.headers.get("Content-Type", ""), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook?token=t") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_callback_arrives_with_the_file_id(receiver: Receiver, make_file: MakeFile) -> None:
    with vodupload.Emulator(notify_url=receiver.url()) as emu:
        path = make_file(PART + 100)
        result = client_for(emu).upload(path)
        hook, content_type, body = receiver.posts.get(timeout=10)
        assert hook == "/hook?token=t"
        assert content_type.startswith("application/json")
        event = vodupload.parse_event(body)
        assert event.file_id == result.file_id
        assert event.event_type == "NewFileUpload" and event.is_new_file_upload
        assert event.source_type == "ServerUpload"
        assert event.version == "4.0"
        assert event.file_url is not None and event.file_url.startswith("http")
        assert event.raw == body.decode()
        assert wait_for(lambda: emu.stats()["notify_delivered"] == 1)
        stats = emu.stats()
        assert stats["events_created"] == 1 and stats["notify_failed"] == 0
        # The same file again (an instant upload): no new event, no new POST.
        assert client_for(emu).upload(path).instant
        time.sleep(0.5)
        assert emu.stats()["events_created"] == 1 and receiver.posts.empty()


def test_pull_returns_events_until_confirmed(make_file: MakeFile) -> None:
    with vodupload.Emulator() as emu:
        client = client_for(emu, events_endpoint=emu.endpoint)
        assert client.events_endpoint == emu.endpoint
        assert client.pull_events() == []
        result = client.upload(make_file(PART))

        first = client.pull_events()
        second = client.pull_events()
        assert len(first) == 1 and len(second) == 1
        (h1, e1), (h2, e2) = first[0], second[0]
        assert isinstance(h1, str) and h1
        assert h1 == h2 and e1 == e2
        assert e1.file_id == e2.file_id == result.file_id
        assert isinstance(e1, vodupload.Event)

        client.confirm_events([h1])
        assert client.pull_events() == []
        client.confirm_events([h1])  # again: ignored by the service, no error
        calls = emu.stats()["confirm_calls"]
        client.confirm_events([])  # nothing to send
        client.confirm_events(iter(list[str]()))  # any iterable
        assert emu.stats()["confirm_calls"] == calls
        assert emu.stats()["events_confirmed"] == 1

        with pytest.raises(TypeError, match="list of handles"):
            client.confirm_events("abc")
        with pytest.raises(TypeError, match="list of handles"):
            client.confirm_events(b"abc")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="must be a str"):
            client.confirm_events([h1, 5])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="empty"):
            client.confirm_events([""])
        assert emu.stats()["confirm_calls"] == calls


def test_one_event_per_file(make_file: MakeFile) -> None:
    with vodupload.Emulator() as emu:
        client = client_for(emu, events_endpoint=emu.endpoint)
        path = make_file(PART)
        client.upload(path)
        assert client.upload(path).instant
        assert len(client.pull_events()) == 1
        assert emu.stats()["events_created"] == 1


def test_many_events_are_confirmed_in_batches(make_file: MakeFile) -> None:
    with vodupload.Emulator(rate_limit=False) as emu:
        client = client_for(emu, events_endpoint=emu.endpoint, rate_limit=False)
        for _ in range(18):
            client.upload(make_file(100))
        pulled = client.pull_events()
        assert len(pulled) == 16  # at most 16 per pull, oldest first
        client.confirm_events(h for h, _ in pulled)
        rest = client.pull_events()
        assert len(rest) == 2
        client.confirm_events([h for h, _ in rest] + [h for h, _ in pulled])  # 18: two requests
        assert client.pull_events() == []
        assert emu.stats()["events_confirmed"] == 18


def test_pull_releases_the_gil() -> None:
    with vodupload.Emulator(latency_ms=400) as emu:
        client = client_for(emu, events_endpoint=emu.endpoint)
        done = threading.Event()
        pulled: list[list[tuple[str, vodupload.Event]]] = []

        def pull() -> None:
            pulled.append(client.pull_events())
            done.set()

        t = threading.Thread(target=pull)
        t.start()
        ticks = 0
        while not done.wait(0.01):
            ticks += 1
        t.join()
        assert pulled == [[]]
        assert ticks >= 10, "this thread should run while another waits for PullEvent"


def test_restart_keeps_unconfirmed_events(tmp_path: Path, make_file: MakeFile) -> None:
    state = tmp_path / "state"
    with vodupload.Emulator(state_dir=state, secret_id="AKIDevents", secret_key="k1") as emu:
        client = client_for(emu, events_endpoint=emu.endpoint)
        result = client.upload(make_file(PART))
        before = client.pull_events()
        assert [e.file_id for _, e in before] == [result.file_id]

    # Restarted on the same state directory, with the same credential.
    with vodupload.Emulator(state_dir=state, secret_id="AKIDevents", secret_key="k1") as emu:
        client = client_for(emu, events_endpoint=emu.endpoint)
        after = client.pull_events()
        assert after == before
        client.confirm_events([h for h, _ in after])
        assert client.pull_events() == []

    # Another credential is another app: it never sees them.
    with vodupload.Emulator(state_dir=state, secret_id="AKIDother", secret_key="k2") as emu:
        assert client_for(emu, events_endpoint=emu.endpoint).pull_events() == []


def test_parse_event_malformed_and_tolerant() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        vodupload.parse_event(b'{"eventType":')
    with pytest.raises(ValueError, match="not an object"):
        vodupload.parse_event("[]")
    with pytest.raises(ValueError, match='no "eventType"'):
        vodupload.parse_event('{"data":{}}')
    with pytest.raises(ValueError, match="not a string"):
        vodupload.parse_event('{"eventType":5}')
    with pytest.raises(ValueError, match="UTF-8"):
        vodupload.parse_event(b"\xff")
    with pytest.raises(ValueError):
        vodupload.parse_event(b"")
    with pytest.raises(TypeError, match="bytes, bytearray, memoryview or str"):
        vodupload.parse_event(123)  # type: ignore[arg-type]

    text = (
        '{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":123,'
        '"fileName":"holiday","future":{"x":[1,2]}},"other":true}'
    )
    e = vodupload.parse_event(text)
    assert e.file_id == "123"  # a numeric id reads as its digits
    assert e.file_name == "holiday" and e.file_url is None and e.transcode_task_id is None
    assert e.to_dict()["data"]["future"] == {"x": [1, 2]}
    assert e.to_dict()["other"] is True
    assert e.raw == text
    for same in (text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        assert vodupload.parse_event(same) == e
    # Equal JSON values are equal events, whatever the spacing.
    assert vodupload.parse_event(text.replace(",", ", ")) == e
    assert e != vodupload.parse_event('{"eventType":"NewFileUpload"}')
    assert (e == "not an event") is False
    assert repr(e) == "Event(event_type='NewFileUpload', file_id='123', file_name='holiday')"

    other = vodupload.parse_event('{"eventType":"ProcedureStateChanged","data":{}}')
    assert other.event_type == "ProcedureStateChanged" and not other.is_new_file_upload
    assert other.file_id is None and other.version is None


def test_errors() -> None:
    with vodupload.Emulator() as emu:
        bad = vodupload.Client(emu.secret_id, "not-the-key", events_endpoint=emu.endpoint)
        with pytest.raises(vodupload.AuthError) as info:
            bad.pull_events()
        assert info.value.code == -10002
        assert "not-the-key" not in str(info.value)
        with pytest.raises(vodupload.AuthError):
            bad.confirm_events(["h"])

    with pytest.raises(ValueError, match="events endpoint"):
        vodupload.Client("AKIDx", "k", events_endpoint="ftp://x")
    with pytest.raises(ValueError, match="notify URL"):
        vodupload.Emulator(notify_url="ftp://x")
    with pytest.raises(ValueError, match="notify URL"):
        vodupload.Emulator(notify_url="http://user:pw@127.0.0.1/")

    assert vodupload.DEFAULT_EVENTS_ENDPOINT == "https://vod.api.qcloud.com/v2/index.php"
    assert vodupload.Client("AKIDx", "k").events_endpoint == vodupload.DEFAULT_EVENTS_ENDPOINT

    # Nothing listening there: NetworkError, after the retries.
    emu = vodupload.Emulator()
    gone = client_for(emu, events_endpoint=emu.endpoint, max_attempts=2)
    emu.stop()
    with pytest.raises(vodupload.NetworkError):
        gone.pull_events()


def test_webhook_example_demo() -> None:
    # The example imports the installed package; run from the repository root like CI does.
    p = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / "webhook.py"), "--demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "upload completed: file_id=" in p.stdout
    assert "left in the queue: 0" in p.stdout


def test_webhook_example_exits_despite_an_idle_connection() -> None:
    """A connection that never sends a request (a port scan, another program probing a port it
    believed closed) is dropped after the handler's timeout, so Ctrl-C still ends the receiver."""
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "python" / "webhook.py"), "--port", "0",
         "--token", "s3cret"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        port = int(line.split()[-1].split(":")[2].split("/")[0])
        with socket.create_connection(("127.0.0.1", port)) as idle:
            # A request answered after the idle connection was accepted: its handler thread runs.
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/vod/events?token=s3cret", data=b"{}", method="POST"
            )
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(req, timeout=10)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=30)
            assert idle.recv(1) == b"", "the receiver closed the idle connection"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err


def test_webhook_example_serves_and_checks() -> None:
    """The receiver mode: a token in the URL, the path, the JSON are checked; events print once."""
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "python" / "webhook.py"), "--port", "0",
         "--token", "s3cret"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        base = line.split()[-1].rsplit("/vod/events", 1)[0]

        def post(path: str, body: bytes) -> int:
            req = urllib.request.Request(base + path, data=body, method="POST")
            req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return int(r.status)
            except urllib.error.HTTPError as e:
                return int(e.code)

        event = b'{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":"42","fileName":"n"}}'
        assert post("/vod/events?token=wrong", event) == 403
        assert post("/vod/events", event) == 403
        assert post("/elsewhere?token=s3cret", event) == 404
        assert post("/vod/events?token=s3cret", b'{"eventType":') == 400
        assert post("/vod/events?token=s3cret", event) == 200
        assert post("/vod/events?token=s3cret", event) == 200  # a retried delivery
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert "upload completed: file_id=42 name='n'" in out
    assert "again: file 42 (already handled)" in out
    assert "s3cret" not in out + err
