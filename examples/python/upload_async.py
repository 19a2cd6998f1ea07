#!/usr/bin/env python3
"""Upload videos from asyncio code (FastAPI, aiohttp...) with vodupload.AsyncClient.

    export TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=...
    python examples/python/upload_async.py a.mp4 b.mp4 --timeout 600

    python examples/python/upload_async.py --emulator   # no account needed: an emulator
                                                        # in-process and three generated files

The files upload concurrently, one task each, while the event loop keeps running (a ticker task
shows it); progress lines come from callables the loop runs. With --timeout, a file not done in
time is stopped: the service keeps its parts, and running the command again resumes it. In
--emulator mode the first file is given a timeout too short on purpose, then uploaded again to
show the resume.

Exit status: 0 when every file is uploaded, 1 otherwise (one line per failure on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from typing import Callable

import vodupload


def progress_printer(label: str) -> Callable[[int, int], None]:
    """A progress callable printing a line at each quarter; the event loop calls it."""
    last = [-1]

    def show(done: int, total: int) -> None:
        quarter = 4 * done // total if total else 4
        if quarter != last[0]:
            last[0] = quarter
            print(f"{label}: {25 * quarter}% of {total} bytes", flush=True)

    return show


async def upload_one(
    client: vodupload.AsyncClient, path: str, timeout: float | None
) -> vodupload.UploadResult:
    """One file; on timeout the upload is cancelled, and asyncio raises TimeoutError."""
    label = os.path.basename(path)
    return await asyncio.wait_for(
        client.upload(path, progress=progress_printer(label)), timeout=timeout
    )


async def ticker(stop: asyncio.Event) -> int:
    """Counts the loop's turns while uploads run: they run on threads, not on the loop."""
    ticks = 0
    while not stop.is_set():
        ticks += 1
        await asyncio.sleep(0.01)
    return ticks


async def upload_all(
    client: vodupload.AsyncClient, paths: list[str], timeout: float | None
) -> list[vodupload.UploadResult | BaseException]:
    stop = asyncio.Event()
    ticks = asyncio.ensure_future(ticker(stop))
    results = await asyncio.gather(
        *(upload_one(client, p, timeout) for p in paths), return_exceptions=True
    )
    stop.set()
    print(f"the event loop turned {await ticks} times during the uploads", flush=True)
    return results


def report(paths: list[str], results: list[vodupload.UploadResult | BaseException]) -> int:
    failed = 0
    for path, r in zip(paths, results):
        if isinstance(r, vodupload.UploadResult):
            print(
                f"{path}: file_id={r.file_id} parts sent={r.parts_uploaded} "
                f"already there={r.parts_skipped} instant={r.instant}"
            )
        elif isinstance(r, asyncio.TimeoutError):
            failed += 1
            print(f"{path}: timed out; the parts sent stay on the server, run again to resume",
                  file=sys.stderr)
        else:
            failed += 1
            print(f"{path}: {type(r).__name__}: {r}", file=sys.stderr)
    return 1 if failed else 0


async def emulator_demo() -> int:
    with tempfile.TemporaryDirectory() as d, vodupload.Emulator(latency_ms=20) as emu:
        paths = []
        for i, mib in enumerate((6, 3, 2)):
            p = os.path.join(d, f"clip{i}.mp4")
            with open(p, "wb") as f:
                f.write(os.urandom(mib << 20))
            paths.append(p)
        client = vodupload.AsyncClient(
            emu.secret_id, emu.secret_key, endpoint=emu.endpoint, part_size=512 << 10,
            concurrency=2,
        )
        print("the first file gets 0.05 s: it is stopped part way", flush=True)
        first = await asyncio.gather(upload_one(client, paths[0], 0.05), return_exceptions=True)
        report([os.path.basename(paths[0])], list(first))
        print("all three, no time limit: the first resumes", flush=True)
        results = await upload_all(client, paths, None)
        status = report([os.path.basename(p) for p in paths], results)
        resumed = results[0]
        if isinstance(resumed, vodupload.UploadResult) and isinstance(
            first[0], asyncio.TimeoutError
        ):
            print(f"resumed: {resumed.parts_skipped} of {resumed.parts_total} parts were there")
        return status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("files", nargs="*", help="videos to upload")
    ap.add_argument("--timeout", type=float, help="seconds allowed per file")
    ap.add_argument("--emulator", action="store_true", help="demo against an in-process emulator")
    args = ap.parse_args()
    if args.emulator:
        return asyncio.run(emulator_demo())
    if not args.files:
        ap.error("give files to upload, or --emulator")
    try:
        client = vodupload.AsyncClient()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return report(args.files, asyncio.run(upload_all(client, args.files, args.timeout)))


if __name__ == "__main__":
    sys.exit(main())
