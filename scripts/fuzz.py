"""``make fuzz``: run the property tests marked ``fuzz`` with many random examples,
round after round, for a chosen time (``FUZZ_SECONDS``, default 600).

Each round is a fresh pytest run with Hypothesis's ``fuzz`` profile: random
seeds, about 20,000 generated bodies for the multipart differential test, and
thousands of chunk sequences for the protocol tests. A failure is kept in
``.hypothesis/`` and replayed by the next ``make fuzz``, never by ``make test``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=600, help="keep starting rounds until then"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    args = parser.parse_args()
    env = dict(os.environ, HYPOTHESIS_PROFILE="fuzz")
    deadline = time.monotonic() + args.seconds
    rounds = 0
    while True:
        rounds += 1
        print(f"fuzz round {rounds}", flush=True)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "fuzz",
            "-q",
            "--hypothesis-show-statistics",
            *args.pytest_args,
        ]
        result = subprocess.run(command, cwd=ROOT, env=env)
        if result.returncode != 0:
            print(f"fuzz: round {rounds} failed", flush=True)
            return result.returncode
        if time.monotonic() >= deadline:
            print(f"fuzz: {rounds} round{'s' if rounds != 1 else ''} passed", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
