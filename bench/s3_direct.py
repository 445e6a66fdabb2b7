"""W6: a file uploaded direct to S3 (``DROPZONE_S3_DIRECT``), against boto3's own upload.

SeaweedFS (a real S3 server) runs on loopback; one gunicorn app server (one gthread worker)
serves ``bench/s3_direct_app.py``, with 8 MiB parts. A file of ``--size`` MiB is uploaded as a
browser does it: ``start`` on the app (it judges the file and presigns a URL per part), the parts
PUT to SeaweedFS's URLs with http.client, 4 in flight (one keep-alive connection per thread, the
body sent from the file with sendfile, as ``bench/client.py`` sends every body), then
``complete`` on the app (it checks the parts, copies the first part where the browser cannot
change it, sniffs its first bytes, copies it in as part 1 and completes the upload where the file
is stored: no copy of the whole file). Against ``upload_file`` of boto3 with 8 MiB parts and 4 threads to the
same server; the two alternate run by run, each round starting with the other one, after a
warm-up round.

Reported: the median throughputs and their ratio (target >= 0.9), the time of each step of a
direct upload and the app's time waiting on each S3 operation, the app worker's CPU time per
upload (user + sys from /proc/<pid>/stat before start and after complete; its threads'
schedstat too, in ns), the request bytes the app received, and its S3 requests. Every stored
object is read back and compared (sha256), and no multipart upload may be left open.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
from run import Server, data_file, machine  # noqa: E402
from s3 import CHUNK, IN_FLIGHT, app_env, boto3_upload, empty  # noqa: E402

from support.s3server import S3Server, make_client  # noqa: E402

MIB = 1024 * 1024
TARGET = 0.9
NAME = "w6.bin"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid``, all its threads, in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15


def cpu_ns_threads(pid: int) -> int:
    """The CPU time of the threads of process ``pid`` now running, in ns (schedstat: precise,
    where /proc/<pid>/stat counts in clock ticks); a thread that ends takes its time along."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


class App:
    """The app's endpoints with the page's session cookie, each request on a new connection
    (gunicorn closes one idle for 2 s, as while the parts are sent; a browser reconnects)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookie = ""
        self.rules: dict[str, str] = {}  # the page's signed zone rules, sent as the zone sends them

    def open_page(self, path: str) -> None:
        """Load the page with the zone: the session cookie, and the zone's rules."""
        status, html = self.call("GET", path)
        found = re.search(
            rb'<script type="application/json" data-dropzone-config>(.*?)</script>', html, re.S
        )
        if status != 200 or found is None:
            raise SystemExit(f"W6: {path} has no zone ({status})")
        self.rules = {
            "X-Dropzone-Zone": json.loads(found.group(1))["options"]["headers"]["X-Dropzone-Zone"]
        }

    def call(
        self, method: str, path: str, body: Optional[dict[str, Any]] = None
    ) -> tuple[int, bytes]:
        self.connection.close()  # the next request connects
        headers = {"Cookie": self.cookie, **self.rules} if self.cookie else dict(self.rules)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        answer = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        return response.status, answer

    def json(self, method: str, path: str, body: Optional[dict[str, Any]] = None) -> Any:
        status, answer = self.call(method, path, body)
        if status != 200:
            raise RuntimeError(f"{path}: {status} {answer[:300]!r}")
        return json.loads(answer)

    def close(self) -> None:
        self.connection.close()


