"""Profile one contender on one workload with py-spy; print where the worker spends its time.

    python bench/hotspots.py W1 ours [--mib 512]

Samples the gunicorn worker (native frames off, idle threads off) while the
client runs, then prints the functions by time spent inside them and under them.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import client  # noqa: E402
from run import MIB, Server, data_file, small_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload", choices=["W1", "W2", "W3"])
    parser.add_argument("contender", choices=["ours", "documented", "raw"])
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    bench_dir, data_dir = tempfile.mkdtemp(), tempfile.mkdtemp()
    server = Server(bench_dir)
    samples = os.path.join(data_dir, "samples.txt")
    try:
        if args.workload == "W3":
            small = small_file(data_dir)
            files = [(f"f{n:05d}.png", small) for n in range(4000)]
            path = "/ours?rules=image" if args.contender == "ours" else f"/{args.contender}"
            run = lambda: client.many_small(server.port, path, files, 4)  # noqa: E731
        else:
            big = data_file(data_dir, "big.bin", args.mib * MIB)
            url = f"/{args.contender}"

            def run() -> None:
                if args.workload == "W1":
                    client.single(server.port, url, big, "big.bin")
                else:
                    client.chunked(server.port, url, big, "big.bin", 8 * MIB, 4)

        spy = subprocess.Popen(
            [
                "py-spy",
                "record",
                "-p",
                str(server.worker),
                "-r",
                "400",
                "--format",
                "raw",
                "-o",
                samples,
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
        seconds = run()
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    finally:
        server.stop()
        shutil.rmtree(bench_dir, ignore_errors=True)

    own, under = collections.Counter(), collections.Counter()
    total = 0
    for line in Path(samples).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            under[frame] += int(count)
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{args.workload} {args.contender}: {seconds:.2f} s, {total} samples")
    for title, counter in (("time inside", own), ("time under", under)):
        print(f"\n{title}:")
        for frame, count in counter.most_common(args.top):
            print(f"  {100 * count / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
