"""W7: what a chunk costs as its file's chunk count grows (``make bench`` runs it).

One file of N chunks of 4 KiB is sent through Flask's test client, chunk after
chunk, for N = 100 and N = 10,000; the time of each of the last 100 chunks is
taken, and the medians compared. Per-chunk bookkeeping that lists or reads
everything received so far makes the ratio grow with N; the target is <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests"))
from support.chunking import chunk_app, chunk_requests, send  # noqa: E402

CHUNK = 4096
TARGET = 1.2


def per_chunk(count: int, last: int = 100) -> float:
    """Median seconds of each of the last ``last`` chunks of a file of ``count`` chunks."""
    with tempfile.TemporaryDirectory() as instance:
        app = chunk_app(instance, chunk_size=CHUNK, max_file_size=None, chunk_quota=None)
        client = app.test_client()
        bodies = chunk_requests(os.urandom(count * CHUNK), "w7.bin", CHUNK)
        times = []
        for index, body in enumerate(bodies):
            start = time.perf_counter()
            response = send(client, body)
            if index >= count - last:
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_data(as_text=True)
        return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--output", default=str(HERE / "results"))
    args = parser.parse_args()
    per_chunk(args.small)  # warm-up
    small, large = per_chunk(args.small), per_chunk(args.large)
    ratio = large / small
    result = {
        "chunk_bytes": CHUNK,
        f"us_per_chunk_at_{args.small}": round(small * 1e6, 1),
        f"us_per_chunk_at_{args.large}": round(large * 1e6, 1),
        "ratio": round(ratio, 3),
        "target": f"<= {TARGET}",
        "met": ratio <= TARGET,
    }
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "w7.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "W7: time per 4 KiB chunk through the test client, median of the file's last 100 chunks.",
        "",
        "| chunks in the file | µs per chunk |",
        "|---:|---:|",
        f"| {args.small:,} | {small * 1e6:.0f} |",
        f"| {args.large:,} | {large * 1e6:.0f} |",
        "",
        f"Ratio {ratio:.2f} (target ≤ {TARGET}): {'met' if ratio <= TARGET else 'not met'}.",
    ]
    (output / "w7.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
