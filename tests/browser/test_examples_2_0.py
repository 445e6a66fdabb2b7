"""Flask-Dropzone 2.0.0's nine example scenarios, unchanged code patterns, on this package.

Each app below uses the settings, template calls and view pattern of one of 2.0.0's
examples (basic, click-upload, complete-redirect, csrf, custom-options, in-form,
large-file, multiple-dropzone, parallel-upload): the way 2.0.0's users wrote their
code, including views that save ``request.files`` themselves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

import pytest
from flask import Flask, render_template_string, request

from support.browser import drop_files, error_messages, payload, png, statuses, wait_settled

PAGE = """<!doctype html><html><head><meta charset="utf-8">
{{ dropzone.load_css() }}{{ dropzone.style('border: 2px dashed #0087F7; min-height: 200px;') }}
</head><body>%s</body></html>"""


@pytest.fixture
def example_app(make_app):
    """``example_app(folder, settings, body)``: an app as 2.0.0's examples wrote them (no
    SECRET_KEY): settings in app.config, one page, and a view that saves each uploaded file
    under its own name."""
    return lambda folder, settings, body: with_example_views(
        make_app(**{"SECRET_KEY": None, "UPLOADED_PATH": str(folder), **settings}), body
    )


def with_example_views(app: Flask, body: str) -> Flask:

    @app.route("/", methods=["GET", "POST"])
    def upload():
        if request.method == "POST":
            for key, f in request.files.items():
                if key.startswith("file"):
                    f.save(os.path.join(app.config["UPLOADED_PATH"], f.filename))
        return render_template_string(PAGE % body)

    return app


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    return path


@pytest.fixture
def visit(page, serve):
    """Serve the app, open its page, and record every request the page makes."""

    def open_page(app: Flask, path: str = "/"):
        server = serve(app)
        page.requests = []  # type: ignore[attr-defined]
        page.on("request", lambda req: page.requests.append((req.method, req.url)))
        page.goto(server.url + path)
        return server

    yield open_page
    off_loopback = [
        url
        for _, url in getattr(page, "requests", [])
        if not url.startswith(("http://127.0.0.1:", "data:", "blob:"))
    ]
    assert off_loopback == []


def saved(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def pictures(count: int, offset: int = 0) -> list[tuple[str, bytes]]:
    return [(f"photo{offset + n}.png", png(seed=offset + n)) for n in range(count)]


IMAGES = {
    "DROPZONE_ALLOWED_FILE_TYPE": "image",
    "DROPZONE_MAX_FILE_SIZE": 3,
    "DROPZONE_MAX_FILES": 30,
}


def test_basic(page, visit, folder, example_app):
    visit(
        example_app(
            folder,
            IMAGES,
            "{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}",
        )
    )
    # the empty zone states the example's rules (a change the migration notes list)
    assert page.locator("#myDropzone .dz-message").text_content() == (
        "Drop files here or click to upload. Allowed: Images (PNG, JPEG, GIF, WebP, AVIF, BMP, TIFF, HEIC/HEIF, ICO). "
        "Max filesize: 3 MiB. Max files: 30."
    )
    files = pictures(3)
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 3)
    assert statuses(page, "myDropzone") == ["success"] * 3
    assert page.locator("#myDropzone .dz-success").count() == 3
    assert saved(folder) == dict(files)


def test_click_upload(page, visit, folder, example_app):
    body = """{{ dropzone.create('/') }}<button id="upload">Upload</button>
              {{ dropzone.load_js() }}{{ dropzone.config() }}"""
    visit(
        example_app(
            folder, {**IMAGES, "DROPZONE_MAX_FILES": 20, "DROPZONE_UPLOAD_ON_CLICK": True}, body
        )
    )
    files = pictures(5)
    drop_files(page, "myDropzone", files)
    page.wait_for_timeout(300)
    assert saved(folder) == {} and statuses(page, "myDropzone") == ["queued"] * 5
    page.click("#upload")
    wait_settled(page, "myDropzone", 5)
    assert statuses(page, "myDropzone") == ["success"] * 5
    assert saved(folder) == dict(files)


def test_complete_redirect(page, visit, folder, example_app):
    app = example_app(
        folder,
        {**IMAGES, "DROPZONE_REDIRECT_VIEW": "completed"},
        "{{ dropzone.create('upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}",
    )

    @app.route("/completed")
    def completed():
        return "<h1>The Redirected Page</h1>"

    visit(app)
    files = pictures(2)
    drop_files(page, "myDropzone", files)
    page.wait_for_url("**/completed")
    assert page.locator("h1").text_content() == "The Redirected Page"
    assert saved(folder) == dict(files)


def test_csrf(page, visit, folder, example_app):
    from flask_wtf.csrf import CSRFError, CSRFProtect

    app = example_app(
        folder,
        {**IMAGES, "SECRET_KEY": "dev key", "DROPZONE_ENABLE_CSRF": True},
        "{{ dropzone.create('upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}",
    )
    CSRFProtect(app)

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return e.description, 400

    visit(app)
    files = pictures(2)
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 2)
    assert statuses(page, "myDropzone") == ["success"] * 2
    assert saved(folder) == dict(files)


def test_custom_options(page, visit, folder, example_app):
    body = """{{ dropzone.create(action='upload') }}<button id="upload-btn">Upload</button>
      {{ dropzone.load_js() }}
      {{ dropzone.config(custom_init='dz = this;document.getElementById("upload-btn").addEventListener("click", function handler(e) {dz.processQueue();});',
                         custom_options='autoProcessQueue: false, addRemoveLinks: true, parallelUploads: 20,') }}"""
    visit(example_app(folder, IMAGES, body))
    files = pictures(4)
    drop_files(page, "myDropzone", files)
    page.wait_for_timeout(300)
    assert saved(folder) == {}
    assert page.locator("#myDropzone .dz-remove").count() == 4  # addRemoveLinks
    page.click("#upload-btn")
    wait_settled(page, "myDropzone", 4)
    assert statuses(page, "myDropzone") == ["success"] * 4
    assert saved(folder) == dict(files)


IN_FORM = {
    **IMAGES,
    "DROPZONE_IN_FORM": True,
    "DROPZONE_UPLOAD_ON_CLICK": True,
    "DROPZONE_UPLOAD_BTN_ID": "submit",
}
FORM_PAGE = """<h1>New Album</h1>
<form action="{{ url_for('handle_form') }}" enctype="multipart/form-data" method="post">
  <input type="text" id="title" name="title"><input type="text" id="description" name="description">
  {{ dropzone.create() }}
  <input type="submit" id="submit" value="Submit and Upload">
