"""The server side of the benchmark: three ways to receive the same uploads.

- ``/ours``: ``dropzone.save()`` (single requests and Dropzone chunks alike);
- ``/ours-csrf``: the same under Flask-WTF's ``CSRFProtect``, which reads the form first;
- ``/documented``: Flask-Dropzone's documented handler, ``request.files`` then ``f.save()``;
- ``/raw``: ``request.stream`` copied to a file, the limit no multipart parser can beat.

Served by gunicorn (see run.py); ``BENCH_DIR`` is where files are stored.
"""

from __future__ import annotations

import os
import uuid

from flask import Flask, render_template_string, request
from flask_wtf.csrf import CSRFProtect, generate_csrf

from flask_dropzone import Dropzone
from flask_dropzone._stores.disk.files import DiskFiles

CHUNK_SIZE = 8 * 1024 * 1024
READ_SIZE = 1024 * 1024  # what dropzone.save() reads at once too
RULES = {
    "chunking": True,
    "max_file_size": 4096,
    "chunk_size": CHUNK_SIZE,
    "chunk_quota": None,
}
SMALL_FILE_RULES = {**RULES, "allowed_file_type": "image"}


def create_app():
    root = os.environ["BENCH_DIR"]
    folders = {
        name: os.path.join(root, name) for name in ("ours", "ours-csrf", "documented", "raw")
    }
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    app = Flask(__name__, instance_path=os.path.join(root, "instance"))
    app.config["SECRET_KEY"] = "benchmark"
    dropzone = Dropzone(app)
    csrf = CSRFProtect(app)  # checked on /ours-csrf only

    @app.get("/session")
    def page():
        # What a page with a chunking zone does: its session gets the client id chunks are filed under.
        return render_template_string("{{ dropzone.config(**rules) }}", rules=RULES)

    @app.post("/ours")
    def ours():
        rules = SMALL_FILE_RULES if request.args.get("rules") == "image" else RULES
        return {"saved": len(dropzone.save(folders["ours"], **rules))}

    @app.get("/csrf-token")
    def token():
        return {"token": generate_csrf()}

    @app.post("/ours-csrf")
    def ours_csrf():
        return {"saved": len(dropzone.save(folders["ours-csrf"], **RULES))}

    # Flask-Dropzone's documented view on a plain Flask app: Werkzeug parses its body
    # (with the extension installed, its parser would, and the view would be ours too).
    plain = Flask("documented")

    @plain.post("/documented")
    def documented():
        f = request.files.get("file")
        f.save(os.path.join(folders["documented"], f.filename))
        return {"saved": 1}

    @app.post("/raw")
    def raw():
        # Stored like ours (an unnamed file, then a name), so that the two differ only by
        # parsing and checks: on ext4 here, plain open() files were several times slower.
        target = DiskFiles().stage(folders["raw"])
        try:
            while True:
                block = request.stream.read(READ_SIZE)
                if not block:
                    break
                target.write(block)
            target.link(os.path.join(folders["raw"], uuid.uuid4().hex))
        finally:
            target.close()
        return {"saved": 1}

    for view in (page, ours, raw):
        csrf.exempt(view)

    def dispatch(environ, start_response):
        target = plain if environ.get("PATH_INFO", "").startswith("/documented") else app
        return target(environ, start_response)

    return dispatch
