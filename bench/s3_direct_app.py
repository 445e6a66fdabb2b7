"""The app W6 serves with gunicorn: direct uploads to S3 (``DROPZONE_S3_DIRECT``), counting
the request bodies it receives and the S3 requests it makes (and their time).

The client gets its session from ``/page`` (a page rendering ``dropzone.config()``), then
starts and completes each upload on the extension's endpoints; the parts go to the bucket.
``/stats`` answers (and resets) what the app received and asked of S3 since the last call.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any, Callable, Iterable

from flask import Flask, render_template_string
from s3_app import s3_app

from flask_dropzone import Dropzone
from flask_dropzone import _stores as stores

PART_SIZE = 8 * 1024 * 1024
STATS = "/stats"


class Received:
    """WSGI middleware: the request bodies the app is sent (``CONTENT_LENGTH``) and the bytes
    its views read of them, counted for every request but ``/stats``."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.requests: Counter[str] = Counter()
        self.declared = 0
        self.read = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != STATS:
            self.requests.update([f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"])
            self.declared += int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"] = _Counting(environ["wsgi.input"], self)
        return self.app(environ, start_response)

    def take(self) -> dict[str, Any]:
        found = {
            "requests": dict(self.requests),
            "body_bytes": self.declared,
            "body_bytes_read": self.read,
        }
        self.requests.clear()
        self.declared = self.read = 0
        return found


class _Counting:
    def __init__(self, stream: Any, counter: Received) -> None:
        self.stream, self.counter = stream, counter

    def read(self, *args: Any) -> bytes:
        data = self.stream.read(*args)
        self.counter.read += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data = self.stream.readline(*args)
        self.counter.read += len(data)
        return data

    def __iter__(self) -> Any:
        for line in self.stream:
            self.counter.read += len(line)
            yield line


def create_app() -> Flask:
    app = s3_app(
        "w6/",
        DROPZONE_S3_DIRECT=True,
        DROPZONE_CHUNK_SIZE=PART_SIZE,
        DROPZONE_MAX_FILE_SIZE=None,
        DROPZONE_CHUNK_QUOTA=None,
    )
    Dropzone(app)
    s3_requests: Counter[str] = Counter()
    s3_seconds: Counter[str] = Counter()
    counted: list[object] = []
    local = threading.local()

    def before(event_name: str, **_: Any) -> None:
        s3_requests.update([event_name.split(".")[-1]])
        local.began = time.perf_counter()

    def after(event_name: str, **_: Any) -> None:
        s3_seconds[event_name.split(".")[-1]] += time.perf_counter() - local.began

    @app.before_request
    def count_s3_requests() -> None:
        client = stores.of(app).files.client  # one per process, the direct store's too
        if client not in counted:
            counted.append(client)
            client.meta.events.register("before-call.s3", before)
            client.meta.events.register("after-call.s3", after)

    @app.get("/page")
    def page():
        return render_template_string("{{ dropzone.config() }}")  # sets the session's client id

    @app.get(STATS)
    def stats():
        found = received.take()
        found["s3_requests"] = dict(s3_requests)
        found["s3_ms"] = {name: round(seconds * 1e3, 1) for name, seconds in s3_seconds.items()}
        s3_requests.clear()
        s3_seconds.clear()
        return found

    received = Received(app.wsgi_app)
    app.wsgi_app = received  # type: ignore[method-assign]
    return app
