"""send_stored(): stored files sent back safely (delivery.py's rules, then the disk and a real S3 server)."""

from __future__ import annotations

import dataclasses
import io
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from flask import Flask, request
from werkzeug.http import dump_options_header, parse_options_header

from flask_dropzone import Dropzone, SavedFile
from flask_dropzone import _stores as stores
from flask_dropzone._rules import delivery

from support.apps import STORES

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64
BMP = b"BM" + b"\x00" * 64
ICO = b"\x00\x00\x01\x00" + b"\x00" * 64
TIFF = b"II*\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 64
EVIL_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'pwned\'">'
    b"<script>document.title='pwned'</script></svg>"
)
HTML = b"<!doctype html><script>document.title='pwned'</script>"


# delivery.py: names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a.png", True),
        ("photo (1).jpg", True),
        ("中文.png", True),
        ("3f9c0e1a.png", True),
        ("README", True),
        ("a" * 236 + ".png", True),  # 240 bytes: the longest stored name
        ("a" * 237 + ".png", False),
        ("", False),
        (".", False),
        ("..", False),
        ("../x", False),
        ("..\\x", False),
        ("a/b", False),
        ("a\\b", False),
        ("/etc/passwd", False),
        (".env", False),
        (".dropzone-0123456789abcdef.part", False),  # a file being received
        ("a\x00b", False),
        ("a\nb.txt", False),
        ("a\u202egnp.exe", False),  # a format character
        ("CON.txt", False),  # stored as _CON.txt
        ("a.png.", False),
        ("a.png ", False),
        (" a.png", False),
        ("a<b>.png", False),
        ("a:b.png", False),
        ("e\u0301.png", False),  # not NFC: stored names are
        (None, False),
        (b"a.png", False),
    ],
)
def test_only_a_plain_stored_name_is_servable(name, ok):
    assert delivery.servable(name) is ok


# delivery.py: how a file is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "inline", "content_type"),
    [
        ("a.png", PNG, True, "image/png"),
        ("a.jpg", JPEG, True, "image/jpeg"),
        ("a.jpg", PNG, True, "image/png"),  # the content's type, not the name's
        ("a.gif", GIF, True, "image/gif"),
        ("a.webp", WEBP, True, "image/webp"),
        ("a.bmp", BMP, True, "image/bmp"),
        ("a.ico", ICO, True, "image/x-icon"),
        ("photo", PNG, True, "image/png"),  # no extension: the content decides
        ("a.svg", EVIL_SVG, False, delivery.OCTET_STREAM),
        ("a.svg", PNG, False, delivery.OCTET_STREAM),  # a PNG named .svg is saved as .svg
        ("a.html", PNG, False, delivery.OCTET_STREAM),
        ("a.png", HTML, False, delivery.OCTET_STREAM),  # HTML named .png
        ("a.png", EVIL_SVG, False, delivery.OCTET_STREAM),
        ("a.png", b"", False, delivery.OCTET_STREAM),
        ("a.html", HTML, False, delivery.OCTET_STREAM),
        ("a.xhtml", HTML, False, delivery.OCTET_STREAM),
        ("a.xml", b"<?xml version='1.0'?><x/>", False, delivery.OCTET_STREAM),
        ("a.js", b"alert(1)", False, delivery.OCTET_STREAM),  # never a script type
        ("a.mjs", b"alert(1)", False, delivery.OCTET_STREAM),
        ("a.css", b"body{}", False, delivery.OCTET_STREAM),  # never a style type
        ("a.txt", b"hello", False, "text/plain"),
        ("a.txt", HTML, False, "text/plain"),  # text/plain + nosniff: never HTML
        ("a.csv", b"a,b\n1,2\n", False, "text/csv"),
        ("a.pdf", PDF, False, "application/pdf"),
        ("a.pdf", b"not a pdf", False, delivery.OCTET_STREAM),
        ("a.zip", ZIP, False, "application/zip"),
        ("a.tif", TIFF, False, "image/tiff"),  # most browsers cannot show it: a download
        ("a.bin", b"\x00\x01", False, delivery.OCTET_STREAM),
        ("noext", b"hello", False, delivery.OCTET_STREAM),
    ],
)
def test_raster_images_are_inline_and_everything_else_a_download(name, head, inline, content_type):
    sent = delivery.decide(name, head)
    assert (sent.inline, sent.content_type) == (inline, content_type)
    kind, params = parse_options_header(sent.disposition)
    assert kind == ("inline" if inline else "attachment") and params["filename"] == name


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/javascript",
        "application/javascript",
        "text/css",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/wasm",
        "application/x-shockwave-flash",
    ],
)
def test_active_types_are_never_passive(content_type):
    assert not delivery.passive(content_type)


