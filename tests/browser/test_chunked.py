"""A big file in parallel chunks, through a server that fails some chunk requests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .helpers import statuses

MIB = 1024 * 1024


def test_64_mib_in_parallel_chunks_survives_failing_requests(page, serve, tmp_path):
    from demo.app import create_app

    app = create_app({"SECRET_KEY": "chunks", "DEMO_CHUNK_FAILURE_RATE": 0.1})
    app.instance_path = str(tmp_path / "instance")
    server = serve(app)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(64 * MIB))
    failures, posts = [], []
    page.on("response", lambda r: r.request.method == "POST" and (posts.append(r.status), r.status >= 500 and failures.append(r.url)))
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
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert failures, "the failure switch did not fire: the retries were not exercised"
    assert len(posts) >= 64 + len(failures)


def wait_settled_long(page, zone_id: str = "myDropzone") -> None:
    page.wait_for_function(
        """(id) => {
          const dz = document.getElementById(id).dropzone;
          return dz.getActiveFiles().length === 0 && dz.getAddedFiles().length === 0;
        }""",
        arg=zone_id,
        timeout=180_000,
    )
