"""Files in chunks: a big one in parallel chunks through a server that fails some chunk requests;
the answer `success` gets, whichever chunk completes the file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from support.browser import (
    CHUNK_ANSWERED,
    drop_files,
    held_requests,
    payload,
    statuses,
    wait_settled,
    wait_settled_long,
)

MIB = 1024 * 1024


def test_64_mib_in_parallel_chunks_survives_failing_requests(page, serve, tmp_path):
    from demo.app import create_app

    app = create_app({"SECRET_KEY": "chunks", "DEMO_CHUNK_FAILURE_RATE": 0.1})
    app.instance_path = str(tmp_path / "instance")
    server = serve(app)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(64 * MIB))
    failures, posts = [], []
    page.on(
        "response",
        lambda r: (
            r.request.method == "POST"
            and (posts.append(r.status), r.status >= 500 and failures.append(r.url))
        ),
    )
    page.goto(server.url + "/chunked")
    handle = page.evaluate_handle("document.getElementById('myDropzone').dropzone.hiddenFileInput")
    handle.as_element().set_input_files(str(source))
    page.wait_for_function(
        "document.getElementById('myDropzone').dropzone.files.length === 1", timeout=10_000
    )
    wait_settled_long(page)
    assert statuses(page, "myDropzone") == ["success"]
    assert page.locator(".dz-preview.dz-success").count() == 1
    stored = Path(app.instance_path) / "uploads" / "big.bin"
    assert (
        hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    )
    assert failures, "the failure switch did not fire: the retries were not exercised"
    assert len(posts) >= 64 + len(failures)


PARALLEL_PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}
</body></html>"""
#: Records what each `success` listener is given, from the zone's start.
RECORD_ANSWERS = """document.addEventListener('dropzone:init', (event) => {
  window.answers = [];
  event.detail.dropzone.on('success', (file, answer) => window.answers.push(answer));
});"""


#: Whether the page has the answer to chunk ``index`` of the zone's first file.
def test_success_gets_the_answer_of_the_chunk_that_completed_the_file(
    page, serve, tmp_path, page_app
):
    """Parallel chunks: chunk 0 reaches the server last, so it completes the file, and its answer
    reaches the page first. Dropzone hands on chunk 1's answer (``save()`` stored nothing then);
    the zone ends the file with chunk 0's: what was stored, and its delete token."""
    settings = {
        "SECRET_KEY": "chunks",
        "DROPZONE_CHUNKING": True,
        "DROPZONE_CHUNK_SIZE": 1024,
        "DROPZONE_PARALLEL_CHUNK_UPLOADS": True,
        "DROPZONE_DELETE_ON_REMOVE": True,
    }
    app = page_app(PARALLEL_PAGE, settings)
    server = serve(app)
    page.add_init_script(RECORD_ANSWERS)
    held: list = []
    page.route("**/upload", lambda route: held.append(route))
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("big.bin", payload(2000))])
    chunks = held_requests(page, held, 2)
    first = chunks[1].fetch()  # the server holds chunk 1: the file is not whole yet
    completing = chunks[0].fetch()  # chunk 0 completes it
    assert json.loads(first.body()) == {"stored": []}
    chunks[0].fulfill(response=completing)
    page.wait_for_function(CHUNK_ANSWERED, arg=["myDropzone", 0])
    chunks[1].fulfill(response=first)  # the last answer to reach the page
    wait_settled(page, "myDropzone", 1)
    assert statuses(page, "myDropzone") == ["success"]
    stored = {"filename": "big.bin", "stored_name": "big.bin"}
    assert page.evaluate("window.answers") == [{"stored": [stored]}]
    uploads = tmp_path / "instance" / "uploads"
    assert os.listdir(uploads) == ["big.bin"]
    page.evaluate("document.addEventListener('dropzone:deleted', () => { window.deleted = true; })")
    page.click("#myDropzone [data-dz-remove]")  # its delete token came with chunk 0's answer
    page.wait_for_function("window.deleted === true", timeout=5_000)
    assert os.listdir(uploads) == []
