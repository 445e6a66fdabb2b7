"""RESUME: a chunked upload that failed half-way, the page reloaded and the same file added
again, sends only the chunks the server does not hold, into the same upload."""

from __future__ import annotations

import hashlib
import os

import pytest
from flask import Flask, render_template_string, request

from support.browser import remembered, statuses, wait_settled_long

MIB = 1024 * 1024
CHUNK = 4 * MIB
PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}{{ dropzone.config(**rules) }}</body></html>"""


@pytest.fixture
def resume_app(make_app):
    """``resume_app(settings=None, state=None, chunk=CHUNK, instance="instance")``: a chunking
    zone whose server fails from the ``state["fail_after"]``-th chunk request on."""

    def make(settings=None, state=None, chunk=CHUNK, instance="instance") -> tuple[Flask, dict]:
        app = make_app(instance=instance, **(settings or {}))
        return with_resume_views(app, state, chunk)

    return make


def with_resume_views(app: Flask, state, chunk) -> tuple[Flask, dict]:
    dropzone = app.extensions["dropzone"]
    rules = {"chunking": True, "chunk_size": chunk, "max_file_size": 64}
    state = state if state is not None else {"fail_after": None, "posts": 0, "indices": []}

    @app.get("/")
    def index():
        return render_template_string(PAGE, rules=rules)

    @app.before_request
    def failing():  # from the fifth chunk request on, the server fails (without reading the body)
        if request.method == "POST" and request.path == "/upload":
            state["posts"] += 1
            if state["fail_after"] is not None and state["posts"] > state["fail_after"]:
                return "down for a moment", 500
        return None

    @app.post("/upload")
    def upload():
        state["indices"].append(int(request.form["dzchunkindex"]))
        return {"stored": [saved.stored_name for saved in dropzone.save(**rules)]}

    return app, state


def add_file(page, path) -> None:
    handle = page.evaluate_handle("document.getElementById('myDropzone').dropzone.hiddenFileInput")
    handle.as_element().set_input_files(str(path))
    page.wait_for_function("document.getElementById('myDropzone').dropzone.files.length === 1")
    wait_settled_long(page)


def failed_half_way(page, server, state, source) -> None:
    state["fail_after"] = 4
    page.goto(server.url + "/")
    add_file(page, source)
    assert statuses(page, "myDropzone") == ["error"]
    assert state["indices"] == [0, 1, 2, 3] and len(remembered(page)) == 1
    state["fail_after"], state["indices"] = None, []
    page.reload()


def test_a_reloaded_upload_sends_only_the_missing_chunks(page, serve, tmp_path, resume_app):
    app, state = resume_app()
    server = serve(app)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(40 * MIB))
    failed_half_way(page, server, state, source)
    add_file(page, source)
    assert statuses(page, "myDropzone") == ["success"]
    assert state["indices"] == [4, 5, 6, 7, 8, 9]  # the chunks the server lacked, and no other
    stored = tmp_path / "instance" / "uploads"
    assert sorted(os.listdir(stored)) == ["big.bin"]  # once, not big (1).bin
    assert (
        hashlib.sha256((stored / "big.bin").read_bytes()).digest()
        == hashlib.sha256(source.read_bytes()).digest()
    )
    assert remembered(page) == []


def test_an_expired_upload_starts_over(page, serve, tmp_path, resume_app):
    app, state = resume_app()
    server = serve(app)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 * MIB))
    failed_half_way(page, server, state, source)
    from support.chunking import age

    age(
        tmp_path / "instance" / "dropzone-chunks", 2 * 86400
    )  # idle past the CHUNK_EXPIRES it started with
    result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert "Removed 1 partial upload" in result.output
    add_file(page, source)
    assert statuses(page, "myDropzone") == ["success"]
    assert state["indices"] == [0, 1, 2, 3, 4]  # from the start, into a new upload
    assert (tmp_path / "instance" / "uploads" / "big.bin").read_bytes() == source.read_bytes()
    assert remembered(page) == []


def test_a_reloaded_upload_resumes_over_two_app_servers_with_s3(
    page, serve, tmp_path, s3_settings, s3_server, resume_app
):
    """One origin (a round-robin proxy), two app servers, S3: the resent chunks may reach either."""
    import threading

    from werkzeug.serving import make_server

    from support.s3server import make_client
    from support.servers import RoundRobin

    state = {"fail_after": None, "posts": 0, "indices": []}
    s3_chunk = 5 * MIB  # S3's smallest part
    apps = [
        resume_app(
            {**s3_settings, "DROPZONE_CHUNK_SIZE": s3_chunk}, state, s3_chunk, instance=name
        )[0]
        for name in "ab"
    ]
    servers = [serve(app) for app in apps]
    proxy = RoundRobin([server.server.server_port for server in servers])
    front = make_server("127.0.0.1", 0, proxy, threaded=True)
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    try:

        class Front:
            url = f"http://127.0.0.1:{front.server_port}"

        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(6 * s3_chunk - 1000))
        failed_half_way(page, Front, state, source)
        add_file(page, source)
        assert statuses(page, "myDropzone") == ["success"]
        assert state["indices"] == [4, 5]
    finally:
        front.shutdown()
        front.server_close()
        thread.join(10)
    stored = make_client(s3_server).get_object(
        Bucket=s3_settings["DROPZONE_S3_BUCKET"], Key="uploads/big.bin"
    )
    assert stored["Body"].read() == source.read_bytes()
    assert len(proxy.posts) == 2


def test_leaving_the_page_mid_upload_asks_first(page, serve, tmp_path, resume_app):
    import threading

    app, state = resume_app()
    held = threading.Event()

    @app.before_request
    def hold():  # a chunk that takes its time: the file is uploading
        if request.method == "POST":
            held.wait(30)

    server = serve(app)
    page.goto(server.url + "/")
    assert (
        page.evaluate(
            "() => { const e = new Event('beforeunload', {cancelable: true}); dispatchEvent(e); return e.defaultPrevented; }"
        )
        is False
    )
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(9 * MIB))
    page.evaluate_handle(
        "document.getElementById('myDropzone').dropzone.hiddenFileInput"
    ).as_element().set_input_files(str(source))
    page.wait_for_function(
        "document.getElementById('myDropzone').dropzone.getUploadingFiles().length === 1"
    )
    asked = page.evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true}); dispatchEvent(e); return e.defaultPrevented; }"
    )
    held.set()
    assert asked is True
