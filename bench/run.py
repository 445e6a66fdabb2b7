"""``make bench``: upload throughput, memory and disk writes of three contenders.

Starts gunicorn (one gthread worker, bound to 127.0.0.1) serving bench/app.py,
drives it with bench/client.py, alternating the contenders run by run, and
writes bench/results/results.json and results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).parent))
import client  # noqa: E402

MIB = 1024 * 1024
HERE = Path(__file__).parent
RESULTS = HERE / "results"
CONTENDERS = ("ours", "documented", "raw")
W1_CONTENDERS = ("ours", "ours-csrf", "documented", "raw")
WORKLOADS = ["W1", "W2", "W3", "W4"]
TARGETS = {
    "W1": "≥ 0.85× raw, ≥ 2× documented, ≤ 1.05 bytes written per byte",
    "W1-CSRF": "≥ 0.9× W1 (ours), ≤ 1.05 bytes written per byte",
    "W2": "≥ 0.80× raw, ≤ 1.1 bytes written per byte",
    "W3": "≥ 1.0× documented",
    "W4": "peak RSS < idle + 64 MiB",
}


class Server:
    """gunicorn with one worker process (so that its memory and I/O can be read)."""

    def __init__(
        self,
        bench_dir: str,
        threads: int = 8,
        app: str = "app:create_app()",
        env: Optional[dict[str, str]] = None,
        pin: bool = True,
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = dict(os.environ, BENCH_DIR=bench_dir, **(env or {}))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "600",
                "--chdir",
                str(HERE),
                "--log-level",
                "warning",
                app,
            ],
            env=env,
        )
        try:
            self.worker = self._wait_for_worker()
        except BaseException:
            self.stop()
            raise
        if pin and os.cpu_count() and os.cpu_count() > 1:
            # The worker on one core, the client on the others: less noise from the scheduler.
            for pid in (self.process.pid, self.worker):
                for task in os.listdir(f"/proc/{pid}/task"):
                    os.sched_setaffinity(int(task), {0})
            os.sched_setaffinity(0, set(range(1, os.cpu_count())))

    def _wait_for_worker(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                workers = children.read_text().split()
                if workers:
                    return int(workers[0])
            except OSError:
                pass
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)

    def io_written(self) -> int:
        fields = dict(
            line.split(": ") for line in Path(f"/proc/{self.worker}/io").read_text().splitlines()
        )
        return int(fields["write_bytes"])

    def memory(self, field: str) -> int:
        for line in Path(f"/proc/{self.worker}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def reset_peak(self) -> None:
        Path(f"/proc/{self.worker}/clear_refs").write_text("5")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def measure(server: Server, bench_dir: str, payload: int, run) -> dict:
    server.reset_peak()
    written = server.io_written()
    seconds = run()
    result = {
        "seconds": seconds,
        "mb_per_s": payload / seconds / 1e6,
        "peak_rss": server.memory("VmHWM"),
        "written_per_byte": (server.io_written() - written) / payload,
    }
    for name in W1_CONTENDERS:  # keep the disk from filling up
        folder = Path(bench_dir) / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    shutil.rmtree(Path(bench_dir) / "instance" / "dropzone-chunks", ignore_errors=True)
    # No pause before the next run: this VM hands memory freed for two seconds back to
    # its host (virtio-balloon free page reporting), and pages that come back from the
    # host are several times slower to fill. Runs that start at once reuse warm pages.
    return result


def data_file(directory: str, name: str, size: int) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb") as target:
        for _ in range(size // (64 * MIB)):
            target.write(os.urandom(64 * MIB))
        target.write(os.urandom(size % (64 * MIB)))
    return path


def small_file(directory: str) -> str:
    path = os.path.join(directory, "small.png")
    with open(path, "wb") as target:  # a PNG signature: the server sniffs it as image/png
        target.write(b"\x89PNG\r\n\x1a\n" + os.urandom(4096 - 8))
    return path


def rounds(runs: int, contenders: tuple[str, ...]):
    """Each round runs every contender once, starting with a different one each time;
    round -1 is a warm-up, not recorded."""
    for index in range(-1, runs):
        shift = index % len(contenders)
        yield index, contenders[shift:] + contenders[:shift]


class Bench:
    def __init__(self, args, server: Server, bench_dir: str, data_dir: str) -> None:
        self.args, self.server, self.bench_dir, self.data_dir = args, server, bench_dir, data_dir
        self.port = server.port
        self.results: dict = {}

    def record(self, workload: str, contender: str, index: int, result: dict) -> None:
        if index < 0:
            return  # warm-up
        runs = self.results.setdefault(workload, {}).setdefault(contender, [None] * self.args.runs)
        runs[index] = result
        print(
            f"  {workload} {contender:10} run {index + 1}: {result['mb_per_s']:8.1f} MB/s  "
            f"peak RSS {result['peak_rss'] / MIB:6.1f} MiB  written/byte {result['written_per_byte']:.3f}",
            flush=True,
        )

    def measure(self, payload: int, run) -> dict:
        return measure(self.server, self.bench_dir, payload, run)

    def w1(self) -> None:
        print(f"W1: one {self.args.w1_mib} MiB file in one request")
        big = data_file(self.data_dir, "w1.bin", self.args.w1_mib * MIB)
        for index, order in rounds(self.args.runs, W1_CONTENDERS):
            for contender in order:
                self.record(
                    "W1",
                    contender,
                    index,
                    self.measure(
                        self.args.w1_mib * MIB,
                        lambda contender=contender: client.single(
                            self.port, f"/{contender}", big, "big.bin"
                        ),
                    ),
                )
        os.unlink(big)

    def w2(self) -> None:
        print(f"W2: one {self.args.w1_mib} MiB file in 8 MiB chunks, 4 in flight")
        big = data_file(self.data_dir, "w2.bin", self.args.w1_mib * MIB)
        for index, order in rounds(self.args.runs, ("ours", "raw")):
            for contender in order:
                self.record(
                    "W2",
                    contender,
                    index,
                    self.measure(
                        self.args.w1_mib * MIB,
                        lambda contender=contender: client.chunked(
                            self.port, f"/{contender}", big, "big.bin", 8 * MIB, 4
                        ),
                    ),
                )
        os.unlink(big)

    def w3(self) -> None:
        print(f"W3: {self.args.w3_files} files of 4 KiB, 4 clients, one file per request")
        small = small_file(self.data_dir)
        files = [(f"f{number:05d}.png", small) for number in range(self.args.w3_files)]
        for index, order in rounds(self.args.runs, CONTENDERS):
            for contender in order:
                path = f"/{contender}?rules=image" if contender == "ours" else f"/{contender}"
                self.record(
                    "W3",
                    contender,
                    index,
                    self.measure(
                        4096 * len(files),
                        lambda path=path: client.many_small(self.port, path, files, 4),
                    ),
                )

    def w4(self) -> None:
        print(f"W4: one {self.args.w4_mib} MiB file, single request and chunked (memory)")
        huge = data_file(self.data_dir, "w4.bin", self.args.w4_mib * MIB)
        idle = self.results["idle_rss"] = self.server.memory("VmRSS")
        for contender in CONTENDERS:
            result = self.measure(
                self.args.w4_mib * MIB,
                lambda contender=contender: client.single(
                    self.port, f"/{contender}", huge, "huge.bin"
                ),
            )
            self.results.setdefault("W4-single", {})[contender] = [result]
            print(
                f"  W4 single  {contender:10}: peak RSS {result['peak_rss'] / MIB:6.1f} MiB "
                f"(idle {idle / MIB:.1f})",
                flush=True,
            )
        for contender in ("ours", "raw"):
            result = self.measure(
                self.args.w4_mib * MIB,
                lambda contender=contender: client.chunked(
                    self.port, f"/{contender}", huge, "huge.bin", 8 * MIB, 4
                ),
            )
            self.results.setdefault("W4-chunked", {})[contender] = [result]
            print(
                f"  W4 chunked {contender:10}: peak RSS {result['peak_rss'] / MIB:6.1f} MiB "
                f"(idle {idle / MIB:.1f})",
                flush=True,
            )
        os.unlink(huge)


def summarise(results: dict) -> dict:
    summary: dict = {}
    for workload in ("W1", "W2", "W3", "W4-single", "W4-chunked"):
        runs = results[workload]
        row = {}
        for contender, measured in runs.items():
            row[contender] = {
                "mb_per_s": statistics.median(m["mb_per_s"] for m in measured),
                "peak_rss_mib": max(m["peak_rss"] for m in measured) / MIB,
                "written_per_byte": statistics.median(m["written_per_byte"] for m in measured),
            }
        for other in ("documented", "raw"):
            if "ours" in runs and other in runs and not workload.startswith("W4"):  # W4: memory
                pairs = [o["mb_per_s"] / t["mb_per_s"] for o, t in zip(runs["ours"], runs[other])]
                row["ours"][f"vs_{other}"] = statistics.median(pairs)
        if "ours-csrf" in runs:
            pairs = [c["mb_per_s"] / o["mb_per_s"] for c, o in zip(runs["ours-csrf"], runs["ours"])]
            row["ours-csrf"]["vs_ours"] = statistics.median(pairs)
        summary[workload] = row
    idle = results["idle_rss"] / MIB
    summary["idle_rss_mib"] = idle
    ours = summary
    summary["targets"] = {
        "W1": ours["W1"]["ours"]["vs_raw"] >= 0.85
        and ours["W1"]["ours"]["vs_documented"] >= 2
        and ours["W1"]["ours"]["written_per_byte"] <= 1.05,
        "W1-CSRF": ours["W1"]["ours-csrf"]["vs_ours"] >= 0.9
        and ours["W1"]["ours-csrf"]["written_per_byte"] <= 1.05,
        "W2": ours["W2"]["ours"]["vs_raw"] >= 0.80
        and ours["W2"]["ours"]["written_per_byte"] <= 1.1,
        "W3": ours["W3"]["ours"]["vs_documented"] >= 1.0,
        "W4": max(
            ours["W4-single"]["ours"]["peak_rss_mib"], ours["W4-chunked"]["ours"]["peak_rss_mib"]
        )
        - idle
        < 64,
    }
    return summary


def machine() -> dict:
    import gunicorn

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 1024**3, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gunicorn": gunicorn.__version__,
    }


def markdown(summary: dict, info: dict, args) -> str:
    lines = [
        f"Measured on {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, Linux {info['kernel']}, "
        f"Python {info['python']}, gunicorn {info['gunicorn']} (one gthread worker, 8 threads), "
        f"client and server on one machine over loopback; median of {args.runs} runs.",
        "",
        "| workload | contender | MB/s | vs documented | vs raw | peak RSS (MiB) | disk written per byte |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    names = {
        "W1": f"W1: {args.w1_mib} MiB, one request",
        "W2": f"W2: {args.w1_mib} MiB, 8 MiB chunks ×4",
        "W3": f"W3: {args.w3_files} × 4 KiB, 4 clients",
        "W4-single": f"W4: {args.w4_mib} MiB, one request",
        "W4-chunked": f"W4: {args.w4_mib} MiB, chunked",
    }
    for workload, label in names.items():
        for contender, row in summary[workload].items():
            vs_doc = f"{row['vs_documented']:.2f}×" if "vs_documented" in row else ""
            vs_raw = f"{row['vs_raw']:.2f}×" if "vs_raw" in row else ""
            lines.append(
                f"| {label} | {contender} | {row['mb_per_s']:.0f} | {vs_doc} | {vs_raw} | "
                f"{row['peak_rss_mib']:.0f} | {row['written_per_byte']:.2f} |"
            )
    csrf = summary["W1"]["ours-csrf"]
    lines += [
        "",
        f"Idle worker RSS: {summary['idle_rss_mib']:.0f} MiB. W1 with CSRFProtect (ours-csrf): "
        f"{csrf['vs_ours']:.2f}× W1 (ours), {csrf['written_per_byte']:.2f} bytes written per byte.",
        "",
        "| target | met |",
        "|---|---|",
    ]
    for target, met in summary["targets"].items():
        lines.append(f"| {target}: {TARGETS[target]} | {'yes' if met else 'no'} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--w1-mib", type=int, default=512)
    parser.add_argument("--w3-files", type=int, default=2000)
    parser.add_argument("--w4-mib", type=int, default=2048)
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=WORKLOADS)
    args = parser.parse_args()

    bench_dir = tempfile.mkdtemp(prefix="dropzone-bench-")
    data_dir = tempfile.mkdtemp(prefix="dropzone-bench-data-")
    server = Server(bench_dir)
    try:
        for contender in CONTENDERS:  # warm up every code path
            small = small_file(data_dir)
            client.single(server.port, f"/{contender}", small, "warm.png")
        bench = Bench(args, server, bench_dir, data_dir)
        for workload in args.only:
            getattr(bench, workload.lower())()
        results = bench.results
    finally:
        server.stop()
        shutil.rmtree(bench_dir, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)

    if args.only != WORKLOADS:
        return 0  # a partial run is for looking, not for the published table
    summary = summarise(results)
    info = machine()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(
        json.dumps(
            {"machine": info, "runs": args.runs, "summary": summary, "raw": results}, indent=2
        )
        + "\n"
    )
    table = markdown(summary, info, args)
    (output / "results.md").write_text(table)
    print()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
