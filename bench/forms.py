"""W8: a file into a form's ``DropzoneField`` (kept pending, then claimed) against ``save()``.

One gunicorn app server (one gthread worker) serves ``bench/forms_app.py``. A file of
``--size`` MiB goes as a browser sends it into a field: the form's page is fetched (its session
and the zone's ticket), the file is POSTed to the field's pending endpoint in one request with
the ticket's header, and the form is submitted with the reference the answer gave; the view
times ``claim()`` alone. Against ``save()`` of the same file sent the same way (W1's way); the
two alternate run by run after a warm-up round.

On disk: the pending throughput over ``save()``'s (target >= 0.9) and the claim's time, for
the big file and for 4 KiB files (target: a median <= 10 ms whatever the size, as a claim
links and moves no bytes). In S3 (SeaweedFS on loopback): the claim's time over one ``CopyObject`` of a pending
object of the same size, timed in the same worker with the same client (target <= 1.2), the
two alternating which goes first and which of two pending objects each takes; the pending and
``save()`` throughputs are reported too.
Every claimed file is compared with its source (sha256).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
import client as http_client  # noqa: E402
from run import Server, data_file, machine, small_file  # noqa: E402
from s3 import app_env, empty  # noqa: E402

from support.s3server import S3Server, make_client  # noqa: E402

MIB = 1024 * 1024
SMALL_CLAIMS = 100
TARGETS = {"pending_vs_save": 0.9, "disk_claim_ms": 10.0, "s3_claim_vs_copy": 1.2}
CONFIG = re.compile(
    r'<script type="application/json" data-dropzone-config[^>]*>(.*?)</script>', re.S
)


class Browser:
    """What a page with the form does: one session, the field's ticket, its uploads and submit."""

    def __init__(self, port: int) -> None:
        self.client = http_client.Client(port)
        self.config = json.loads(
            CONFIG.search(self.client.request("GET", "/post").decode()).group(1)
        )
        self.client.headers = dict(self.config["options"]["headers"])

    def pending(self, source: str) -> tuple[float, str]:
        """The file into the field: seconds, and its reference."""
        with open(source, "rb") as data:
            start = time.perf_counter()
            answer = self.client.upload(
                self.config["url"], os.path.basename(source), data, 0, os.path.getsize(source)
            )
            seconds = time.perf_counter() - start
        (entry,) = answer["files"]
        return seconds, entry["reference"]

    def submit(self, reference: str) -> dict:
        body = urlencode({"photos": reference}).encode()
        return json.loads(
            self.client.request(
                "POST", "/post", body, {"Content-Type": "application/x-www-form-urlencoded"}
            )
        )

    def copy(self, pick: str) -> float:
        return json.loads(self.client.request("POST", f"/copy?pick={pick}"))["copy_seconds"]

    def close(self) -> None:
        self.client.close()


def save(port: int, source: str) -> float:
    return http_client.single(port, "/save", source, os.path.basename(source))


def rounds(runs: int):
    """Run -1 warms up; each run after it starts with the other contender."""
    for index in range(-1, runs):
        yield index, index % 2 == 0


