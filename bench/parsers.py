"""Multipart parsers side by side: W1's parse, and hostile bodies ("junk families").

    python bench/parsers.py [--w1-mib 512] [--sizes 4 32] [--limit 60]

Each candidate parses the same bodies in-process, fed 1 MiB reads as gunicorn
hands them over, its file data discarded. W1 is one file of ``--w1-mib`` MiB;
the junk families are the bodies an attacker would send to make a parser
re-scan or buffer what it has already seen. A case running past ``--limit``
seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from support.hostile_bodies import JUNK_FAMILIES, reads  # noqa: E402

MIB = 1024 * 1024
READ = MIB
BOUNDARY = b"----benchboundaryQ2x7GfT0aZ"


def _w1_reads(size_mib: int) -> Callable[[], Callable[[int], bytes]]:
    """1 MiB reads of head + size_mib MiB + tail, without holding the body in memory."""
    head = (
        b"--"
        + BOUNDARY
        + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = b"\r\n--" + BOUNDARY + b"--\r\n"
    block = os.urandom(MIB)
    cut = MIB - len(head)
    middle = block[cut:] + block[:cut]

    def reads() -> Callable[[int], bytes]:
        sequence = iter([head + block[:cut], *([middle] * (size_mib - 1)), block[cut:] + tail])
        return lambda size: next(sequence, b"")

    return reads


# Candidates: each parses a whole body from ``read`` with ``boundary``, discarding file data.


def adopted(read, boundary) -> None:
    """The receiving code's own entry point (the multipart library under our layer)."""
    from flask_dropzone._rules import formdata

    class Discard:
        def write(self, data):
            pass

        def finish(self):
            pass

    formdata.parse(
        read, boundary, lambda *args: Discard(), max_form_parts=1000, max_form_memory_size=500_000
    )


def multipart_push(read, boundary) -> None:
    """multipart (PyPI ``multipart``), its sans-IO PushMultipartParser."""
    import multipart

    parser = multipart.PushMultipartParser(boundary, max_segment_count=1000)
    with parser:
        while not parser.closed:
            for _ in parser.parse(read(READ)):
                pass


def python_multipart(read, boundary) -> None:
    """python-multipart (Starlette's), callback style."""
    import python_multipart as pm

    parser = pm.MultipartParser(boundary, {})
    while True:
        data = read(READ)
        if not data:
            break
        parser.write(data)
    parser.finalize()


def werkzeug_decoder(read, boundary) -> None:
    """Werkzeug's sans-IO MultipartDecoder."""
    from werkzeug.sansio.multipart import Data, Epilogue, MultipartDecoder, NeedData

    decoder = MultipartDecoder(boundary)
    while True:
        data = read(READ)
        decoder.receive_data(data or None)
        while True:
            event = decoder.next_event()
            if isinstance(event, NeedData):
                break
            if isinstance(event, Epilogue):
                return
            if isinstance(event, Data) and False:
                pass
        if not data:
            return


CANDIDATES = {
    "flask_dropzone.formdata": adopted,
    "multipart 2": multipart_push,
    "python-multipart": python_multipart,
    "werkzeug": werkzeug_decoder,
}


class TooSlow(Exception):
    pass


def _alarm(signum, frame):
    raise TooSlow()


def timed(parse, read, boundary, limit: float = 0) -> tuple[float, str]:
    """Seconds taken and outcome; stopped after ``limit`` seconds unless it is 0."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        parse(read, boundary)
        outcome = "parsed"
    except TooSlow:
        outcome = "stopped"
    except Exception as error:  # each library has its own error types
        outcome = "refused (" + type(error).__name__ + ")"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return time.perf_counter() - start, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--w1-mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[4, 32], help="junk body sizes, MiB"
    )
    parser.add_argument("--limit", type=float, default=60)
    parser.add_argument("--only", nargs="+", choices=list(CANDIDATES), default=list(CANDIDATES))
    args = parser.parse_args()
    candidates = {name: CANDIDATES[name] for name in args.only}

    print(f"W1's parse: one {args.w1_mib} MiB file, 1 MiB reads, best of {args.runs}")
    w1 = _w1_reads(args.w1_mib)
    for name, parse in candidates.items():
        runs = [timed(parse, w1(), BOUNDARY) for _ in range(args.runs)]
        if any(outcome != "parsed" for _, outcome in runs):
            raise SystemExit(f"{name} did not parse W1: {runs}")
        best = min(seconds for seconds, _ in runs)
        print(f"  {name:24} {args.w1_mib * MIB / best / 1e9:6.2f} GB/s")

    print("\nJunk families: seconds, and what the parser made of the body")
    print(f"  {'family':34} {'MiB':>4}  " + "  ".join(f"{name:>30}" for name in candidates))
    for size in args.sizes:
        for family, make in JUNK_FAMILIES.items():
            body = make(size * MIB)
            cells = []
            for parse in candidates.values():
                seconds, outcome = timed(parse, reads(body), b"B", args.limit)
                cells.append(f"{seconds:7.3f} s {outcome[:20]:>20}")
            print(f"  {family:34} {size:4}  " + "  ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
