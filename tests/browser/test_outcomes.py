"""Several files per request (the seed's parallel uploads): each preview shows its own outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.browser import (
    NOT_A_PNG,
    drop_files,
    error_messages,
    png,
    statuses,
    wait_settled,
)

PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}
{{ dropzone.config() }}</body></html>"""


@pytest.fixture
def batch_app(page_app):
    return lambda folder: page_app(PAGE, batch_settings(folder))


def batch_settings(folder: Path) -> dict:
    return {
        "DROPZONE_ALLOWED_FILE_TYPE": "image",
        "DROPZONE_UPLOAD_MULTIPLE": True,
        "DROPZONE_PARALLEL_UPLOADS": 3,
        "DROPZONE_UPLOAD_FOLDER": str(folder),
    }


def test_a_batch_with_one_file_refused_stores_the_others_and_shows_each_outcome(
    page, serve, tmp_path, batch_app
):
    folder = tmp_path / "uploads"
    server = serve(batch_app(folder))
    page.goto(server.url + "/")
    successes = []
    page.expose_function("recordSuccess", lambda name: successes.append(name))
    page.evaluate("""() => document.getElementById('myDropzone').dropzone.on('success',
                       (file) => window.recordSuccess(file.name))""")
    # An HTML page named .png passes the browser (its type comes from the name); the server sniffs it.
    files = [
        ("a.png", png(seed=1)),
        ("evil.png", b"<!doctype html><script>alert(1)</script>"),
        ("c.png", png(seed=2)),
    ]
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 3)
    page.wait_for_timeout(200)
    assert statuses(page, "myDropzone") == ["success", "error", "success"]
    assert error_messages(page, "myDropzone") == ["", NOT_A_PNG, ""]
    classes = page.evaluate("""() => Array.from(document.querySelectorAll('#myDropzone .dz-preview'),
                                 p => [p.classList.contains('dz-success'), p.classList.contains('dz-error')])""")
    assert classes == [[True, False], [False, True], [True, False]]
    assert sorted(successes) == ["a.png", "c.png"]
    # Dropzone could not draw the fake picture: a plain icon, not its "Failed to load the image"
    assert (
        page.evaluate("() => document.querySelectorAll('#myDropzone .dz-no-thumbnail').length") == 1
    )
    assert sorted(path.name for path in folder.iterdir()) == ["a.png", "c.png"]
