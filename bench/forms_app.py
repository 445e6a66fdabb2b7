"""The app W8 serves with gunicorn: a form with a ``DropzoneField``, and ``save()`` of the
same file beside it, on disk (``create_app()``) or in S3 (``create_s3_app()``).

- ``GET /post``: the form's page (its zone's ticket and the session's client id);
- ``POST /dropzone/pending``: the field's endpoint, the file kept pending;
- ``POST /post``: the form submitted with the file's reference; the view answers how long
  ``claim()`` took, in seconds, measured around that call alone;
- ``POST /save``: ``dropzone.save()`` of a file sent in one request (W1's way);
- ``POST /copy?pick=newest|oldest`` (S3): one ``CopyObject`` of that pending object, timed in
  the same process with the same client, the yardstick a claim on S3 is held to.
"""

from __future__ import annotations

import os
import time
import uuid

from flask import Flask, abort, render_template_string, request
from flask_wtf import FlaskForm
from s3_app import s3_app

from flask_dropzone import Dropzone
from flask_dropzone import _stores as stores
from flask_dropzone.forms import DropzoneField

RULES = {"max_file_size": 4096, "chunk_quota": None}


class PostForm(FlaskForm):
    photos = DropzoneField("Files", **RULES)


def _routes(app: Flask, folder: str) -> Flask:
    dropzone = Dropzone(app)

    @app.route("/post", methods=["GET", "POST"])
    def post():
        form = PostForm()
        if form.validate_on_submit():
            start = time.perf_counter()
            saved = form.photos.claim()
            seconds = time.perf_counter() - start
            return {
                "claim_seconds": seconds,
                "saved": [[each.location, each.size] for each in saved],
            }
        if form.errors:
            abort(400, repr(form.errors))
        return render_template_string("<form method=post>{{ form.photos() }}</form>", form=form)

    @app.post("/save")
    def save():
        return {"saved": [[each.location, each.size] for each in dropzone.save(folder, **RULES)]}

    return app


def create_app() -> Flask:
    root = os.environ["BENCH_DIR"]
    app = Flask(__name__, instance_path=os.path.join(root, "instance"))
    app.config.update(
        SECRET_KEY="bench",
        WTF_CSRF_ENABLED=False,
        DROPZONE_UPLOAD_FOLDER=os.path.join(root, "field"),
    )
    return _routes(app, os.path.join(root, "saved"))


def create_s3_app() -> Flask:
    app = _routes(s3_app("w8/", WTF_CSRF_ENABLED=False), "saved")

    @app.post("/copy")
    def copy():
        files = stores.of(app).files
        pages = files.client.get_paginator("list_objects_v2").paginate(
            Bucket=files.bucket, Prefix=files.own
        )
        pending = [
            entry
            for page in pages
            for entry in page.get("Contents", ())
            if "/pending-files/" in entry["Key"] and not entry["Key"].endswith(".claim")
        ]
        pick = max if request.args.get("pick") == "newest" else min
        source = pick(pending, key=lambda entry: entry["LastModified"])["Key"]
        target = f"w8/copy/{uuid.uuid4().hex}"
        start = time.perf_counter()
        files.client.copy_object(
            Bucket=files.bucket,
            Key=target,
            CopySource={"Bucket": files.bucket, "Key": source},
            IfNoneMatch="*",
            MetadataDirective="REPLACE",
            Metadata={"bench": "copy"},
        )
        seconds = time.perf_counter() - start
        files.client.delete_object(Bucket=files.bucket, Key=target)
        return {"copy_seconds": seconds}

    return app
