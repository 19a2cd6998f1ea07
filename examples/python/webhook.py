#!/usr/bin/env python3
"""Receive the VOD service's "Video Upload Completed" callbacks: check each one and print it.

The service POSTs each event's JSON to the app's callback URL ({"version": "4.0", "eventType":
"NewFileUpload", "data": {"fileId", "fileUrl", "fileName", "sourceType", ...}}), gives the
receiver 5 s, retries twice, and ignores what it answers beyond the status. The same events are
also kept in a queue the app can read with ``client.pull_events()`` and acknowledge with
``client.confirm_events()``: the callback is a fast path, the queue the reliable one.

    pip install ./python
    python examples/python/webhook.py --port 8000 --token "$(openssl rand -hex 16)"
        # then register http://YOUR-HOST:8000/vod/events?token=THAT-TOKEN as the callback URL

    python examples/python/webhook.py --demo
        # no account needed: an emulator in-process POSTs to this receiver after an upload;
        # the event is then also pulled from the queue and confirmed

What is checked before an event is accepted (anything else is refused, and the service retries):
  - the path is --path, the method POST;
  - the ``token`` query parameter equals --token (or $VOD_WEBHOOK_TOKEN), compared in constant
    time. The legacy callbacks are not signed, so a secret in the URL is what keeps strangers from
    posting fake events; serve it over HTTPS (behind a proxy) so the token is not sent in clear;
  - the body is at most 64 KiB of JSON that ``vodupload.parse_event`` accepts (an object with an
    ``eventType``); a malformed body gets 400 with the parser's reason.

Deliveries are at least once (a retried POST, or the same event pulled again): handle events
idempotently, keyed on the file id, as ``handle_event`` does.

Exit status: 0 (Ctrl-C stops the server; --demo: the event arrived by both paths), 1 on error.
"""

from __future__ import annotations

import argparse
import hmac
import http.server
import os
import sys
import tempfile
import threading
import urllib.parse
from typing import Callable

import vodupload

MAX_BODY = 64 * 1024


def handle_event(event: vodupload.Event, seen: set[str], lock: threading.Lock) -> None:
    """What the app does with an event: here, print it once per file."""
    if event.event_type != "NewFileUpload":
        print(f"event {event.event_type}: {event.raw}", flush=True)
        return
    with lock:
        if event.file_id in seen:
            print(f"again: file {event.file_id} (already handled)", flush=True)
            return
        if event.file_id is not None:
            seen.add(event.file_id)
    print(
        f"upload completed: file_id={event.file_id} name={event.file_name!r} "
        f"source={event.source_type} url={event.file_url} (version {event.version})",
        flush=True,
    )


def make_handler(
    path: str, token: str | None, on_event: Callable[[vodupload.Event], None]
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "vodupload-webhook/1"
        # Seconds a connection may stay silent. Without it, one that never sends a request (a
        # port scan, a stalled client) holds its thread forever, and Ctrl-C, which waits for the
        # handler threads, never finishes; the service sends its small body at once.
        timeout = 5

        def _answer(self, status: int, text: str) -> None:
            body = (text + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            url = urllib.parse.urlsplit(self.path)
            if url.path != path:
                return self._answer(404, "not found")
            if token is not None:
                given = urllib.parse.parse_qs(url.query).get("token", [""])[0]
                if not hmac.compare_digest(given.encode(), token.encode()):
                    return self._answer(403, "bad or missing token")
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self._answer(411, "Content-Length required")
            if not 0 <= length <= MAX_BODY:
                return self._answer(413, f"body larger than {MAX_BODY} bytes")
            body = self.rfile.read(length)
            try:
                event = vodupload.parse_event(body)
            except ValueError as e:
                return self._answer(400, f"not an event: {e}")
            # Answer first (the service waits at most 5 s), then handle.
            try:
                self._answer(200, "ok")
            except OSError:
                # The sender hung up once it had the status line, before the body was written:
                # it saw 200 and will not send this event again, so handle it all the same (a
                # sender that saw nothing retries, and handling is idempotent).
                pass
            on_event(event)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(405, "POST events here")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            # Never log the request line: its query holds the token.
            return

    return Handler


class GracefulServer(http.server.ThreadingHTTPServer):
    # Non-daemon handler threads: on Ctrl-C, leaving the `with` block (server_close) waits for
    # the events already answered to be handled, instead of dropping them.
    daemon_threads = False


def serve(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("VOD_WEBHOOK_TOKEN") or None
    if token is None:
        print("warning: no --token: anyone who can reach this port can post events", file=sys.stderr)
    seen: set[str] = set()
    lock = threading.Lock()
    handler = make_handler(args.path, token, lambda e: handle_event(e, seen, lock))
    with GracefulServer((args.host, args.port), handler) as httpd:
        port = httpd.server_address[1]
        print(f"listening on http://{args.host}:{port}{args.path}", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def demo() -> int:
    """A receiver on a free port, an emulator that POSTs to it, one upload, then the queue."""
    token = os.urandom(16).hex()
    arrived: list[vodupload.Event] = []
    got = threading.Event()

    def on_event(event: vodupload.Event) -> None:
        handle_event(event, set(), threading.Lock())
        arrived.append(event)
        got.set()

    handler = make_handler("/vod/events", token, on_event)
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        port = httpd.server_address[1]
        hook = f"http://127.0.0.1:{port}/vod/events?token={token}"
        with vodupload.Emulator(notify_url=hook) as emu, tempfile.TemporaryDirectory() as tmp:
            client = vodupload.Client(
                emu.secret_id, emu.secret_key, endpoint=emu.endpoint, events_endpoint=emu.endpoint
            )
            path = os.path.join(tmp, "demo.mp4")
            with open(path, "wb") as f:
                f.write(os.urandom(3 << 20))
            result = client.upload(path)
            print(f"uploaded: file_id={result.file_id}", flush=True)
            if not got.wait(10):
                print("error: no callback within 10 s", file=sys.stderr)
                return 1
            if arrived[0].file_id != result.file_id:
                print(f"error: the callback is for {arrived[0].file_id}", file=sys.stderr)
                return 1

            # The same event, from the reliable queue: pulled, handled, confirmed.
            pulled = client.pull_events()
            for handle, event in pulled:
                print(f"pulled: file_id={event.file_id} (msg handle {handle})", flush=True)
            client.confirm_events([handle for handle, _ in pulled])
            left = client.pull_events()
            print(f"confirmed {len(pulled)}; left in the queue: {len(left)}", flush=True)
            if [e.file_id for _, e in pulled] != [result.file_id] or left:
                print("error: the queue does not hold exactly that event", file=sys.stderr)
                return 1
        httpd.shutdown()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    ap.add_argument("--path", default="/vod/events", help="callback path (default /vod/events)")
    ap.add_argument("--token", help="required ?token= value (default $VOD_WEBHOOK_TOKEN)")
    ap.add_argument("--demo", action="store_true", help="run against an in-process emulator and exit")
    args = ap.parse_args()
    try:
        return demo() if args.demo else serve(args)
    except (vodupload.VodError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
