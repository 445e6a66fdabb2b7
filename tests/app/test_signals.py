"""What operators and apps see: the file_stored and upload_refused signals, and the log lines."""

from __future__ import annotations

import errno
import io
import logging
import os

import pytest
from flask import request

from flask_dropzone import SavedFile, file_stored, upload_refused

from support.chunking import CHUNK, chunk_app, chunk_requests, send

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.fixture
def app(make_app):
    app = make_app(DROPZONE_CHUNKING=True, DROPZONE_CHUNK_SIZE=CHUNK, DROPZONE_MAX_FILE_SIZE=1)
    dropzone = app.extensions["dropzone"]

    @app.post("/save")
    def save():
        return {"saved": [s.stored_name for s in dropzone.save(**request.args)]}

    return app


@pytest.fixture
def heard(app):
    events = []

    def stored(sender, saved):
        events.append(("stored", sender, saved))

    def refused(sender, filename, status, reason, **extra):
        events.append(("refused", sender, (filename, status, reason)))

    with file_stored.connected_to(stored, app), upload_refused.connected_to(refused, app):
        yield events


def post(client, url, files, **fields):
    data = dict(fields)
    data.update({name: (io.BytesIO(content), filename) for name, filename, content in files})
    return client.post(url, data=data, content_type="multipart/form-data")


def test_each_stored_file_is_announced_with_what_save_returned(app, heard):
    client = app.test_client()
    post(client, "/save", [("file", "one.txt", b"1")])
    post(client, "/save", [("file[0]", "a.txt", b"a"), ("file[1]", "b.txt", b"b")])  # parallel
    for chunk in chunk_requests(os.urandom(3 * CHUNK), "big.bin", CHUNK):
        send(client, chunk)
    assert [event[0] for event in heard] == ["stored"] * 4
    assert all(sender is app and isinstance(saved, SavedFile) for _, sender, saved in heard)
    assert [saved.stored_name for *_, saved in heard] == ["one.txt", "a.txt", "b.txt", "big.bin"]
    assert heard[-1][2].size == 3 * CHUNK


@pytest.mark.parametrize(
    "url, files, expected",
    [
        (
            "/save?allowed_file_type=image",
            [("file", "page.png", b"<html>")],
            ("page.png", 415, "Its name says PNG, but its content is not."),
        ),
        (
            "/save",
            [("file", "big.bin", b"x" * (2 << 20))],
            ("big.bin", 413, "File is too big (2 MiB). Max filesize: 1 MiB."),
        ),
        (
            "/save?max_files=1",
            [("file[0]", "a.txt", b"a"), ("file[1]", "b.txt", b"b")],
            ("b.txt", 400, "You can't upload any more files (at most 1)."),
        ),
    ],
)
def test_each_refusal_is_announced_and_logged_once(app, heard, caplog, url, files, expected):
    caplog.set_level(logging.INFO, logger="flask_dropzone")
    response = post(app.test_client(), url, files)
    assert response.status_code == expected[1]
    assert heard == [("refused", app, expected)]
    (line,) = [r for r in caplog.records if r.name == "flask_dropzone"]
    assert line.levelno == logging.INFO
    assert (
        f"upload refused, {expected[1]}: {expected[2]} (file {expected[0]!r}, client 127.0.0.1)"
        == line.getMessage()
    )


def test_a_chunk_refusal_names_the_file(tmp_path, caplog):
    app = chunk_app(str(tmp_path / "instance"), allowed_file_type="image")
    heard = []

    def refused(sender, **details):
        heard.append(details)

    with upload_refused.connected_to(refused, app):
        send(app.test_client(), chunk_requests(b"<html>" * 500, "fake.png", CHUNK)[0])
    assert heard == [
        {
            "filename": "fake.png",
            "status": 415,
            "reason": "Its name says PNG, but its content is not.",
            "zone": None,
        }
    ]


def test_the_signals_say_which_named_zone(app):
    app.config["DROPZONE_ZONES"] = {"avatar": {"allowed_file_type": "image"}}

    @app.post("/avatar")
    def avatar():
        return {"saved": [s.stored_name for s in app.extensions["dropzone"].save(zone="avatar")]}

    stored, refused = [], []
    with (
        file_stored.connected_to(lambda sender, saved: stored.append(saved.zone), app),
        upload_refused.connected_to(lambda sender, **info: refused.append(info["zone"]), app),
    ):
        client = app.test_client()
        post(client, "/avatar", [("file", "me.png", PNG)])
        post(client, "/avatar", [("file", "me.txt", b"text")])
        post(client, "/save", [("file", "plain.txt", b"text")])
    assert stored == ["avatar", None] and refused == ["avatar"]