@pytest.mark.parametrize(
    ("name", "ascii_name"),
    [
        ("a.png", "a.png"),
        ("a b;c.png", "a b;c.png"),
        ("中文 a.txt", "__ a.txt"),
        ("café.txt", "cafe.txt"),
        ("it's 100%.txt", "it's 100%.txt"),
    ],
)
def test_the_disposition_names_the_file_in_ascii_and_in_utf8(name, ascii_name):
    value = delivery.disposition(name, inline=False)
    kind, params = parse_options_header(value)  # Werkzeug decodes filename* (RFC 8187)
    assert kind == "attachment" and params["filename"] == name
    assert value.isascii()
    if not name.isascii():  # the ASCII stand-in, for clients that do not read filename*
        plain, _, extended = value.partition("; filename*=")
        assert parse_options_header(plain)[1]["filename"] == ascii_name and extended.startswith(
            "UTF-8''"
        )


@pytest.mark.parametrize(("name", "head"), [("a.png", PNG), ("a.svg", EVIL_SVG), ("a.txt", b"x")])
def test_every_response_carries_nosniff_and_a_sandbox(name, head):
    headers = delivery.headers(delivery.decide(name, head))
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"].split("; ")
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert not any("script" in directive for directive in policy)
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


def test_only_a_picture_may_have_the_browsers_own_inline_style():
    assert (
        delivery.headers(delivery.decide("a.png", PNG))["Content-Security-Policy"]
        == delivery.IMAGE_POLICY
    )
    assert delivery.headers(delivery.decide("a.svg", EVIL_SVG))["Content-Security-Policy"] == (
        "default-src 'none'; sandbox"
    )


@pytest.mark.parametrize("bad", [0, -1, 7 * 24 * 3600 + 1, 1.5, "300", True, None])
def test_a_url_lifetime_is_whole_seconds_up_to_seven_days(bad):
    with pytest.raises(ValueError, match="expires_in"):
        delivery.check_expiry(bad)
    assert (
        delivery.check_expiry(1) == 1 and delivery.check_expiry(delivery.URL_EXPIRES_MAX) == 604800
    )


# send_stored() on disk ---------------------------------------------------------------------


@pytest.fixture
def serving_app(make_app):
    """``serving_app(folder, **config)``: an app storing into ``folder`` and serving from it."""

    def make(folder, **config) -> Flask:
        app = make_app(DROPZONE_UPLOAD_FOLDER=str(folder), **config)
        return with_serving_views(app)

    return make


def with_serving_views(app: Flask) -> Flask:
    dropzone = app.extensions["dropzone"]
    app.asked = []  # the names the view was given (hostile ones must reach it)

    @app.get("/files/<path:name>")
    def files(name):
        app.asked.append(name)
        return dropzone.send_stored(name)

    @app.get("/avatars/<path:name>")
    def avatars(name):
        return dropzone.send_stored(name, zone="avatar")

    @app.get("/in/<folder>/<path:name>")
    def in_folder(folder, name):
        return dropzone.send_stored(
            name, folder=os.path.join(str(app.config["DROPZONE_UPLOAD_FOLDER"]), folder)
        )

    @app.post("/upload")
    def upload():
        return {"stored": [saved.stored_name for saved in dropzone.save()]}

    @app.post("/avatar")
    def avatar():
        return {"stored": [saved.stored_name for saved in dropzone.save(zone="avatar")]}

    return app


@pytest.fixture
def disk(tmp_path, serving_app):
    folder = tmp_path / "uploads"
    folder.mkdir()
    app = serving_app(folder)
    return app, app.test_client(), folder


