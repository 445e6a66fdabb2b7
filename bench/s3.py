"""W5: a file uploaded in chunks over two app servers into S3, against boto3's own upload.

SeaweedFS (a real S3 server) runs on loopback; two gunicorn app servers (one gthread worker
each) serve ``bench/s3_app.py``. A file of ``--size`` MiB is sent in 8 MiB chunks, 4 in
flight, chunk i to server i mod 2 (no sticky sessions), against ``upload_file`` of boto3 with
8 MiB parts and 4 threads to the same server; the two alternate run by run. Reported: the
median throughputs and their ratio (target >= 0.9), each app server's peak RSS over its idle
RSS (target < 64 MiB), and the S3 requests per chunk and per file, by operation, that the app
servers made while handling the chunk requests (the sweep's look after a response apart).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
import client as http_client  # noqa: E402
from run import Server, data_file  # noqa: E402

from support.s3server import S3Server, make_client  # noqa: E402

MIB = 1024 * 1024
CHUNK = 8 * MIB
IN_FLIGHT = 4
TARGETS = {"ratio": 0.9, "rss_over_idle_mib": 64}


def ours(
    servers: list[Server],
    source: str,
    in_flight: int = IN_FLIGHT,
    size: Optional[int] = None,
    failures: Optional[list[str]] = None,
) -> float:
    """The file (its first ``size`` bytes) in Dropzone's chunk requests, ``in_flight`` at a
    time, chunk i to server i mod the servers; returns seconds. The chunks sent again are
    told in ``failures``."""
    size = os.path.getsize(source) if size is None else size
    count = math.ceil(size / CHUNK)
    file_id = str(uuid.uuid4())
    first = http_client.Client(servers[0].port)
    cookie = http_client.session_cookie(first)
    first.close()
    local = threading.local()
    failures = [] if failures is None else failures

    def send(index: int) -> None:
        if not hasattr(local, "clients"):
            local.clients = [http_client.Client(server.port) for server in servers]
            for each in local.clients:
                each.cookie = cookie
            local.source = open(source, "rb")
        offset = index * CHUNK
        fields = http_client.chunk_fields(file_id, index, size, CHUNK)
        for _ in range(4):  # as Dropzone does (retryChunks), on a new connection
            number = index % len(servers)
            try:
                local.clients[number].upload(
                    "/upload", "w5.bin", local.source, offset, min(CHUNK, size - offset), fields
                )
                return
            except (OSError, RuntimeError, http.client.HTTPException) as error:
                failures.append(f"chunk {index}: {error!r}"[:200])
                local.clients[number].close()
                local.clients[number] = http_client.Client(servers[number].port)
                local.clients[number].cookie = cookie
        raise RuntimeError(f"chunk {index} failed 4 times: {failures[-4:]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(send, range(count)))
    elapsed = time.perf_counter() - start
    for failure in failures:
        print("retried:", failure, file=sys.stderr)
    return elapsed


def boto3_upload(s3: S3Server, bucket: str, source: str, key: str = "") -> float:
    """``upload_file`` of boto3 (8 MiB parts, 4 threads) to ``key`` (a new one if not given); seconds."""
    from boto3.s3.transfer import TransferConfig

    client = make_client(s3)
    config = TransferConfig(
        multipart_threshold=CHUNK, multipart_chunksize=CHUNK, max_concurrency=IN_FLIGHT
    )
    start = time.perf_counter()
    client.upload_file(source, bucket, key or f"boto3/{uuid.uuid4().hex}", Config=config)
    return time.perf_counter() - start


def requests_of(server: Server) -> dict[str, Counter[str]]:
    """The S3 requests ``server`` made since the last call, by operation: while it handled
    requests (``during``), and after their responses (``after``: the sweep's look)."""
    connection = http_client.Client(server.port).connection
    connection.request("GET", "/requests")
    counts = json.loads(connection.getresponse().read())
    connection.close()
    return {when: Counter(found) for when, found in counts.items()}


def app_env(s3: S3Server, bucket: str) -> dict[str, str]:
    """What a bench app server needs to store into ``bucket``: its name, the server, credentials."""
    return {
        "BENCH_BUCKET": bucket,
        "BENCH_S3": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def empty(s3: S3Server, bucket: str) -> None:
    client = make_client(s3)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=512, help="MiB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "results"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        source = data_file(work, "w5.bin", args.size * MIB)
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        s3 = S3Server()
        s3.start(Path(work) / "s3")
        servers: list[Server] = []
        try:
            bucket = "bench"
            make_client(s3).create_bucket(Bucket=bucket)
            env = app_env(s3, bucket)
            for number in range(2):
                folder = Path(work) / f"server{number}"
                folder.mkdir()
                servers.append(Server(str(folder), app="s3_app:create_app()", env=env, pin=False))
            for server in servers:  # the S3 client made and warm, then the idle size
                requests_of(server)
            idle = [server.memory("VmRSS") for server in servers]
            ours_seconds, boto3_seconds, peaks = [], [], []
            counts: Counter[str] = Counter()
            for run in range(args.runs + 1):  # the first round warms up
                for server in servers:
                    server.reset_peak()
                    requests_of(server)
                seconds = ours(servers, source)
                peaks.append([server.memory("VmHWM") - base for server, base in zip(servers, idle)])
                round_counts = sum((requests_of(server)["during"] for server in servers), Counter())
                stored = make_client(s3).get_object(Bucket=bucket, Key="w5/w5.bin")["Body"].read()
                if hashlib.sha256(stored).hexdigest() != digest:
                    raise SystemExit("W5: the stored file differs from the source")
                theirs = boto3_upload(s3, bucket, source)
                empty(s3, bucket)
                if run:
                    ours_seconds.append(seconds)
                    boto3_seconds.append(theirs)
                    counts = round_counts
        finally:
            for server in servers:
                server.stop()
            s3.stop()
    payload = args.size * MIB
    chunks = math.ceil(payload / CHUNK)
    ours_rate = payload / statistics.median(ours_seconds) / 1e6
    boto3_rate = payload / statistics.median(boto3_seconds) / 1e6
    worst_rss = max(max(peak) for peak in peaks) / MIB
    total = sum(counts.values())
    result = {
        "size_mib": args.size,
        "chunk_mib": CHUNK // MIB,
        "in_flight": IN_FLIGHT,
        "runs": args.runs,
        "ours_mb_per_s": round(ours_rate, 1),
        "boto3_mb_per_s": round(boto3_rate, 1),
        "ratio": round(ours_rate / boto3_rate, 3),
        "peak_rss_over_idle_mib": round(worst_rss, 1),
        "s3_requests_per_file": total,
        "s3_requests_per_chunk": round(total / chunks, 2),
        "s3_requests_by_operation": dict(sorted(counts.items())),
        "targets": {
            "ratio": f">= {TARGETS['ratio']}",
            "peak_rss_over_idle_mib": f"< {TARGETS['rss_over_idle_mib']}",
        },
        "met": ours_rate / boto3_rate >= TARGETS["ratio"]
        and worst_rss < TARGETS["rss_over_idle_mib"],
    }
    output = Path(args.output)
    output.mkdir(exist_ok=True)
    (output / "w5.json").write_text(json.dumps(result, indent=2) + "\n")
    by_operation = ", ".join(
        f"{name} {count}" for name, count in result["s3_requests_by_operation"].items()
    )
    (output / "w5.md").write_text(
        f"# W5: {args.size} MiB in {CHUNK // MIB} MiB chunks over 2 app servers into SeaweedFS\n\n"
        "| | MB/s (median) |\n|---|---|\n"
        f"| ours (2 servers, {IN_FLIGHT} chunks in flight) | {result['ours_mb_per_s']} |\n"
        f"| boto3 `upload_file` ({CHUNK // MIB} MiB parts, {IN_FLIGHT} threads) | {result['boto3_mb_per_s']} |\n\n"
        f"Ratio {result['ratio']} (target >= {TARGETS['ratio']}); peak RSS over idle, worst server: "
        f"{result['peak_rss_over_idle_mib']} MiB (target < {TARGETS['rss_over_idle_mib']}). "
        f"{'Met' if result['met'] else 'Not met'}.\n\n"
        f"S3 requests for one file of {chunks} chunks: {total} ({result['s3_requests_per_chunk']} per chunk): "
        f"{by_operation}.\n"
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