def on_disk(args, work: str, source: str, digest: str) -> dict[str, Any]:
    bench_dir = os.path.join(work, "disk")
    os.makedirs(bench_dir)
    server = Server(bench_dir, app="forms_app:create_app()")
    pending_s, save_s, claim_s = [], [], []
    written: dict[str, list[float]] = {"pending": [], "save": []}
    size = os.path.getsize(source)
    try:
        for index, pending_first in rounds(args.disk_runs):
            for step in ("pending", "save") if pending_first else ("save", "pending"):
                before = server.io_written()
                if step == "save":
                    seconds = save(server.port, source)
                else:
                    browser = Browser(server.port)
                    seconds, reference = browser.pending(source)
                    answer = browser.submit(reference)
                    browser.close()
                    ((location, size),) = answer["saved"]
                    stored = os.path.join(bench_dir, "field", location)
                    if size != os.path.getsize(source) or sha256(stored) != digest:
                        raise SystemExit("W8: the claimed file differs from the source")
                    if index >= 0:
                        claim_s.append(answer["claim_seconds"])
                if index >= 0:
                    (pending_s if step == "pending" else save_s).append(seconds)
                    written[step].append((server.io_written() - before) / size)
            for folder in ("field", "saved"):
                shutil.rmtree(os.path.join(bench_dir, folder), ignore_errors=True)
            if index >= 0:
                print(
                    f"  disk run {index + 1}: pending {pending_s[-1]:.2f} s, save() {save_s[-1]:.2f} s, "
                    f"claim {claim_s[-1] * 1000:.2f} ms",
                    flush=True,
                )
        small = small_file(work)
        small_claims = []
        os.sync()  # the big files' writeback and removal, apart from the small claims' time
        browser = Browser(server.port)
        for _ in range(SMALL_CLAIMS + 1):
            small_claims.append(browser.submit(browser.pending(small)[1])["claim_seconds"])
        browser.close()
    finally:
        server.stop()
    pairs = [(size / p) / (size / s) for p, s in zip(pending_s, save_s)]
    return {
        "pending_mb_per_s": round(size / statistics.median(pending_s) / 1e6, 1),
        "save_mb_per_s": round(size / statistics.median(save_s) / 1e6, 1),
        "pending_vs_save": round(statistics.median(pairs), 3),
        "pending_vs_save_by_round": [round(pair, 3) for pair in pairs],
        "written_per_byte": {
            step: round(statistics.median(values), 3) for step, values in written.items()
        },
        "claim_ms": round(statistics.median(claim_s) * 1000, 3),
        "claim_ms_worst": round(max(claim_s) * 1000, 3),
        "claim_4kib_ms": round(statistics.median(small_claims[1:]) * 1000, 3),
        "claim_4kib_ms_worst": round(max(small_claims[1:]) * 1000, 3),
    }