def assert_safe(response, picture=False):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = delivery.IMAGE_POLICY if picture else "default-src 'none'; sandbox"
    assert response.headers["Content-Security-Policy"] == policy
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"


def assert_not_found(response):
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "There is no such file."


def test_a_png_is_shown_inline_as_a_png(disk):
    _, client, folder = disk
    (folder / "photo.png").write_bytes(PNG)
    response = client.get("/files/photo.png")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == "inline; filename=photo.png"
    assert response.content_length == len(PNG)
    assert_safe(response, picture=True)


def test_an_svg_with_script_is_a_download_that_cannot_run(disk):
    _, client, folder = disk
    (folder / "logo.svg").write_bytes(EVIL_SVG)
    response = client.get("/files/logo.svg")
    assert response.status_code == 200 and response.data == EVIL_SVG
    assert response.headers["Content-Disposition"] == "attachment; filename=logo.svg"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert_safe(response)


def test_html_named_png_is_a_download(disk):
    _, client, folder = disk
    (folder / "cat.png").write_bytes(HTML)
    response = client.get("/files/cat.png")
    assert response.headers["Content-Disposition"] == "attachment; filename=cat.png"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert_safe(response)


def test_text_keeps_its_type_without_a_charset_guessed(disk):
    _, client, folder = disk
    (folder / "notes.txt").write_bytes(b"<script>x</script>")
    response = client.get("/files/notes.txt")
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_a_non_ascii_name_is_encoded_for_the_download(disk):
    _, client, folder = disk
    (folder / "中文 报告.pdf").write_bytes(PDF)
    response = client.get("/files/" + urllib.parse.quote("中文 报告.pdf"))
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    kind, params = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, params["filename"]) == ("attachment", "中文 报告.pdf")


@pytest.mark.parametrize(
    "path",
    [
        "../x",
        "%2e%2e/x",
        "..%2fx",
        "..%5cx",
        ".env",
        "a/b",
        "a%2fb",
        "a%00b",
        "%00",
        "a" * 300 + ".png",
        "a" * 237 + ".png",
        "CON.txt",
        "%20a.png",
        "a.png%20",
    ],
)
def test_hostile_names_are_a_plain_404(disk, path):
    app, client, folder = disk
    (folder / ".env").write_bytes(b"SECRET=1")
    (folder / ("a" * 237 + ".png")).write_bytes(PNG)  # exists, but no stored name is that long
    (folder / "CON.txt").write_bytes(b"x")
    (folder / "a").mkdir()
    (folder / "a" / "b").write_bytes(b"x")
    (folder.parent / "x").write_bytes(b"outside")
    response = client.get("/files/" + path)
    assert_not_found(response)
    assert len(app.asked) == 1  # refused by send_stored(), not by the router


def test_the_apps_own_404_handler_answers(disk):
    app, client, _ = disk
    app.register_error_handler(404, lambda error: ("not here", 404))
    response = client.get("/files/missing.png")
    assert (response.status_code, response.get_data(as_text=True)) == (404, "not here")


def test_a_symlink_in_the_folder_is_not_followed(disk, tmp_path):
    _, client, folder = disk
    (tmp_path / "secret.png").write_bytes(PNG)
    (folder / "real.png").write_bytes(PNG)
    os.symlink(tmp_path / "secret.png", folder / "outside.png")
    os.symlink(folder / "real.png", folder / "inside.png")
    os.symlink("/etc/passwd", folder / "passwd.txt")
    assert client.get("/files/real.png").status_code == 200
    for name in ("outside.png", "inside.png", "passwd.txt"):
        assert_not_found(client.get("/files/" + name))


def test_a_missing_file_a_folder_and_a_fifo_are_404(disk):
    _, client, folder = disk
    (folder / "sub.png").mkdir()
    os.mkfifo(folder / "pipe.png")  # opened without waiting for a writer
    for name in ("missing.png", "sub.png", "pipe.png"):
        assert_not_found(client.get("/files/" + name))


def test_a_missing_upload_folder_is_404(tmp_path, serving_app):
    app = serving_app(tmp_path / "never-made")
    assert_not_found(app.test_client().get("/files/a.png"))


