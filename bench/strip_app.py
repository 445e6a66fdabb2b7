"""The app W9 serves with gunicorn: ``save()`` of a photo as it came, and stripped of its
metadata (``strip_metadata=True``), side by side, on disk.

- ``POST /save``: ``dropzone.save()`` of a file sent in one request (W1's way);
- ``POST /strip``: the same, with ``strip_metadata=True``.

Each answers what it stored: ``[[location, size], ...]``.
"""

from __future__ import annotations

import os

from flask import Flask

from flask_dropzone import Dropzone

RULES = {"max_file_size": 4096}


def create_app() -> Flask:
    root = os.environ["BENCH_DIR"]
    app = Flask(__name__, instance_path=os.path.join(root, "instance"))
    app.config.update(SECRET_KEY="bench", DROPZONE_UPLOAD_FOLDER=os.path.join(root, "saved"))
    dropzone = Dropzone(app)

    def stored(**keywords):
        return {"saved": [[s.location, s.size] for s in dropzone.save(**RULES, **keywords)]}

    @app.post("/save")
    def save():
        return stored()

    @app.post("/strip")
    def strip():
        return stored(strip_metadata=True)

    return app
