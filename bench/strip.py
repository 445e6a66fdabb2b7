"""W9: ``save()`` of a phone's photo stripped of its metadata against ``save()`` as it came.

One gunicorn app server (one gthread worker) serves ``bench/strip_app.py``. A JPEG of about
``--size`` MiB with a phone's Exif (GPS, device, serial number, maker notes), an ICC profile,
XMP, IPTC and a comment (``tests/support/photos.py``) is sent in one request (W1's way) to
``save()`` and to ``save(strip_metadata=True)``, alternating which goes first run by run after
a warm-up round. Target: the stripped throughput >= 0.9x the plain one (ratios taken round by
round, median). Every stored file is checked: the plain one byte for byte, the stripped one
free of every secret with the source's scan data.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
import client as http_client  # noqa: E402
from run import Server, machine  # noqa: E402

from support import photos  # noqa: E402

MIB = 1024 * 1024
TARGET = 0.9
RESULTS = HERE / "results"


def photo(directory: str, mib: int) -> str:
    """A photo of about ``mib`` MiB: noise (JPEG cannot shrink it) of a size to match."""
    pixels = int(mib * MIB / 0.77)  # about 0.77 byte a pixel at quality 90
    width = int((pixels * 4 / 3) ** 0.5)
    path = os.path.join(directory, "photo.jpg")
    Path(path).write_bytes(photos.jpeg(size=(width, width * 3 // 4)))
    return path


def check(step: str, stored: str, source: bytes) -> None:
    data = Path(stored).read_bytes()
    if step == "save" and data != source:
        raise SystemExit("W9: save() changed the file")
    if step == "strip" and (
        any(secret in data for secret in photos.SECRETS)
        or photos.scan_data(data) != photos.scan_data(source)
    ):
        raise SystemExit("W9: the stripped file kept metadata or lost image data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20, help="MiB (default 20)")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="w9-")
    try:
        source_path = photo(work, args.size)
        source = Path(source_path).read_bytes()
        size = len(source)
        bench_dir = os.path.join(work, "server")
        os.makedirs(bench_dir)
        server = Server(bench_dir, app="strip_app:create_app()")
        seconds: dict[str, list[float]] = {"save": [], "strip": []}
        stored_size = 0
        try:
            for index in range(-1, args.runs):
                order = ("save", "strip") if index % 2 == 0 else ("strip", "save")
                for step in order:
                    taken = http_client.single(server.port, f"/{step}", source_path, "photo.jpg")
                    stored = os.path.join(bench_dir, "saved", "photo.jpg")
                    check(step, stored, source)
                    if step == "strip":
                        stored_size = os.path.getsize(stored)
                    os.unlink(stored)
                    if index >= 0:
                        seconds[step].append(taken)
                if index >= 0:
                    print(
                        f"  run {index + 1}: save() {seconds['save'][-1] * 1000:.1f} ms, "
                        f"stripped {seconds['strip'][-1] * 1000:.1f} ms",
                        flush=True,
                    )
        finally:
            server.stop()
        report(args, size, stored_size, seconds, hashlib.sha256(source).hexdigest())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(args, size: int, stored_size: int, seconds: dict, digest: str) -> None:
    ratios = [plain / stripped for plain, stripped in zip(seconds["save"], seconds["strip"])]
    ratio = statistics.median(ratios)
    result = {
        "workload": f"W9: a {size / MIB:.1f} MiB JPEG with a phone's metadata, save() stripped "
        "against save() as it came",
        "runs": args.runs,
        "source_bytes": size,
        "source_sha256": digest,
        "stored_bytes": stored_size,
        "save_mb_per_s": size / statistics.median(seconds["save"]) / 1e6,
        "strip_mb_per_s": size / statistics.median(seconds["strip"]) / 1e6,
        "ratio": ratio,
        "target": TARGET,
        "met": ratio >= TARGET,
        "machine": machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "w9.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "w9.md").write_text(
        f"# W9: save() of a {size / MIB:.1f} MiB photo stripped of its metadata\n\n"
        f"Median of {args.runs} runs, one gunicorn worker, client and server over loopback; "
        "the ratio is taken round by round.\n\n"
        "| | save() | save(strip_metadata=True) |\n|---|---:|---:|\n"
        f"| MB/s | {result['save_mb_per_s']:.1f} | {result['strip_mb_per_s']:.1f} |\n\n"
        f"Stored: {size:,} bytes as it came, {stored_size:,} stripped.\n\n"
        f"Fastest run: save() {min(seconds['save']) * 1000:.1f} ms, stripped "
        f"{min(seconds['strip']) * 1000:.1f} ms.\n\n"
        f"Stripped throughput over plain: {ratio:.3f}× (target >= {TARGET}: "
        f"{'met' if result['met'] else 'not met'}).\n"
    )
    print((RESULTS / "w9.md").read_text())


if __name__ == "__main__":
    main()