def test_what_save_stored_is_served_back(disk):
    _, client, _ = disk
    data = {"file": (io.BytesIO(EVIL_SVG), "../../logo.svg")}
    stored = client.post("/upload", data=data, content_type="multipart/form-data").json["stored"]
    assert stored == ["logo.svg"]
    response = client.get("/files/logo.svg")
    assert response.data == EVIL_SVG and response.headers["Content-Disposition"].startswith(
        "attachment;"
    )


def test_a_zone_serves_from_the_folder_it_stored_into(tmp_path, serving_app):
    folder, avatars = tmp_path / "uploads", tmp_path / "avatars"
    app = serving_app(
        folder,
        DROPZONE_ZONES={"avatar": {"upload_folder": str(avatars), "allowed_file_type": "image"}},
    )
    client = app.test_client()
    data = {"file": (io.BytesIO(PNG), "me.png")}
    assert client.post("/avatar", data=data, content_type="multipart/form-data").json == {
        "stored": ["me.png"]
    }
    assert (avatars / "me.png").read_bytes() == PNG
    response = client.get("/avatars/me.png")
    assert response.status_code == 200 and response.data == PNG
    assert_not_found(client.get("/files/me.png"))  # not in the app's upload folder


def test_folder_names_the_folder_as_for_save(disk):
    _, client, folder = disk
    (folder / "albums").mkdir()
    (folder / "albums" / "a.png").write_bytes(PNG)
    assert client.get("/in/albums/a.png").data == PNG
    assert_not_found(client.get("/in/albums/..%2fa.png"))


