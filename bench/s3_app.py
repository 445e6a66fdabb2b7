"""The app W5 serves with gunicorn: chunked uploads stored in S3, counting its S3 requests."""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any, Optional

from flask import Flask, session

from flask_dropzone import Dropzone
from flask_dropzone import _stores as stores

CHUNK_SIZE = 8 * 1024 * 1024
RULES = {"chunking": True, "chunk_size": CHUNK_SIZE, "max_file_size": 4096, "chunk_quota": None}


def s3_app(prefix: str, **config: Any) -> Flask:
    """An app storing under ``prefix`` in the bench's bucket (``BENCH_BUCKET`` at ``BENCH_S3``,
    its instance in ``BENCH_DIR``), with ``config`` too; the extension is not set up yet."""
    app = Flask(__name__, instance_path=os.path.join(os.environ["BENCH_DIR"], "instance"))
    app.config.update(
        SECRET_KEY="bench",
        DROPZONE_STORAGE="s3",
        DROPZONE_S3_BUCKET=os.environ["BENCH_BUCKET"],
        DROPZONE_S3_PREFIX=prefix,
        DROPZONE_S3_ENDPOINT_URL=os.environ["BENCH_S3"],
        **config,
    )
    return app


def create_app() -> Flask:
    app = s3_app("w5/")
    dropzone = Dropzone(app)
    # S3 requests made while a request is handled, and after its response (the sweep's look).
    counts: dict[str, Counter[str]] = {"during": Counter(), "after": Counter()}
    handling, lock, counted = threading.local(), threading.Lock(), []

    def count(event_name: str, **_: Any) -> None:
        when = "during" if getattr(handling, "on", False) else "after"
        with lock:
            counts[when][event_name.split(".")[-1]] += 1

    @app.before_request
    def count_s3_requests() -> None:
        client = stores.of(app).files.client  # one per process
        if client not in counted:
            counted.append(client)
            client.meta.events.register("before-call.s3", count)
        handling.on = True

    @app.teardown_request
    def handled(_error: Optional[BaseException]) -> None:
        handling.on = False  # what follows the response (the sweep's look) is counted apart

    @app.get("/session")
    def new_session():
        session["_dropzone_client"] = os.urandom(16).hex()  # as a page with a chunking zone does
        return ""

    @app.post("/upload")
    def upload():
        return {"saved": [[saved.location, saved.size] for saved in dropzone.save(**RULES)]}

    @app.get("/requests")
    def s3_requests():
        """The S3 requests counted since the last call, by operation: made while handling
        requests (``during``), and after their responses (``after``)."""
        with lock:
            answer = {when: dict(found) for when, found in counts.items()}
            for found in counts.values():
                found.clear()
        return answer

    return app