class Parts:
    """PUTs parts to presigned URLs: one keep-alive connection per thread, each body sent
    from the file with sendfile (no copy through Python), as a retry on a new connection."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.local = threading.local()
        self.lock = threading.Lock()
        self.opened: list[Any] = []
        self.retries: list[str] = []

    def _connection(self, host: str, port: int) -> http.client.HTTPConnection:
        local = self.local
        if getattr(local, "connection", None) is None:
            local.connection = http.client.HTTPConnection(host, port, timeout=600)
            if not hasattr(local, "file"):
                local.file = open(self.source, "rb")
                with self.lock:
                    self.opened.append(local.file)
        return local.connection

    def put(self, url: str, offset: int, length: int) -> None:
        parts = urlsplit(url)
        for _ in range(4):  # as Dropzone does (retryChunks), on a new connection
            connection = self._connection(parts.hostname or "127.0.0.1", parts.port or 80)
            try:
                connection.putrequest(
                    "PUT", f"{parts.path}?{parts.query}", skip_accept_encoding=True
                )
                connection.putheader("Content-Length", str(length))
                connection.endheaders()
                if length:
                    connection.sock.sendfile(self.local.file, offset, length)
                response = connection.getresponse()
                answer = response.read()
                if response.status == 200:
                    return
                raise RuntimeError(f"part at {offset}: {response.status} {answer[:200]!r}")
            except (OSError, RuntimeError, http.client.HTTPException) as error:
                self.retries.append(f"part at {offset}: {error!r}"[:200])
                connection.close()
                self.local.connection = None
        raise RuntimeError(f"part at {offset} failed 4 times: {self.retries[-4:]}")

    def close(self) -> None:
        for each in self.opened:
            each.close()


def direct(app: App, source: str, size: int) -> dict[str, float]:
    """One direct upload, as a browser makes it; the seconds of each step and in all."""
    sender = Parts(source)
    began = time.perf_counter()
    answer = app.json("POST", "/dropzone/direct/start", {"name": NAME, "size": size, "type": ""})
    started = time.perf_counter()
    part_size, links = answer["partSize"], answer["urls"]
    assert len(links) == answer["parts"] == max(1, math.ceil(size / part_size)), answer["parts"]

    def send(number: int) -> None:
        offset = number * part_size
        sender.put(links[number], offset, min(part_size, size - offset))

    try:
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            list(pool.map(send, range(len(links))))
    finally:
        sender.close()
    sent = time.perf_counter()
    stored = app.json("POST", "/dropzone/direct/complete", {"upload": answer["upload"]})["stored"]
    ended = time.perf_counter()
    for retry in sender.retries:
        print("retried:", retry, file=sys.stderr)
    if [entry["stored_name"] for entry in stored] != [NAME]:
        raise SystemExit(f"W6: stored as {stored!r}, not {NAME!r}")
    return {
        "seconds": ended - began,
        "start": started - began,
        "parts": sent - started,
        "complete": ended - sent,
    }


def sha256_of(client: Any, bucket: str, key: str) -> str:
    digest = hashlib.sha256()
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    for block in iter(lambda: body.read(MIB), b""):
        digest.update(block)
    return digest.hexdigest()


def check_bucket(client: Any, bucket: str, key: str, digest: str, what: str) -> None:
    """The object at ``key`` is the source, byte for byte, and no multipart upload is open."""
    if sha256_of(client, bucket, key) != digest:
        raise SystemExit(f"W6: {what}: the stored object differs from the source")
    open_uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    if open_uploads:
        raise SystemExit(
            f"W6: {what}: multipart uploads left open: {[u['Key'] for u in open_uploads]}"
        )


def leftovers(client: Any, bucket: str, keep: set[str]) -> list[str]:
    """Keys under w6/ besides ``keep``, the sweep's timestamp and the upload's ended claim
    (kept until the sweep): what a direct upload leaves."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="w6/")
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", ())]
    return [
        key
        for key in keys
        if key not in keep
        and not key.endswith("_dropzone/last-clean")
        and not (
            key.endswith(".claim")
            and client.head_object(Bucket=bucket, Key=key)["Metadata"].get("fdz-state") == "ended"
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=512, help="MiB (default 512)")
    parser.add_argument(
        "--runs", type=int, default=5, help="recorded rounds after the warm-up (default 5)"
    )
    parser.add_argument("--output", default=str(HERE / "results"))
    args = parser.parse_args()
    payload = args.size * MIB
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        source = data_file(work, NAME, payload)
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        s3 = S3Server()
        s3.start(Path(work) / "s3")
        server: Optional[Server] = None
        try:
            bucket = "bench"
            s3_client = make_client(s3)
            s3_client.create_bucket(Bucket=bucket)
            env = app_env(s3, bucket)
            folder = Path(work) / "server"
            folder.mkdir()
            server = Server(str(folder), app="s3_direct_app:create_app()", env=env, pin=False)
            app = App(server.port)
            app.open_page(
                "/page"
            )  # the page with the zone: the session, its client id and the rules
            if not app.cookie:
                raise SystemExit("W6: the page set no session cookie")
            app.json("GET", "/stats")  # the S3 client made, counters at zero
            runs: list[dict[str, Any]] = []
            theirs: list[float] = []
            run: dict[str, Any] = {}
            seconds = 0.0
            for round_number in range(args.runs + 1):  # the first round warms up
                order = ("direct", "boto3") if round_number % 2 else ("boto3", "direct")
                for contender in order:
                    if contender == "direct":
                        cpu_before, ns_before = (
                            cpu_seconds(server.worker),
                            cpu_ns_threads(server.worker),
                        )
                        run = direct(app, source, payload)
                        run["cpu_seconds"] = cpu_seconds(server.worker) - cpu_before
                        run["cpu_seconds_schedstat"] = (
                            cpu_ns_threads(server.worker) - ns_before
                        ) / 1e9
                        stats = app.json("GET", "/stats")
                        run["app_body_bytes"] = stats["body_bytes"]
                        run["app_body_bytes_read"] = stats["body_bytes_read"]
                        run["app_requests"] = stats["requests"]
                        run["s3_requests"] = stats["s3_requests"]
                        run["s3_ms"] = stats["s3_ms"]
                        key = f"w6/{NAME}"
                        check_bucket(s3_client, bucket, key, digest, "direct")
                        left = leftovers(s3_client, bucket, {key})
                        if left:
                            raise SystemExit(f"W6: direct upload left {left}")
                        if round_number:
                            runs.append(run)
                    else:
                        key = f"boto3/{NAME}"
                        seconds = boto3_upload(s3, bucket, source, key)
                        check_bucket(s3_client, bucket, key, digest, "boto3")
                        if round_number:
                            theirs.append(seconds)
                    empty(s3, bucket)
                label = f"run {round_number}" if round_number else "warm-up"
                print(
                    f"  {label}: direct {payload / run['seconds'] / 1e6:6.1f} MB/s "
                    f"(start {run['start'] * 1e3:.0f} ms, parts {run['parts']:.2f} s, "
                    f"complete {run['complete'] * 1e3:.0f} ms, app CPU {run['cpu_seconds'] * 1e3:.0f} ms), "
                    f"boto3 {payload / seconds / 1e6:6.1f} MB/s",
                    flush=True,
                )
        finally:
            if server is not None:
                server.stop()
            s3.stop()
    elapsed = time.perf_counter() - began
    result = summarize(args, runs, theirs, elapsed)
    write(Path(args.output), args, result)
    print(json.dumps({name: value for name, value in result.items() if name != "raw"}, indent=2))
    return 0


def summarize(
    args: Any, runs: list[dict[str, Any]], theirs: list[float], elapsed: float
) -> dict[str, Any]:
    payload = args.size * MIB
    ours_rate = payload / statistics.median(run["seconds"] for run in runs) / 1e6
    boto3_rate = payload / statistics.median(theirs) / 1e6
    cpu_ms = statistics.median(run["cpu_seconds"] for run in runs) * 1e3
    body = statistics.median(run["app_body_bytes"] for run in runs)
    return {
        "machine": machine(),
        "size_mib": args.size,
        "part_mib": CHUNK // MIB,
        "in_flight": IN_FLIGHT,
        "runs": args.runs,
        "direct_mb_per_s": round(ours_rate, 1),
        "boto3_mb_per_s": round(boto3_rate, 1),
        "ratio": round(ours_rate / boto3_rate, 3),
        "ratio_by_round_median": round(
            statistics.median(seconds / run["seconds"] for run, seconds in zip(runs, theirs)), 3
        ),
        "direct_steps_median": {
            "start_ms": round(statistics.median(run["start"] for run in runs) * 1e3, 1),
            "parts_s": round(statistics.median(run["parts"] for run in runs), 3),
            "complete_ms": round(statistics.median(run["complete"] for run in runs) * 1e3, 1),
        },
        "direct_without_complete_mb_per_s": round(
            payload / statistics.median(run["start"] + run["parts"] for run in runs) / 1e6, 1
        ),
        "app_s3_ms_median": {
            name: round(statistics.median(run["s3_ms"].get(name, 0.0) for run in runs), 1)
            for name in sorted(runs[-1]["s3_ms"])
        },
        "app_cpu_ms_per_upload": round(cpu_ms, 1),
        "app_cpu_ms_per_mib": round(cpu_ms / args.size, 3),
        "app_cpu_ms_by_run": [round(run["cpu_seconds"] * 1e3, 1) for run in runs],
        "app_cpu_resolution_ms": round(1e3 / TICKS, 1),
        "app_cpu_ms_per_upload_schedstat": round(
            statistics.median(run["cpu_seconds_schedstat"] for run in runs) * 1e3, 1
        ),
        "app_body_bytes_per_upload": body,
        "app_body_bytes_read_per_upload": statistics.median(
            run["app_body_bytes_read"] for run in runs
        ),
        "app_requests_per_upload": runs[-1]["app_requests"],
        "app_s3_requests_per_upload": dict(sorted(runs[-1]["s3_requests"].items())),
        "checks": "every object read back equal (sha256) to the source; no multipart upload left open; "
        "a direct upload leaves only its file (and its ended claim, until the sweep)",
        "target": {"ratio": f">= {TARGET}"},
        "met": ours_rate / boto3_rate >= TARGET,
        "bench_seconds": round(elapsed, 1),
        "raw": {"direct": runs, "boto3_seconds": theirs},
    }


def write(output: Path, args: Any, result: dict[str, Any]) -> None:
    output.mkdir(exist_ok=True)
    (output / "w6.json").write_text(json.dumps(result, indent=2) + "\n")
    steps = result["direct_steps_median"]
    s3_calls = result["app_s3_requests_per_upload"]
    by_operation = ", ".join(f"{name} {count}" for name, count in s3_calls.items())
    s3_time = ", ".join(
        f"{name} {ms} ms"
        for name, ms in sorted(result["app_s3_ms_median"].items(), key=lambda item: -item[1])
    )
    info = result["machine"]
    (output / "w6.md").write_text(
        f"# W6: {args.size} MiB direct to SeaweedFS, {CHUNK // MIB} MiB parts, {IN_FLIGHT} in flight\n\n"
        f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, gunicorn {info['gunicorn']} "
        f"(one gthread worker); client, app and SeaweedFS on one machine over loopback; "
        f"median of {args.runs} runs after a warm-up.\n\n"
        "| | MB/s (median) |\n|---|---|\n"
        f"| direct (start on the app, parts to S3 with http.client, complete on the app) | "
        f"{result['direct_mb_per_s']} |\n"
        f"| boto3 `upload_file` ({CHUNK // MIB} MiB parts, {IN_FLIGHT} threads) | {result['boto3_mb_per_s']} |\n\n"
        f"Ratio {result['ratio']} (target >= {TARGET}; round by round, median {result['ratio_by_round_median']}). "
        f"{'Met' if result['met'] else 'Not met'}.\n\n"
        f"A direct upload's steps (medians): start {steps['start_ms']} ms, parts {steps['parts_s']} s, "
        f"complete {steps['complete_ms']} ms. Start and parts alone: {result['direct_without_complete_mb_per_s']} "
        f"MB/s ({result['direct_without_complete_mb_per_s'] / result['boto3_mb_per_s']:.2f}x boto3's whole upload). "
        f"The app's time waiting on S3 per upload (medians): {s3_time}.\n\n"
        f"The app worker per upload: {result['app_cpu_ms_per_upload']} ms of CPU "
        f"({result['app_cpu_ms_per_mib']} ms per MiB; /proc/<pid>/stat counts in "
        f"{result['app_cpu_resolution_ms']} ms steps; runs: "
        f"{', '.join(str(ms) for ms in result['app_cpu_ms_by_run'])}; the threads' schedstat, in ns: "
        f"{result['app_cpu_ms_per_upload_schedstat']} ms), "
        f"{result['app_body_bytes_per_upload']:,} bytes of request bodies received "
        f"({', '.join(f'{path} {count}' for path, count in result['app_requests_per_upload'].items())}), "
        f"and {sum(s3_calls.values())} S3 requests: {by_operation}.\n\n"
        f"Checked: {result['checks']}. The bench took {result['bench_seconds']:.0f} s.\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