def test_ranges_and_validators_come_with_the_file(disk):
    _, client, folder = disk
    (folder / "photo.png").write_bytes(PNG)
    first = client.get("/files/photo.png")
    assert (
        first.headers["Accept-Ranges"] == "bytes" and first.headers["ETag"] and first.last_modified
    )
    assert "private" in first.headers["Cache-Control"]
    assert (
        client.get("/files/photo.png", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )
    part = client.get("/files/photo.png", headers={"Range": "bytes=1-3"})
    assert part.status_code == 206 and part.data == PNG[1:4]
    assert part.headers["Content-Range"] == f"bytes 1-3/{len(PNG)}"
    assert part.headers["Content-Disposition"] == "inline; filename=photo.png"
    assert client.get("/files/photo.png", headers={"Range": "bytes=999-"}).status_code == 416
    (folder / "photo.png").unlink()
    (folder / "photo.png").write_bytes(PNG + b"\x00")  # another file under the same name
    assert (
        client.get("/files/photo.png", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 200
    )


def test_head_answers_the_headers_alone(disk):
    _, client, folder = disk
    (folder / "photo.png").write_bytes(PNG)
    response = client.head("/files/photo.png")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Content-Type"] == "image/png" and response.content_length == len(PNG)


def test_an_unreadable_store_is_a_plain_503(disk, monkeypatch, caplog):
    app, client, folder = disk
    (folder / "photo.png").write_bytes(PNG)
    files = stores.of(app).files

    def broken(folder, name):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files, "open", broken)
    response = client.get("/files/photo.png")
    assert response.status_code == 503 and response.mimetype == "text/plain"
    assert (
        response.get_data(as_text=True)
        == "The server cannot send files right now; try again later."
    )
    assert "reading a stored file failed" in caplog.text


def test_a_bad_lifetime_is_the_apps_error(disk):
    app, _, _ = disk
    with app.test_request_context("/"), pytest.raises(ValueError, match="expires_in"):
        app.extensions["dropzone"].send_stored("a.png", expires_in=0)


# send_stored() with S3 storage: a real S3 server (SeaweedFS) -------------------------------


@pytest.fixture
def s3_serving_app(make_app):
    """``s3_serving_app(settings, **config)``: an app storing into a bucket and serving from it."""
    return lambda settings, **config: with_s3_serving_views(make_app(**settings, **config))


def with_s3_serving_views(app: Flask) -> Flask:
    dropzone = app.extensions["dropzone"]

    @app.post("/upload")
    def upload():
        return {"stored": [saved.stored_name for saved in dropzone.save()]}

    @app.post("/avatars")
    def avatars_upload():
        return {"stored": [saved.location for saved in dropzone.save(folder="avatars")]}

    @app.get("/files/<path:name>")
    def files(name):
        return dropzone.send_stored(name, expires_in=int(app.config.get("EXPIRES", 300)))

    @app.get("/avatars/<path:name>")
    def avatars(name):
        return dropzone.send_stored(name, folder="avatars")

    return app


def upload(client, url, name, data):
    return client.post(
        url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def follow(location: str):
    """GET the presigned URL from outside the app, as the browser does."""
    assert location.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(location, timeout=10) as answer:
        return answer.status, answer.headers, answer.read()


def test_s3_redirects_to_a_url_that_sends_the_same_headers(s3_settings, s3_serving_app):
    client = s3_serving_app(s3_settings).test_client()
    assert upload(client, "/upload", "logo.svg", EVIL_SVG).json == {"stored": ["logo.svg"]}
    assert upload(client, "/upload", "photo.png", PNG).json == {"stored": ["photo.png"]}

    svg = client.get("/files/logo.svg")
    assert svg.status_code == 302 and "no-store" in svg.headers["Cache-Control"]
    assert_safe(svg)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(svg.location).query)
    assert query["X-Amz-Expires"] == ["300"]
    status, headers, body = follow(svg.location)
    assert (status, body) == (200, EVIL_SVG)
    assert headers["Content-Disposition"] == "attachment; filename=logo.svg"
    assert headers["Content-Type"] == "application/octet-stream"

    png = client.get("/files/photo.png")
    status, headers, body = follow(png.location)
    assert (status, body) == (200, PNG)
    assert headers["Content-Disposition"] == "inline; filename=photo.png"
    assert headers["Content-Type"] == "image/png"


def test_s3_the_header_overrides_are_signed(s3_settings, s3_serving_app):
    client = s3_serving_app(s3_settings).test_client()
    upload(client, "/upload", "logo.svg", EVIL_SVG)
    location = client.get("/files/logo.svg").location
    forged = location.replace(
        "response-content-type=application%2Foctet-stream", "response-content-type=text%2Fhtml"
    )
    assert forged != location
    with pytest.raises(urllib.error.HTTPError) as refused:
        follow(forged)
    assert refused.value.code == 403


def test_s3_a_non_ascii_name_is_encoded_in_the_url(s3_settings, s3_serving_app):
    client = s3_serving_app(s3_settings).test_client()
    assert upload(client, "/upload", "中文 报告.txt", b"hello").json == {
        "stored": ["中文 报告.txt"]
    }
    status, headers, body = follow(
        client.get("/files/" + urllib.parse.quote("中文 报告.txt")).location
    )
    kind, params = parse_options_header(headers["Content-Disposition"])
    assert (status, body, kind, params["filename"]) == (
        200,
        b"hello",
        "attachment",
        "中文 报告.txt",
    )
    assert headers["Content-Type"] == "text/plain"


def test_s3_missing_and_hostile_names_are_a_plain_404(s3_settings, s3_serving_app):
    client = s3_serving_app(s3_settings).test_client()
    upload(client, "/avatars", "me.png", PNG)
    for path in (
        "missing.png",
        "avatars%2fme.png",
        "../avatars/me.png",
        ".env",
        "a%00b",
        "_dropzone",
    ):
        assert_not_found(client.get("/files/" + path))


def test_s3_folder_names_the_prefix_as_for_save(s3_settings, s3_serving_app):
    client = s3_serving_app(s3_settings).test_client()
    assert upload(client, "/avatars", "me.png", PNG).json == {"stored": ["uploads/avatars/me.png"]}
    status, _, body = follow(client.get("/avatars/me.png").location)
    assert (status, body) == (200, PNG)
    assert_not_found(client.get("/files/me.png"))


def test_s3_the_url_expires(s3_settings, s3_serving_app):
    app = s3_serving_app(s3_settings, EXPIRES=1)
    client = app.test_client()
    upload(client, "/upload", "notes.txt", b"hello")
    location = client.get("/files/notes.txt").location
    assert follow(location)[2] == b"hello"
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as refused:
        follow(location)
    assert refused.value.code == 403


def test_s3_an_unusable_bucket_is_a_plain_503(s3_settings, caplog, s3_serving_app):
    settings = {**s3_settings, "DROPZONE_S3_BUCKET": s3_settings["DROPZONE_S3_BUCKET"] + "-missing"}
    client = s3_serving_app(settings).test_client()
    response = client.get("/files/photo.png")
    assert response.status_code == 503 and response.mimetype == "text/plain"
    assert (
        response.get_data(as_text=True)
        == "The server cannot send files right now; try again later."
    )
    assert "reading a stored file failed" in caplog.text


def test_s3_unusable_credentials_are_a_plain_503(s3_settings, monkeypatch, s3_serving_app):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    client = s3_serving_app(s3_settings).test_client()
    assert client.get("/files/photo.png").status_code == 503


@pytest.mark.parametrize("talisman_first", [True, False])
def test_flask_talisman_does_not_replace_a_stored_files_sandbox(tmp_path, talisman_first, make_app):
    """Talisman sets its app-wide policy on every response after the view: a stored file
    keeps its own, whichever extension was set up first, on disk and in a redirect to S3."""
    from flask_talisman import Talisman

    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "evil.svg").write_bytes(EVIL_SVG)
    (folder / "a.png").write_bytes(PNG)
    app = make_app(dropzone=False, DROPZONE_UPLOAD_FOLDER=str(folder))
    policy = {"default-src": "'self'", "script-src": "'self' 'unsafe-inline'"}
    if talisman_first:
        Talisman(app, force_https=False, content_security_policy=policy)
    dropzone = Dropzone(app)
    if not talisman_first:
        Talisman(app, force_https=False, content_security_policy=policy)
    app.add_url_rule("/files/<name>", "files", lambda name: dropzone.send_stored(name))
    app.add_url_rule("/page", "page", lambda: "a page")
    client = app.test_client()
    svg, picture = client.get("/files/evil.svg"), client.get("/files/a.png")
    assert svg.headers["Content-Security-Policy"] == delivery.CONTENT_SECURITY_POLICY
    assert picture.headers["Content-Security-Policy"] == delivery.IMAGE_POLICY
    assert (
        svg.headers["X-Content-Type-Options"] == "nosniff"
        and "attachment" in svg.headers["Content-Disposition"]
    )
    assert (
        "sandbox" not in client.get("/page").headers["Content-Security-Policy"]
    )  # the app's pages: Talisman's


