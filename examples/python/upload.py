#!/usr/bin/env python3
"""Upload a video with the vodupload Python package, with a progress bar.

    pip install ./python tqdm                    # tqdm is optional: without it, plain lines
    export TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=...
    python examples/python/upload.py holiday.mp4 --tag travel

    python examples/python/upload.py --emulator  # no account needed: an emulator in-process and
                                                 # a generated 8 MiB file, uploaded twice (the
                                                 # second time is an instant upload)

Exit status: 0 on success, 1 on a vodupload or file error (one line on stderr), 130 on Ctrl-C
(run it again: the upload resumes where it stopped).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from typing import Any

import vodupload



def _tqdm() -> Any:
    """tqdm's progress bar class, or None when tqdm is not installed (it is optional)."""
    try:
        import tqdm
    except ImportError:
        return None
    return tqdm.tqdm


TQDM = _tqdm()

class ProgressBars:
    """``hashing`` and ``uploading`` are the ``hash_progress`` and ``progress`` callables: one tqdm
    bar per phase when tqdm is installed, else a line at every quarter."""

    def __init__(self) -> None:
        self.phase = ""
        self.bar: Any = None
        self.last = -1

    def _show(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.phase, self.last = phase, -1
            if TQDM is not None:
                self.bar = TQDM(desc=phase, total=total, unit="B", unit_scale=True, unit_divisor=1024)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)  # `done` is cumulative and never decreases
            return
        quarter = 4 * done // total
        if quarter != self.last:
            self.last = quarter
            print(f"{phase}: {25 * quarter:3d}% of {total} bytes", file=sys.stderr)

    def hashing(self, done: int, total: int) -> None:
        self._show("hashing", done, total)

    def uploading(self, done: int, total: int) -> None:
        self._show("uploading", done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def upload(client: vodupload.Client, path: str, tags: list[str]) -> vodupload.UploadResult:
    bars = ProgressBars()
    try:
        return client.upload(path, tags=tags, progress=bars.uploading, hash_progress=bars.hashing)
    finally:
        bars.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", help="the video to upload (default with --emulator: a generated one)")
    ap.add_argument("--emulator", action="store_true", help="upload to an emulator started in-process")
    ap.add_argument("--endpoint", help=f"upload API URL (default {vodupload.DEFAULT_ENDPOINT})")
    ap.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log requests and retries")
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)

    with contextlib.ExitStack() as stack:
        if args.emulator:
            emu = stack.enter_context(vodupload.Emulator())
            client = vodupload.Client(emu.secret_id, emu.secret_key, endpoint=emu.endpoint)
        elif args.file:
            # Credentials from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY.
            client = vodupload.Client(endpoint=args.endpoint)
        else:
            ap.error("give a file to upload, or --emulator")
        path = args.file
        if path is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            path = os.path.join(tmp, "generated.mp4")
            with open(path, "wb") as f:
                f.write(os.urandom(8 << 20))

        try:
            r = upload(client, path, args.tag)
            print(f"uploaded {path}: file_id={r.file_id} url={r.url}")
            print(f"  {r.parts_uploaded} parts sent, {r.parts_skipped} already there, {r.elapsed:.2f} s")
            if args.emulator:
                again = upload(client, path, args.tag)
                print(f"again: instant={again.instant}, same file_id: {again.file_id == r.file_id}")
        except vodupload.AuthError as e:
            print(f"error: the credentials were refused ({e.code}): {e}", file=sys.stderr)
            return 1
        except (vodupload.VodError, OSError, ValueError) as e:
            # NetworkError / TimeoutError / ServerError...: the parts sent stay on the server,
            # so running the same command again resumes.
            print(f"error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted: run the same command again to resume", file=sys.stderr)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
