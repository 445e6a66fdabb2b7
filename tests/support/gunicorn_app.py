"""The app the multi-worker test serves with gunicorn: chunked uploads, no CSRF."""

from __future__ import annotations

import os

from flask import Flask, render_template_string

from flask_dropzone import Dropzone

RULES = {"chunking": True, "chunk_size": 1024 * 1024, "max_file_size": 64}


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["DROPZONE_TEST_INSTANCE"])
    app.config["SECRET_KEY"] = "gunicorn test"
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024  # above a chunk request (1 MiB)
    dropzone = Dropzone(app)

    @app.get("/")
    def page():
        return render_template_string("{{ dropzone.config(**rules) }}", rules=RULES)

    @app.post("/upload")
    def upload():
        return {"saved": [[saved.stored_name, saved.size] for saved in dropzone.save(**RULES)]}

    return app
