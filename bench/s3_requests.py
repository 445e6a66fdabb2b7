"""W5 requests: the S3 requests one file sent in chunks costs, by operation (``make bench`` runs it).

SeaweedFS (a real S3 server) on loopback; three gunicorn app servers (one gthread worker
each) serve ``bench/s3_app.py``, which counts the requests its S3 client makes while it
handles requests, apart from those after a response (the sweep's look, once a minute a
process, whatever it uploads: not the file's). Files of 8, 24 and 64 chunks of 8 MiB are
sent through one app server and through three (chunk i to server i mod 3), chunk after
chunk and 4 at a time. Target, through one server: at most 2N + 8 requests for N chunks;
each other server that receives a chunk of the file reads its record once (2 requests),
and while the first chunk is on its way the others wait for it (reading the record now
and then), so that across servers the count is reported, not targeted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
from run import Server, data_file  # noqa: E402
from s3 import CHUNK, app_env, empty, ours, requests_of  # noqa: E402

from support.s3server import S3Server, make_client  # noqa: E402

COUNTS = (8, 24, 64)
#: How the chunks are sent: one after the other, or so many at a time (parallelChunkUploads).
MODES = {"in order": 1, "4 at a time": 4}
SERVERS = (1, 3)


def bound(chunks: int) -> int:
    """The most S3 requests a file of ``chunks`` chunks may cost through one server."""
    return 2 * chunks + 8


def upload(
    servers: list[Server], source: str, chunks: int, in_flight: int, s3: S3Server, bucket: str
) -> dict:
    """One file of ``chunks`` chunks through ``servers``: what it cost, by operation."""
    failures: list[str] = []
    ours(servers, source, in_flight, chunks * CHUNK, failures)
    counted = [requests_of(server) for server in servers]
    during = sum((found["during"] for found in counted), Counter())
    after = sum((found["after"] for found in counted), Counter())
    stored = make_client(s3).head_object(Bucket=bucket, Key="w5/w5.bin")["ContentLength"]
    if stored != chunks * CHUNK:
        raise SystemExit(f"W5 requests: the stored file has {stored} bytes, not {chunks * CHUNK}")
    empty(s3, bucket)
    total = sum(during.values())
    return {
        "servers": len(servers),
        "sent": [mode for mode, count in MODES.items() if count == in_flight][0],
        "chunks": chunks,
        "requests": total,
        "per_chunk": round(total / chunks, 2),
        "bound": bound(chunks) if len(servers) == 1 else None,
        "by_operation": dict(sorted(during.items())),
        "after_responses": dict(sorted(after.items())),
        "chunks_sent_again": len(failures),
    }


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| app servers | chunks sent | N | S3 requests | per chunk | 2N + 8 | by operation |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        operations = ", ".join(f"{name} {count}" for name, count in row["by_operation"].items())
        target = "" if row["bound"] is None else str(row["bound"])
        cells = [row[name] for name in ("servers", "sent", "chunks", "requests", "per_chunk")]
        cells.append(target)
        lines.append("| " + " | ".join(str(cell) for cell in cells) + f" | {operations} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--output", default=str(HERE / "results"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        source = data_file(work, "w5-requests.bin", max(args.counts) * CHUNK)
        s3 = S3Server()
        s3.start(Path(work) / "s3")
        servers: list[Server] = []
        try:
            bucket = "bench"
            make_client(s3).create_bucket(Bucket=bucket)
            env = app_env(s3, bucket)
            for number in range(max(SERVERS)):
                folder = Path(work) / f"server{number}"
                folder.mkdir()
                servers.append(Server(str(folder), app="s3_app:create_app()", env=env, pin=False))
            ours(servers, source, 1, len(servers) * CHUNK)  # warm: S3 clients, the sweep's stamp
            empty(s3, bucket)
            for server in servers:
                requests_of(server)
            for count in SERVERS:
                for in_flight in MODES.values():
                    for chunks in args.counts:
                        rows.append(upload(servers[:count], source, chunks, in_flight, s3, bucket))
                        print(json.dumps(rows[-1]))
        finally:
            for server in servers:
                server.stop()
            s3.stop()
    met = all(row["requests"] <= row["bound"] for row in rows if row["bound"] is not None)
    target = "<= 2N + 8 through one app server"
    result = {"chunk_mib": CHUNK >> 20, "target": target, "met": met, "uploads": rows}
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "w5-requests.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# W5 requests: S3 requests for one file in {CHUNK >> 20} MiB chunks, through the app into S3",
        "",
        *table(rows),
        "",
        f"Through one app server, at most 2N + 8 for N chunks: {'met' if met else 'not met'}.",
    ]
    (output / "w5-requests.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
