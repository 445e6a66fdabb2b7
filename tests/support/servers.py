"""App servers a test starts: one in a thread of the test process (``LiveServer``, and
``RoundRobin``, a proxy in front of several), or gunicorn
masters with their workers (the fixture ``spawn_gunicorn``; a test using it is marked
``servers``). Each listens on a socket bound to a port the kernel chose and that nothing else
can take: the thread's server binds it itself, gunicorn is handed it already bound (fd://)."""

from __future__ import annotations

import http.client
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest
from werkzeug.serving import make_server

TESTS = Path(__file__).resolve().parent.parent


class LiveServer:
    """A WSGI app served on 127.0.0.1 from a thread of the test process."""

    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the master (its workers get the graceful timeout), then SIGKILL its group."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:  # a loaded machine: stop the group, by its id
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


def start_gunicorn(
    app: str,
    env: dict[str, str],
    *,
    workers: int,
    threads: int,
    graceful_timeout: int,
    preexec_fn: Optional[Callable[[], Any]] = None,
) -> tuple[subprocess.Popen, int]:
    """gunicorn serving ``app`` (``module:create_app()``, from tests/) in its own process group,
    on a listening socket bound here and handed over: (the master, its port)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.set_inheritable(True)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"fd://{listener.fileno()}",
            "--graceful-timeout",
            str(graceful_timeout),
            "--chdir",
            str(TESTS),
            "--log-level",
            "warning",
            app,
        ]
        process = subprocess.Popen(
            command,
            env=env,
            pass_fds=(listener.fileno(),),
            start_new_session=True,  # its own process group: the master and its workers
            preexec_fn=preexec_fn,
        )
        return process, listener.getsockname()[1]
    finally:
        listener.close()  # gunicorn has its own copy


@pytest.fixture
def spawn_gunicorn() -> Iterator[Callable[..., tuple[subprocess.Popen, int]]]:
    """:func:`start_gunicorn`, every master it started stopped after the test."""
    started: list[subprocess.Popen] = []

    def spawn(app: str, env: dict[str, str], **options) -> tuple[subprocess.Popen, int]:
        process, port = start_gunicorn(app, env, **options)
        started.append(process)
        return process, port

    yield spawn
    for process in started:
        stop_process_group(process)


_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class RoundRobin:
    """A WSGI proxy sending each request to the next of ``ports`` in turn."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = itertools.count()
        self.lock = threading.Lock()
        self.posts: Counter[int] = Counter()

    def __call__(self, environ, start_response):
        with self.lock:
            port = self.ports[next(self.turn) % len(self.ports)]
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO", "/") + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.request(method, path, body, headers)
        answer = connection.getresponse()
        data = answer.read()
        connection.close()
        if method == "POST":
            with self.lock:
                self.posts[port] += 1
        kept = [(key, value) for key, value in answer.getheaders() if key.lower() not in _HOP]
        start_response(
            f"{answer.status} {answer.reason}", kept + [("Content-Length", str(len(data)))]
        )
        return [data]
