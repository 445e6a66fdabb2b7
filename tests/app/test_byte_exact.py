"""Every receiving path stores every file byte for byte, whoever parsed the body.

The contents below are those Werkzeug's multipart parser has, in some release,
stored with bytes added or lost: repeated bytes across its 64 KiB buffer, a file
ending in CR, a newline at index 1, CR LF at a 64 KiB boundary. Our parser reads
the streamed and chunked paths; Werkzeug's reads the path where the form was read
first (Flask-WTF's CSRFProtect), so this corpus also guards the Werkzeug versions
the package accepts (run at the declared floors and the newest releases).
"""

from __future__ import annotations

import io
import os

import pytest
from flask import Flask, request

from flask_dropzone import Dropzone

from support.chunking import chunk_requests, send

K64 = 64 * 1024


def _corpus() -> dict[str, bytes]:
    corpus = {f"repeated {size}": b"A" * size for size in (65_536, 500_000, 700_000, 3_000_001)}
    corpus.update(
        {
            "ends in CR": b"x" * 1000 + b"\r",
            "ends in CR at 64 KiB": b"x" * (K64 - 1) + b"\r",
            "ends in CR LF": b"x" * 1000 + b"\r\n",
            "newline at index 1": b"a\nbc" * 50,
            "CR LF at index 0": b"\r\nbody",
            "CR LF across 64 KiB": b"y" * (K64 - 1) + b"\r\n" + b"y" * 100,
            "CR LF at 64 KiB": b"y" * (K64 - 2) + b"\r\n" + b"z" * 100,
            "CR LF -- at 64 KiB": b"y" * (K64 - 2) + b"\r\n--" + b"z" * 100,
            "CR runs": b"\r" * (3 * K64 + 7),
            "CR LF runs": b"\r\n" * (2 * K64 + 3),
            "dashes": b"-" * (K64 + 5),
            "empty": b"",
            "one byte": b"\n",
            "random": os.urandom(3 * K64 + 11),
        }
    )
    return corpus


CORPUS = _corpus()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = Flask(__name__, instance_path=str(tmp_path_factory.mktemp("instance")))
    app.config.update(
        SECRET_KEY="byte exact",
        DROPZONE_MAX_FILE_SIZE=16,
        DROPZONE_CHUNKING=True,
        DROPZONE_CHUNK_SIZE=K64,
    )
    dropzone = Dropzone(app)

    @app.post("/streamed")
    def streamed():
        return {"paths": [s.path for s in dropzone.save()]}

    @app.post("/parsed-first")
    def parsed_first():
        request.form  # noqa: B018  (what Flask-WTF's CSRFProtect does before the view)
        return {"paths": [s.path for s in dropzone.save()]}

    @app.post("/werkzeug-files")
    def werkzeug_files():
        # A view that reads request.files itself and hands each file to save() by way of files().
        assert request.files
        return {"paths": [s.path for s in dropzone.save()]}

    return app


def _store(app, path: str, name: str, content: bytes) -> bytes:
    client = app.test_client()
    if path == "chunked":
        paths = []
        for body in chunk_requests(content, name, K64):
            response = send(client, body, "/streamed")
            assert response.status_code == 200, response.get_data(as_text=True)
            paths += response.json["paths"]
    else:
        data = {"title": "", "file": (io.BytesIO(content), name), "note": "x\r\n"}
        response = client.post("/" + path, data=data, content_type="multipart/form-data")
        assert response.status_code == 200, response.get_data(as_text=True)
        paths = response.json["paths"]
    (stored,) = paths
    with open(stored, "rb") as file:
        return file.read()


@pytest.mark.parametrize("path", ["streamed", "chunked", "parsed-first", "werkzeug-files"])
@pytest.mark.parametrize("case", sorted(CORPUS))
def test_every_path_stores_the_file_byte_for_byte(app, path, case):
    content = CORPUS[case]
    if path == "chunked" and not content:
        content = b"\x00"  # Dropzone sends an empty file in one plain request, not in chunks
    stored = _store(app, path, f"{case}.bin".replace(" ", "-"), content)
    assert len(stored) == len(content) and stored == content


BOUNDARY = "----WebKitFormBoundaryQ7tM2vLx"
STARTS = {
    "CR LF": b"\r\n",
    "LF": b"\n",
    "CR": b"\r",
    "x LF": b"x\n",
    "x CR LF": b"x\r\n",
    "PNG": b"\x89PNG\r\n\x1a\n",
}


def _aligned_body(start: bytes, shift: int, tail_shift: int) -> tuple[bytes, bytes]:
    """A browser-like body whose file data begins ``shift`` bytes from 64 KiB and whose
    closing delimiter begins ``tail_shift`` bytes from 128 KiB (Werkzeug reads 64 KiB at a time)."""

    def head(pad: int) -> bytes:
        return (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'.encode()
            + b"P" * pad
            + f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )

    prefix = head(K64 + shift - len(head(0)))
    assert len(prefix) == K64 + shift
    content = start + b"\xff" * (2 * K64 + tail_shift - len(prefix) - len(start))
    return prefix + content + f"\r\n--{BOUNDARY}--\r\n".encode(), content


@pytest.mark.parametrize("path", ["streamed", "parsed-first"])
@pytest.mark.parametrize("start", sorted(STARTS))
def test_bodies_split_at_every_awkward_boundary_keep_their_bytes(app, path, start):
    client = app.test_client()
    for shift in range(-4, 5):
        for tail_shift in (-3, -2, -1, 0, 1):
            body, content = _aligned_body(STARTS[start], shift, tail_shift)
            response = client.post(
                "/" + path, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            (stored,) = response.json["paths"]
            with open(stored, "rb") as file:
                assert file.read() == content, (shift, tail_shift)
            os.unlink(stored)
