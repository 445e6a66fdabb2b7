"""CSRF errors on uploads are plain text, unless the app handles CSRFError itself."""

from __future__ import annotations

import io

import pytest
from flask import Flask, render_template_string, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from flask_dropzone import Dropzone

from support.html import zone_config

XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def csrf_app(make_app):
    def make(handler_first: bool = False, handler_after: bool = False) -> Flask:
        app = make_app(dropzone=False, DROPZONE_ENABLE_CSRF=True)

        def own_handler(error):
            return "handled by the app", 418

        if handler_first:  # before the extension registers its own
            app.register_error_handler(CSRFError, own_handler)
        Dropzone(app)
        CSRFProtect(app)
        if handler_after:
            app.register_error_handler(CSRFError, own_handler)

        @app.route("/", methods=["GET", "POST"])
        def index():
            return render_template_string("{{ dropzone.config() }}")

        return app

    return make


def upload(client, headers):
    data = {"file": (io.BytesIO(b"x"), "a.txt")}
    return client.post("/", data=data, content_type="multipart/form-data", headers=headers)


def test_missing_token_on_an_upload_is_plain_text(csrf_app):
    response = upload(csrf_app().test_client(), XHR)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "The CSRF token is missing."


def test_bad_token_is_plain_text(csrf_app):
    client = csrf_app().test_client()
    client.get("/")  # a session, with its CSRF secret
    response = upload(client, {**XHR, "X-CSRF-Token": "forged"})
    assert response.get_data(as_text=True) == "The CSRF token is invalid."


def test_the_token_config_sends_is_accepted(csrf_app):
    client = csrf_app().test_client()
    token = zone_config(client.get("/").get_data(as_text=True))["options"]["headers"][
        "X-CSRF-Token"
    ]
    assert upload(client, {**XHR, "X-CSRF-Token": token}).status_code == 200


def test_other_requests_keep_flasks_error_page(csrf_app):
    response = csrf_app().test_client().post("/", data={"name": "x"})
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_the_apps_own_handler_wins_whenever_it_is_registered(csrf_app):
    for app in (csrf_app(handler_first=True), csrf_app(handler_after=True)):
        response = upload(app.test_client(), XHR)
        assert (response.status_code, response.get_data(as_text=True)) == (
            418,
            "handled by the app",
        )


@pytest.fixture
def upload_app(make_app):
    def make(**config) -> Flask:
        app = make_app(DROPZONE_ENABLE_CSRF=True, DROPZONE_MAX_FILE_SIZE=64, **config)
        dropzone = app.extensions["dropzone"]
        CSRFProtect(app)

        @app.route("/", methods=["GET", "POST"])
        def index():
            if request.method == "POST":
                return {"saved": [s.stored_name for s in dropzone.save()]}
            return render_template_string("{{ dropzone.config() }}")

        return app

    return make


def token_headers(client) -> dict:
    token = zone_config(client.get("/").get_data(as_text=True))["options"]["headers"][
        "X-CSRF-Token"
    ]
    return {**XHR, "X-CSRF-Token": token}


def test_with_csrfprotect_a_large_file_is_written_once_into_place(
    tmp_path, monkeypatch, upload_app
):
    """CSRFProtect reads the form before the view; the file still goes through the
    extension's reader, straight into the upload folder, and is linked, not copied."""
    import os

    import werkzeug.formparser

    from flask_dropzone._stores.disk import files as storage

    app = upload_app()
    client = app.test_client()
    headers = token_headers(client)
    spooled, written = [], []
    monkeypatch.setattr(
        werkzeug.formparser, "default_stream_factory", lambda *a, **k: spooled.append(1)
    )
    monkeypatch.setattr(storage.DiskFiles, "copy_into", lambda *a, **k: spooled.append("copy"))
    write = storage.write_all
    monkeypatch.setattr(
        storage, "write_all", lambda fd, data, *a: written.append(len(data)) or write(fd, data, *a)
    )
    content = os.urandom(8 * 1024 * 1024)
    data = {"file": (io.BytesIO(content), "big.bin")}
    response = client.post("/", data=data, content_type="multipart/form-data", headers=headers)
    assert response.json == {"saved": ["big.bin"]}
    assert spooled == [] and sum(written) == len(content)  # one write per byte
    assert (tmp_path / "instance" / "uploads" / "big.bin").read_bytes() == content


def test_with_csrfprotect_max_content_length_is_refused_in_plain_text(upload_app):
    app = upload_app(MAX_CONTENT_LENGTH=1000)
    client = app.test_client()
    headers = token_headers(client)
    data = {"file": (io.BytesIO(b"x" * 5000), "a.bin")}
    response = client.post("/", data=data, content_type="multipart/form-data", headers=headers)
    assert response.status_code == 413 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "The upload is larger than the server accepts."


def test_other_forms_of_the_app_still_read_their_fields_and_files(upload_app):
    app = upload_app()
    app.config["WTF_CSRF_ENABLED"] = False

    @app.post("/profile")
    def profile():
        avatar = request.files["avatar"]
        return {
            "name": request.form["name"],
            "avatar": avatar.read().decode(),
            "filename": avatar.filename,
        }

    data = {"name": "Ada", "avatar": (io.BytesIO(b"pixels"), "me.png")}
    response = app.test_client().post("/profile", data=data, content_type="multipart/form-data")
    assert response.json == {"name": "Ada", "avatar": "pixels", "filename": "me.png"}
