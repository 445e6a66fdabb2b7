"""The app that tests/test_s3_servers.py serves with several gunicorn servers sharing one
S3 bucket (and nothing else): chunked uploads, no CSRF, configured from the environment.

DROPZONE_TEST_INSTANCE  this server's own instance folder (must stay empty)
DROPZONE_TEST_SECRET    the SECRET_KEY every server shares
DROPZONE_TEST_BUCKET    the bucket
DROPZONE_TEST_ENDPOINT  the S3 endpoint URL
DROPZONE_TEST_LOG       a folder where each view call appends JSON lines (optional)
DROPZONE_TEST_SERVER    this server's name, written in those lines
DROPZONE_TEST_DIRECT    "1": direct uploads too (DROPZONE_S3_DIRECT)

Credentials come from boto3's own variables (AWS_ACCESS_KEY_ID, ...).

Each upload view call writes ``{"event": "start", ...}`` before it reads the body and
``{"event": "saved", "saved": [...]}`` once ``save()`` returned, with the request's
``X-Test-Tag`` header, so that a test knows a request is being read and counts the calls
that were handed a file.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from flask import Flask, render_template_string, request

from flask_dropzone import Dropzone

MIB = 1024 * 1024
RULES: dict[str, Any] = {"chunking": True, "chunk_size": 5 * MIB, "max_file_size": 64}
TYPED = dict(RULES, allowed_file_type="image")


def record(**entry: Any) -> None:
    folder = os.environ.get("DROPZONE_TEST_LOG")
    if not folder:
        return
    entry.update(
        server=os.environ.get("DROPZONE_TEST_SERVER", ""),
        pid=os.getpid(),
        thread=threading.get_ident(),
        tag=request.headers.get("X-Test-Tag", ""),
    )
    path = os.path.join(folder, f"{entry['server']}-{os.getpid()}.jsonl")
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")  # one write of one line


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["DROPZONE_TEST_INSTANCE"])
    app.config.update(
        SECRET_KEY=os.environ["DROPZONE_TEST_SECRET"],
        DROPZONE_STORAGE="s3",
        DROPZONE_S3_BUCKET=os.environ["DROPZONE_TEST_BUCKET"],
        DROPZONE_S3_PREFIX="uploads/",
        DROPZONE_S3_ENDPOINT_URL=os.environ["DROPZONE_TEST_ENDPOINT"],
        DROPZONE_CHUNKING=True,
        DROPZONE_CHUNK_SIZE=5 * MIB,
        DROPZONE_MAX_FILE_SIZE=64,
        DROPZONE_S3_DIRECT=os.environ.get("DROPZONE_TEST_DIRECT") == "1",
    )
    dropzone = Dropzone(app)

    @app.get("/")
    def page():
        return render_template_string("{{ dropzone.config(**rules) }}", rules=RULES)

    def answer(rules: dict[str, Any]) -> dict[str, Any]:
        record(event="start", path=request.path)
        saved = [[s.stored_name, s.location, s.size] for s in dropzone.save(**rules)]
        record(event="saved", path=request.path, saved=saved)
        return {"saved": saved}

    @app.post("/upload")
    def upload():
        return answer(RULES)

    @app.post("/typed")
    def typed():
        return answer(TYPED)

    @app.route("/form", methods=["GET", "POST"])
    def form():  # a form with a DropzoneField: its pending files claimed by whichever server
        from flask_wtf import FlaskForm

        from flask_dropzone.forms import DropzoneField

        class Post(FlaskForm):
            photos = DropzoneField(max_file_size=64)

        found = Post(meta={"csrf": False})
        if request.method == "POST" and found.validate():
            return {"claimed": [s.location for s in found.photos.claim()]}
        return render_template_string("{{ form.photos() }}", form=found)

    return app
