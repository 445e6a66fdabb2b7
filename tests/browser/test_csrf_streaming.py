"""With Flask-WTF's CSRFProtect (the seed's §2), uploads stream as without it, and refusals stay plain text."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_wtf.csrf import CSRFProtect

from flask_dropzone._stores.disk import files as storage

from support.browser import drop_files, error_messages, payload, statuses, wait_settled

PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}</body></html>"""


@pytest.fixture
def csrf_app(page_app):
    """``csrf_app(page=PAGE, **config)``: a zone's page under CSRFProtect."""

    def make(page=PAGE, **config) -> Flask:
        app = page_app(page, {"DROPZONE_ENABLE_CSRF": True, "DROPZONE_MAX_FILE_SIZE": 64, **config})
        CSRFProtect(app)
        return app

    return make


def test_a_large_upload_under_csrfprotect_is_written_once(
    page, serve, tmp_path, monkeypatch, csrf_app
):
    written, copies = [], []
    write = storage.write_all
    monkeypatch.setattr(
        storage, "write_all", lambda fd, data, *a: written.append(len(data)) or write(fd, data, *a)
    )
    copy = storage.DiskFiles.copy_into
    monkeypatch.setattr(
        storage.DiskFiles, "copy_into", lambda *a, **k: copies.append(1) or copy(*a, **k)
    )
    app = csrf_app()
    server = serve(app)
    page.goto(server.url + "/")
    big = payload(20 * 1024 * 1024, seed=5)
    drop_files(page, "myDropzone", [("big.bin", big)])
    wait_settled(page, "myDropzone", 1)
    assert statuses(page, "myDropzone") == ["success"]
    assert (tmp_path / "instance" / "uploads" / "big.bin").read_bytes() == big
    assert copies == [] and sum(written) == len(big)  # one write per byte, the CSRF check included


def test_max_content_length_under_csrfprotect_shows_plain_text(page, serve, csrf_app):
    app = csrf_app(MAX_CONTENT_LENGTH=1024 * 1024)
    server = serve(app)
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("big.bin", payload(3 * 1024 * 1024, seed=6))])
    wait_settled(page, "myDropzone", 1)
    assert error_messages(page, "myDropzone") == ["The upload is larger than the server accepts."]


def test_under_csrfprotect_the_zones_rules_refuse_a_file_while_it_arrives(
    page, serve, tmp_path, monkeypatch, csrf_app
):
    """The browser is told to send anything (custom_options); the server still refuses by
    the zone's settings before the file reaches the disk, though CSRFProtect reads the form."""
    written = []
    write = storage.write_all
    monkeypatch.setattr(
        storage, "write_all", lambda fd, data, *a: written.append(len(data)) or write(fd, data, *a)
    )
    zone = (
        "{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}"
        "{{ dropzone.config(max_file_size=1, custom_options='maxFilesize: null,') }}"
    )
    app = csrf_app(
        page=PAGE.replace(PAGE[PAGE.index("{{ dropzone.create") : PAGE.index("</body>")], zone),
    )
    server = serve(app)
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("big.bin", payload(20 * 1024 * 1024, seed=7))])
    wait_settled(page, "myDropzone", 1)
    assert error_messages(page, "myDropzone") == ["File is too big (20 MiB). Max filesize: 1 MiB."]
    assert sum(written) <= 2 * 1024 * 1024
    assert not (tmp_path / "instance" / "uploads").exists() or not any(
        (tmp_path / "instance" / "uploads").iterdir()
    )