def in_s3(args, work: str, source: str, digest: str) -> dict[str, Any]:
    s3 = S3Server()
    s3.start(Path(work) / "s3")
    bench_dir = os.path.join(work, "s3-app")
    os.makedirs(bench_dir)
    server = None
    pending_s, save_s, claim_s, copy_s = [], [], [], []
    try:
        bucket = "bench"
        make_client(s3).create_bucket(Bucket=bucket)
        server = Server(
            bench_dir, app="forms_app:create_s3_app()", env=app_env(s3, bucket), pin=False
        )
        for index, copy_first in rounds(args.runs):
            # Two pending objects of the file: one claimed, one copied; which is the older of the
            # two, and which goes first, change round by round.
            browser = Browser(server.port)
            seconds, first = browser.pending(source)
            second = browser.pending(source)[1]
            claimed, copied_one = (first, "newest") if copy_first else (second, "oldest")
            if copy_first:
                copied = browser.copy(copied_one)
            answer = browser.submit(claimed)
            if not copy_first:
                copied = browser.copy(copied_one)
            browser.close()
            ((location, size),) = answer["saved"]
            body = make_client(s3).get_object(Bucket=bucket, Key=location)["Body"].read()
            if len(body) != os.path.getsize(source) or hashlib.sha256(body).hexdigest() != digest:
                raise SystemExit("W8: the claimed object differs from the source")
            saved = save(server.port, source)
            empty(s3, bucket)
            if index >= 0:
                pending_s.append(seconds)
                save_s.append(saved)
                claim_s.append(answer["claim_seconds"])
                copy_s.append(copied)
                print(
                    f"  S3 run {index + 1}: claim {claim_s[-1] * 1000:.0f} ms, CopyObject {copied * 1000:.0f} ms",
                    flush=True,
                )
    finally:
        if server is not None:
            server.stop()
        s3.stop()
    size = os.path.getsize(source)
    return {
        "pending_mb_per_s": round(size / statistics.median(pending_s) / 1e6, 1),
        "save_mb_per_s": round(size / statistics.median(save_s) / 1e6, 1),
        "claim_ms": round(statistics.median(claim_s) * 1000, 1),
        "copy_object_ms": round(statistics.median(copy_s) * 1000, 1),
        "claim_vs_copy": round(statistics.median(c / o for c, o in zip(claim_s, copy_s)), 3),
    }


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while block := data.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=512, help="MiB")
    parser.add_argument("--runs", type=int, default=5, help="in S3")
    parser.add_argument("--disk-runs", type=int, default=11, help="on disk (a few seconds each)")
    parser.add_argument("--output", default=str(HERE / "results"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dropzone-bench-w8-") as work:
        source = data_file(work, "w8.bin", args.size * MIB)
        digest = sha256(source)
        print(
            f"W8: {args.size} MiB into a form's field, pending then claimed, against save()",
            flush=True,
        )
        disk = on_disk(args, work, source, digest)
        s3 = in_s3(args, work, source, digest)
    met = {
        "pending_vs_save": disk["pending_vs_save"] >= TARGETS["pending_vs_save"],
        "disk_claim_ms": max(disk["claim_ms"], disk["claim_4kib_ms"]) <= TARGETS["disk_claim_ms"],
        "s3_claim_vs_copy": s3["claim_vs_copy"] <= TARGETS["s3_claim_vs_copy"],
    }
    result = {
        "machine": machine(),
        "size_mib": args.size,
        "runs": args.runs,
        "disk_runs": args.disk_runs,
        "disk": disk,
        "s3": s3,
        "targets": {
            "pending_vs_save": ">= 0.9",
            "disk_claim_ms": "<= 10, median, for either size",
            "s3_claim_vs_copy": "<= 1.2",
        },
        "met": met,
    }
    output = Path(args.output)
    output.mkdir(exist_ok=True)
    (output / "w8.json").write_text(json.dumps(result, indent=2) + "\n")
    (output / "w8.md").write_text(
        f"# W8: {args.size} MiB into a form's DropzoneField (pending, then claim) against save()\n\n"
        f"Median of {args.disk_runs} runs on disk and {args.runs} in S3, one gunicorn worker, client and server "
        "over loopback; the ratios are taken round by round.\n\n"
        "| | pending (field) | save() | ratio |\n|---|---:|---:|---:|\n"
        f"| disk, MB/s | {disk['pending_mb_per_s']} | {disk['save_mb_per_s']} | {disk['pending_vs_save']} |\n"
        f"| S3 (SeaweedFS), MB/s | {s3['pending_mb_per_s']} | {s3['save_mb_per_s']} | |\n\n"
        f"Disk written per byte uploaded: {disk['written_per_byte']['pending']} into the field, "
        f"{disk['written_per_byte']['save']} by save().\n\n"
        f"Claim on disk: {disk['claim_ms']} ms for {args.size} MiB (worst {disk['claim_ms_worst']}), "
        f"{disk['claim_4kib_ms']} ms for 4 KiB (worst {disk['claim_4kib_ms_worst']}, {SMALL_CLAIMS} claims).\n\n"
        f"Claim in S3: {s3['claim_ms']} ms against one CopyObject of the same size, {s3['copy_object_ms']} ms: "
        f"{s3['claim_vs_copy']}×.\n\n"
        f"Targets: pending >= 0.9× save() ({'met' if met['pending_vs_save'] else 'not met'}); disk claim <= 10 ms "
        f"({'met' if met['disk_claim_ms'] else 'not met'}); S3 claim <= 1.2× one CopyObject "
        f"({'met' if met['s3_claim_vs_copy'] else 'not met'}).\n"
    )
    print((output / "w8.md").read_text())
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
