"""The app W5 serves with gunicorn: chunked uploads stored in S3, counting its S3 requests."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from flask import Flask, session

from flask_dropzone import Dropzone, stores

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
    requests: Counter[str] = Counter()
    counted: list[object] = []

    @app.before_request
    def count_s3_requests() -> None:
        client = stores.of(app).files.client  # one per process
        if client not in counted:
            counted.append(client)
            client.meta.events.register("before-call.s3", lambda event_name, **_: requests.update([event_name]))

    @app.get("/session")
    def new_session():
        session["_dropzone_client"] = os.urandom(16).hex()  # as a page with a chunking zone does
        return ""

    @app.post("/upload")
    def upload():
        return {"saved": [[saved.location, saved.size] for saved in dropzone.save(**RULES)]}

    @app.get("/requests")
    def s3_requests():
        counts = {name.split(".")[-1]: count for name, count in requests.items()}
        requests.clear()
        return counts

    return app
