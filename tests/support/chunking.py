"""Sending files in chunks the way Dropzone does, for tests and benchmarks."""

from __future__ import annotations

import math
import os
import time
import uuid as uuids
from pathlib import Path
from typing import Iterable, Optional

from flask import Flask, request

from flask_dropzone import Dropzone

BOUNDARY = "----dropzonechunkboundary7MA4YWxkTrZu0gW"


def chunk_fields(file_id: str, index: int, total: int, chunk_size: int) -> dict[str, str]:
    count = max(1, math.ceil(total / chunk_size))
    return {
        "dzuuid": file_id,
        "dzchunkindex": str(index),
        "dztotalfilesize": str(total),
        "dzchunksize": str(chunk_size),
        "dztotalchunkcount": str(count),
        "dzchunkbyteoffset": str(index * chunk_size),
    }


def body(
    fields: dict[str, str],
    name: str,
    filename: str,
    content: bytes,
    field: str = "file",
    copies: int = 1,
) -> bytes:
    """A multipart body with the fields first, then the file part (``copies`` times: only a
    hostile client sends more than one), as Dropzone sends it."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts += [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    ] * copies
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def chunk_requests(
    data: bytes,
    filename: str,
    chunk_size: int,
    order: Optional[Iterable[int]] = None,
    file_id: Optional[str] = None,
) -> list[bytes]:
    """The bodies of every chunk request for ``data``, in ``order`` (default: ascending)."""
    file_id = file_id or str(uuids.uuid4())
    count = max(1, math.ceil(len(data) / chunk_size))
    indexes = list(range(count)) if order is None else list(order)
    return [
        body(
            chunk_fields(file_id, index, len(data), chunk_size),
            "file",
            filename,
            data[index * chunk_size : (index + 1) * chunk_size],
        )
        for index in indexes
    ]


CHUNK = 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 3000


def chunk_app(instance: str, **rules) -> Flask:
    """The chunked-upload app, in ``instance``: its own factory, as child processes and bench/
    build it too, and property tests make one per example."""
    app = Flask(__name__, instance_path=instance)
    app.config.update(
        SECRET_KEY="chunk tests",
        DROPZONE_CHUNKING=True,
        DROPZONE_CHUNK_SIZE=CHUNK,
        DROPZONE_MAX_FILE_SIZE=1,
    )
    dropzone = Dropzone(app)

    @app.post("/save")
    def save():
        return {"saved": [[s.stored_name, s.size] for s in dropzone.save(**rules)]}

    @app.post("/answer")
    def answer():
        return dropzone.answer(dropzone.save(**rules))

    @app.post("/parsed-first-answer")
    def parsed_first_answer():
        request.form  # noqa: B018  (as Flask-WTF's CSRFProtect does)
        return dropzone.answer(dropzone.save(**rules))

    @app.post("/files")
    def files():
        found = dropzone.files(**rules)
        return {"files": [[f.filename, f.size, f.detected_type, len(f.read())] for f in found]}

    @app.post("/parsed-first")
    def parsed_first():
        request.form  # noqa: B018  (as Flask-WTF's CSRFProtect does)
        return {"saved": [[s.stored_name, s.size] for s in dropzone.save(**rules)]}

    return app


def uploads_dir(app) -> Path:
    return Path(app.instance_path) / "uploads"


def chunk_dir(app) -> Path:
    return Path(app.instance_path) / "dropzone-chunks"


def stray_files(app) -> list[str]:
    """Files left in upload folders of the chunk store (a client's lock is not one)."""
    root = chunk_dir(app)
    return [str(path.relative_to(root)) for path in root.glob("*/*/*") if path.is_file()]


def upload_dirs(app) -> list[Path]:
    return [path for path in chunk_dir(app).glob("*/*") if path.is_dir()]


def send(client, request_body, url="/save"):
    response = client.post(url, data=request_body, content_type=CONTENT_TYPE)
    response.get_data()
    response.close()  # as a WSGI server does once the response is sent
    return response


def client_of(test_client) -> str:
    with test_client.session_transaction() as session:
        return session["_dropzone_client"]


def age(path: Path, seconds: float) -> None:
    """Make ``path`` and everything under it look untouched for ``seconds``."""
    old = time.time() - seconds
    for entry in [path, *path.rglob("*")]:
        os.utime(entry, (old, old), follow_symlinks=False)