def _saved_app(app) -> Flask:
    """A view storing under random names, and one sending a stored file by its row."""
    dropzone = app.extensions["dropzone"]
    app.rows = {}

    @app.post("/random")
    def random_upload():
        (saved,) = dropzone.save(stored_name="random")
        app.rows[saved.stored_name] = dataclasses.asdict(saved)
        return {"stored": [saved.stored_name]}

    @app.get("/rows/<name>")
    def by_row(name):
        row = app.rows[name]
        return dropzone.send_stored(SavedFile(**row), download_name=request.args.get("as"))

    return app


@pytest.mark.parametrize("storage", STORES)
def test_a_saved_file_is_sent_under_the_persons_name_for_it(
    tmp_path, storage, request, s3_serving_app, serving_app
):
    if storage == "s3":
        app = s3_serving_app(request.getfixturevalue("s3_settings"))
    else:
        folder = tmp_path / "uploads"
        folder.mkdir()
        app = serving_app(folder)
    client = _saved_app(app).test_client()
    (stored,) = upload(client, "/random", "Holiday notes.txt", b"sun\n").json["stored"]
    assert stored != "Holiday notes.txt"  # a random stored name
    for query, shown in (("", "Holiday notes.txt"), ("?as=notes%0d%0a.txt", "notes__.txt")):
        response = client.get(f"/rows/{stored}{query}")
        headers = response.headers if storage == "disk" else follow(response.location)[1]
        assert headers["Content-Disposition"] == dump_options_header(
            "attachment", {"filename": shown}
        )