</form>{{ dropzone.load_js() }}{{ dropzone.config() }}"""


@pytest.fixture
def in_form_app(make_app):
    """``in_form_app(folder, settings, refuse=None)``: 2.0.0's in-form example (no SECRET_KEY):
    a page, an upload view that answers 204 (400 for a file ``refuse`` names), a form view."""
    return lambda folder, settings, refuse=None: with_in_form_views(
        make_app(**{"SECRET_KEY": None, "UPLOADED_PATH": str(folder), **settings}), refuse
    )


def with_in_form_views(app: Flask, refuse: Optional[Callable[[str], bool]]) -> Flask:
    app.extensions["form_posts"] = []

    @app.route("/")
    def index():
        return render_template_string(PAGE % FORM_PAGE)

    @app.route("/upload", methods=["POST"])
    def handle_upload():
        for key, f in request.files.items():
            if key.startswith("file"):
                if refuse and refuse(f.filename):
                    return "The server does not want this one.", 400
                f.save(os.path.join(app.config["UPLOADED_PATH"], f.filename))
        return "", 204

    @app.route("/form", methods=["POST"])
    def handle_form():
        app.extensions["form_posts"].append(sorted(request.files))
        return "file uploaded and form submit<br>title: %s<br> description: %s" % (
            request.form.get("title"),
            request.form.get("description"),
        )

    return app


def test_in_form_with_its_own_upload_view_uploads_then_submits_the_form(
    page, visit, folder, in_form_app
):
    app = in_form_app(folder, {**IN_FORM, "DROPZONE_UPLOAD_ACTION": "handle_upload"})
    visit(app)
    page.fill("#title", "Holiday")
    page.fill("#description", "Sea and sun")
    files = pictures(3)
    drop_files(page, "myDropzone", files)
    page.click("#submit")
    page.wait_for_url("**/form")
    assert "title: Holiday" in page.content() and "description: Sea and sun" in page.content()
    assert saved(folder) == dict(files)
    assert app.extensions["form_posts"] == [
        []
    ]  # the files went to /upload, not again with the form


def test_in_form_with_its_own_upload_view_stays_on_a_failed_file(page, visit, folder, in_form_app):
    app = in_form_app(
        folder,
        {**IN_FORM, "DROPZONE_UPLOAD_ACTION": "handle_upload"},
        refuse=lambda name: name == "photo1.png",
    )
    visit(app)
    page.fill("#title", "Holiday")
    drop_files(page, "myDropzone", pictures(3))
    page.click("#submit")
    wait_settled(page, "myDropzone", 3)
    page.wait_for_timeout(300)
    assert page.url.endswith("/") and app.extensions["form_posts"] == []
    assert error_messages(page, "myDropzone")[1] == "The server does not want this one."
    # Removing the failed file and submitting again sends the form, the others being uploaded.
    page.evaluate(
        "() => { const dz = document.getElementById('myDropzone').dropzone;"
        " dz.removeFile(dz.files[1]); }"
    )
    page.click("#submit")
    page.wait_for_url("**/form")
    assert sorted(saved(folder)) == ["photo0.png", "photo2.png"]


def test_in_form_posting_to_the_forms_own_action_sends_one_request(
    page, visit, folder, in_form_app
):
    app = in_form_app(folder, {**IN_FORM, "DROPZONE_UPLOAD_ACTION": "handle_form"})
    visit(app)
    page.fill("#title", "One go")
    drop_files(page, "myDropzone", pictures(2))
    page.click("#submit")
    page.wait_for_url("**/form")
    assert "title: One go" in page.content()
    assert app.extensions["form_posts"] == [["file[0]", "file[1]"]]  # files and fields together
    assert saved(folder) == {}


def test_large_file(page, visit, folder, example_app):
    app = example_app(
        folder,
        {"DROPZONE_MAX_FILE_SIZE": 1024, "DROPZONE_TIMEOUT": 5 * 60 * 1000},
        "{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}",
    )
    visit(app)
    big = payload(24 * 1024 * 1024, seed=7)
    drop_files(page, "myDropzone", [("big.bin", big)])
    wait_settled(page, "myDropzone", 1)
    assert statuses(page, "myDropzone") == ["success"]
    assert saved(folder) == {"big.bin": big}


def test_multiple_dropzone(page, visit, folder, example_app):
    body = """{{ dropzone.create(action='upload', id='foo') }}{{ dropzone.create(action='upload', id='bar') }}
      {{ dropzone.load_js() }}
      {{ dropzone.config(id='foo', default_message='Dropzone Foo') }}
      {{ dropzone.config(id='bar', default_message='Dropzone Bar') }}"""
    visit(example_app(folder, IMAGES, body))
    assert page.locator("#foo .dz-message").text_content() == "Dropzone Foo"
    assert page.locator("#bar .dz-message").text_content() == "Dropzone Bar"
    foo, bar = pictures(2), pictures(2, offset=10)
    drop_files(page, "foo", foo)
    drop_files(page, "bar", bar)
    wait_settled(page, "foo", 2)
    wait_settled(page, "bar", 2)
    assert statuses(page, "foo") == statuses(page, "bar") == ["success"] * 2
    assert saved(folder) == dict(foo + bar)


def test_parallel_upload(page, visit, folder, example_app):
    app = example_app(
        folder,
        {**IMAGES, "DROPZONE_PARALLEL_UPLOADS": 3, "DROPZONE_UPLOAD_MULTIPLE": True},
        "{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}",
    )
    visit(app)
    files = pictures(7)
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 7)
    assert statuses(page, "myDropzone") == ["success"] * 7
    assert saved(folder) == dict(files)
    posts = [url for method, url in page.requests if method == "POST"]
    assert len(posts) == 3  # 3 + 3 + 1 files


def test_a_template_linking_2_0_static_files_by_name(page, visit, folder, example_app):
    body = """<script src="{{ url_for('dropzone.static', filename='dropzone.min.js') }}"></script>
      {{ dropzone.create(action='upload') }}{{ dropzone.config() }}"""
    visit(example_app(folder, IMAGES, body))
    files = pictures(1)
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 1)
    assert saved(folder) == dict(files)