def test_a_malformed_request_is_refused_without_a_file_name(app, heard):
    response = app.test_client().post(
        "/save", data=b"--B\r\nnothing", content_type="multipart/form-data; boundary=B"
    )
    assert response.status_code == 400
    ((kind, _, (filename, status, reason)),) = heard
    assert (kind, filename, status) == ("refused", None, 400) and reason.startswith(
        "The upload is not valid"
    )


def test_a_hostile_file_name_cannot_forge_a_log_line(app, caplog):
    caplog.set_level(logging.INFO, logger="flask_dropzone")
    # Browsers percent-encode CR and LF in a file name; the parser decodes them.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; '
        b'filename="x.png%0D%0A2026-01-01 INFO upload stored: all is well"\r\n\r\n<html>\r\n--B--\r\n'
    )
    app.test_client().post(
        "/save?allowed_file_type=image", data=body, content_type="multipart/form-data; boundary=B"
    )
    (line,) = [r.getMessage() for r in caplog.records if r.name == "flask_dropzone"]
    assert "\n" not in line and "\r" not in line and "x.png\\r\\n2026" in line


def test_a_storage_failure_is_logged_as_an_error(app, caplog, monkeypatch):
    from flask_dropzone._stores.disk import files as storage

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "free_name", full)
    caplog.set_level(logging.INFO, logger="flask_dropzone")
    assert post(app.test_client(), "/save", [("file", "a.txt", b"a")]).status_code == 507
    levels = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "flask_dropzone"]
    assert levels[0] == (
        logging.ERROR,
        "storing an upload failed: [Errno 28] No space left on device",
    )
    assert levels[1][0] == logging.INFO and "507" in levels[1][1] and "'a.txt'" in levels[1][1]


def test_successful_chunks_log_nothing(app, caplog):
    caplog.set_level(logging.DEBUG, logger="flask_dropzone")
    client = app.test_client()
    for chunk in chunk_requests(os.urandom(5 * CHUNK), "quiet.bin", CHUNK):
        assert send(client, chunk).status_code == 200
    assert [r for r in caplog.records if r.name == "flask_dropzone"] == []


def test_the_readmes_two_lines_show_refusals_where_flask_shows_its_own(app, capsys):
    from flask.logging import default_handler

    logger = logging.getLogger("flask_dropzone")
    logger.addHandler(default_handler)
    logger.setLevel(logging.INFO)
    try:
        post(app.test_client(), "/save", [("file", "big.bin", b"x" * (2 << 20))])
    finally:
        logger.removeHandler(default_handler)
        logger.setLevel(logging.NOTSET)
    assert (
        "upload refused, 413: File is too big (2 MiB). Max filesize: 1 MiB. (file 'big.bin'"
        in capsys.readouterr().err
    )


def test_a_refusal_before_the_view_is_announced_and_logged_once(caplog, make_app):
    """Under CSRFProtect the form is read in before_request, by the zone's signed rules: a file
    refused then never reaches a view, and is told all the same, with its zone."""
    from flask import render_template_string
    from flask_wtf.csrf import CSRFProtect

    from support.html import zone_config

    app = make_app(
        DROPZONE_ENABLE_CSRF=True, DROPZONE_ZONES={"photos": {"allowed_file_type": "image"}}
    )
    dropzone = app.extensions["dropzone"]
    CSRFProtect(app)
    app.add_url_rule(
        "/", "index", lambda: render_template_string("{{ dropzone.config(id='photos') }}")
    )
    app.add_url_rule(
        "/photos", "photos", lambda: str(dropzone.save(zone="photos")), methods=["POST"]
    )
    caplog.set_level(logging.INFO, logger="flask_dropzone")
    heard = []
    client = app.test_client()
    headers = zone_config(client.get("/").get_data(as_text=True))["options"]["headers"]
    with upload_refused.connected_to(lambda sender, **info: heard.append(info), app):
        response = client.post(
            "/photos", data={"file": (io.BytesIO(b"MZ" + bytes(100)), "virus.png")}, headers=headers
        )
    assert response.status_code == 415
    assert heard == [
        {
            "filename": "virus.png",
            "status": 415,
            "reason": "Its name says PNG, but its content is not.",
            "zone": "photos",
        }
    ]
    assert len([r for r in caplog.records if r.name == "flask_dropzone"]) == 1
