"""A store that cannot be reached, on every path that uses it: a plain-text 503 (a field error
in a form), never a 500 and never a traceback."""

from __future__ import annotations

import io
import os

import pytest

from flask_dropzone import Dropzone

from support.chunking import CONTENT_TYPE, chunk_requests
from support.forms import PNG, field_config, reference
from support.s3 import dead_endpoint

CHUNK = 5 * 1024 * 1024  # S3's smallest part


@pytest.fixture
def outage(s3_settings, form_app):
    """An app on S3 with a stored file, a pending file and an unfinished chunked upload; then
    its bucket becomes unreachable."""
    app = form_app(
        DROPZONE_CHUNKING=True,
        DROPZONE_CHUNK_SIZE=CHUNK,
        DROPZONE_MAX_FILE_SIZE=20,
        **s3_settings,
    )
    dropzone: Dropzone = app.extensions["dropzone"]

    @app.post("/upload")
    def upload():
        return {"stored": [saved.stored_name for saved in dropzone.save()]}

    @app.get("/files/<name>")
    def send(name):
        return dropzone.send_stored(name)

    @app.post("/forget/<name>")
    def forget(name):
        return {"deleted": dropzone.delete_stored(name)}

    client = app.test_client()
    ref = reference(client, field_config(client))
    assert client.post("/upload", data={"file": (io.BytesIO(PNG), "a.png")}).status_code == 200
    first, _ = chunk_requests(
        os.urandom(CHUNK + 10), "big.bin", CHUNK, file_id="00000000-0000-4000-8000-000000000001"
    )
    assert client.post("/upload", data=first, content_type=CONTENT_TYPE).status_code == 200
    dead_endpoint(app)
    return app, client, ref


def requests(ref):
    second = chunk_requests(
        b"x" * (CHUNK + 10), "big.bin", CHUNK, file_id="00000000-0000-4000-8000-000000000001"
    )[1]
    return {
        "save": ("POST", "/upload", {"data": {"file": (io.BytesIO(PNG), "b.png")}}),
        "chunk": ("POST", "/upload", {"data": second, "content_type": CONTENT_TYPE}),
        "status": ("GET", "/dropzone/status?dzuuid=00000000-0000-4000-8000-000000000001", {}),
        "cancel": (
            "POST",
            "/dropzone/cancel",
            {"data": {"dzuuid": "00000000-0000-4000-8000-000000000001"}},
        ),
        "send_stored": ("GET", "/files/a.png", {}),
        "delete_stored": ("POST", "/forget/a.png", {}),
        "pending thumbnail": ("GET", f"/dropzone/pending/file?reference={ref}", {}),
        "pending discard": ("POST", "/dropzone/pending/discard", {"data": {"reference": ref}}),
    }


@pytest.mark.parametrize(
    "path",
    [
        "save",
        "chunk",
        "status",
        "cancel",
        "send_stored",
        "delete_stored",
        "pending thumbnail",
        "pending discard",
    ],
)
def test_every_path_that_uses_an_unreachable_store_answers_a_plain_503(outage, path):
    app, client, ref = outage
    method, url, kwargs = requests(ref)[path]
    answer = client.open(url, method=method, **kwargs)
    assert (answer.status_code, answer.mimetype) == (503, "text/plain"), answer.get_data(
        as_text=True
    )[:300]
    assert "right now; try again later." in answer.get_data(as_text=True)


def test_a_form_sent_while_the_store_is_unreachable_is_a_field_error(outage):
    app, client, ref = outage
    answer = client.post("/post", data={"title": "kept", "photos": ref})
    assert answer.status_code == 200 and "storage is unavailable" in answer.get_data(as_text=True)


def test_a_refusal_s3_gives_that_the_store_has_no_meaning_for_is_a_plain_503(s3_settings, form_app):
    """S3 answering 400 InvalidArgument (a server that does not take a header the store sends,
    say) to a save or a chunk: told as the store failing, never a 500."""
    from botocore.exceptions import ClientError

    from flask_dropzone import _stores as stores

    app = form_app(DROPZONE_MAX_FILE_SIZE=20, **s3_settings)
    dropzone: Dropzone = app.extensions["dropzone"]

    @app.post("/upload")
    def upload():
        return dropzone.answer(dropzone.save())

    client = stores.of(app).files.client
    refused = ClientError(
        {
            "Error": {"Code": "InvalidArgument", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutObject",
    )

    def refuse(**kwargs):
        raise refused

    client.meta.events.register("before-call.s3.PutObject", refuse)
    try:
        answer = app.test_client().post("/upload", data={"file": (io.BytesIO(PNG), "a.png")})
    finally:
        client.meta.events.unregister("before-call.s3.PutObject", refuse)
    assert (answer.status_code, answer.mimetype) == (503, "text/plain"), answer.get_data(
        as_text=True
    )[:200]
