"""DROPZONE_STRIP_METADATA: a stored image carries no location or device data, on every path a
file is stored by (save() one file or several, chunks, files() then upload.save(), a form
field's file once claimed); what cannot be stripped is refused and nothing of it stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import request
from flask_wtf import FlaskForm
from wtforms import StringField

from flask_dropzone._rules import metadata
from flask_dropzone.forms import DropzoneField

from support import photos
from support.chunking import chunk_requests, send
from support.forms import field_config, reference

#: A photo small enough to be held in memory, and one spilled to disk as it arrives.
SMALL = photos.jpeg()
LARGE = photos.jpeg(progressive=True, size=(1000, 700))
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64


def assert_stripped(stored: bytes, original: bytes) -> None:
    for secret in photos.SECRETS:
        assert secret not in stored, secret
    assert photos.scan_data(stored) == photos.scan_data(original)
    assert b"ICC_PROFILE" in stored and b"Exif" in stored  # the profile and the orientation


@pytest.fixture
def strip_app(make_app):
    def make(storage="disk", **config):
        app = make_app(storage, DROPZONE_CHUNK_SIZE=1024 * 64, **config)
        dropzone = app.extensions["dropzone"]

        @app.post("/save")
        def save():
            saved = dropzone.save(**request.args)
            return {"saved": [[s.stored_name, s.size] for s in saved]}

        @app.post("/parsed-first")
        def parsed_first():
            request.form  # noqa: B018  (as Flask-WTF's CSRFProtect does: no settings yet)
            return {"saved": [[s.stored_name, s.size] for s in dropzone.save(**request.args)]}

        @app.post("/files")
        def files():
            folder = Path(app.instance_path) / "own"
            folder.mkdir(parents=True, exist_ok=True)
            for upload in dropzone.files():
                upload.save(folder / (upload.filename or "file"))
            return "kept"

        return app

    return make


def uploads(app, folder="uploads") -> dict[str, bytes]:
    found = Path(app.instance_path) / folder
    return {path.name: path.read_bytes() for path in found.iterdir()} if found.is_dir() else {}


def post(client, *files, url="/save"):
    data = {
        f"file[{index}]" if len(files) > 1 else "file": (io.BytesIO(content), name)
        for index, (name, content) in enumerate(files)
    }
    return client.post(url, data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("photo", [SMALL, LARGE], ids=["in memory", "spilled to disk"])
def test_save_stores_a_photo_without_its_metadata_and_says_its_stored_size(strip_app, photo):
    app = strip_app(DROPZONE_STRIP_METADATA=True, DROPZONE_MAX_FILE_SIZE=8)
    response = post(app.test_client(), ("photo.jpg", photo))
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = uploads(app)["photo.jpg"]
    assert_stripped(stored, photo)
    assert response.json["saved"] == [["photo.jpg", len(stored)]] and len(stored) < len(photo)
    assert photos.decoded(stored) == photos.decoded(photo)


@pytest.mark.parametrize("photo", [SMALL, LARGE], ids=["in memory", "spilled to disk"])
def test_a_photo_received_before_the_settings_were_known_is_stripped_when_stored(strip_app, photo):
    app = strip_app(DROPZONE_MAX_FILE_SIZE=8)
    response = post(app.test_client(), ("photo.jpg", photo), url="/parsed-first?strip_metadata=1")
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = uploads(app)["photo.jpg"]
    assert_stripped(stored, photo)
    assert response.json["saved"] == [["photo.jpg", len(stored)]]


def test_by_default_a_photo_is_stored_byte_for_byte(strip_app):
    app = strip_app()
    assert post(app.test_client(), ("photo.jpg", SMALL)).status_code == 200
    assert uploads(app)["photo.jpg"] == SMALL


def test_the_keyword_of_save_and_a_named_zone_turn_it_on(strip_app):
    app = strip_app(DROPZONE_ZONES={"photos": {"strip_metadata": True}})
    client = app.test_client()
    assert post(client, ("a.jpg", SMALL), url="/save?strip_metadata=true").status_code == 200
    assert post(client, ("b.jpg", SMALL), url="/save?zone=photos").status_code == 200
    assert post(client, ("c.jpg", SMALL)).status_code == 200
    stored = uploads(app)
    assert_stripped(stored["a.jpg"], SMALL)
    assert_stripped(stored["b.jpg"], SMALL)
    assert stored["c.jpg"] == SMALL


def test_several_files_are_each_stripped_and_a_damaged_one_is_refused_alone(strip_app):
    app = strip_app(DROPZONE_STRIP_METADATA=True, DROPZONE_UPLOAD_MULTIPLE=True)
    damaged = SMALL[: len(SMALL) // 2]
    response = post(
        app.test_client(),
        ("a.jpg", SMALL),
        ("b.png", photos.png()),
        ("c.jpg", damaged),
        ("d.webp", photos.webp()),
    )
    assert response.status_code == 415
    outcomes = {entry["filename"]: entry for entry in response.json["files"]}
    assert outcomes["c.jpg"]["error"] == metadata.DAMAGED_MESSAGE.format(reason="it ends early")
    stored = uploads(app)
    assert sorted(stored) == ["a.jpg", "b.png", "d.webp"]
    assert_stripped(stored["a.jpg"], SMALL)
    for name in ("b.png", "d.webp"):
        assert all(secret not in stored[name] for secret in photos.SECRETS)


def test_a_damaged_photo_alone_is_refused_in_plain_text_and_nothing_is_stored(strip_app):
    app = strip_app(DROPZONE_STRIP_METADATA=True)
    bad_length = SMALL.replace(b"\xff\xdb\x00\x43", b"\xff\xdb\x00\x01", 1)
    for content in (LARGE[: len(LARGE) - 100], bad_length):
        response = post(app.test_client(), ("photo.jpg", content))
        assert response.status_code == 415 and response.mimetype == "text/plain"
        assert response.get_data(as_text=True).startswith("This image is damaged")
    assert uploads(app) == {}
    assert list((Path(app.instance_path) / "uploads").glob(".*")) == []  # no staged copy left


def test_a_type_that_cannot_be_stripped_is_refused_only_while_stripping(strip_app):
    app = strip_app(DROPZONE_STRIP_METADATA=True)
    response = post(app.test_client(), ("scan.tif", TIFF))
    assert response.status_code == 415
    assert response.get_data(as_text=True) == metadata.UNSTRIPPABLE_MESSAGE
    assert uploads(app) == {}
    plain = strip_app()
    assert post(plain.test_client(), ("scan.tif", TIFF)).status_code == 200


def test_other_files_are_stored_as_they_came(strip_app):
    app = strip_app(DROPZONE_STRIP_METADATA=True)
    gif = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 30
    assert post(app.test_client(), ("notes.txt", b"taken at home")).status_code == 200
    assert post(app.test_client(), ("a.gif", gif)).status_code == 200
    assert uploads(app) == {"notes.txt": b"taken at home", "a.gif": gif}


def test_files_then_upload_save_stores_the_stripped_photo(strip_app):
    app = strip_app(DROPZONE_STRIP_METADATA=True)
    for photo in (SMALL, LARGE):
        assert post(app.test_client(), ("photo.jpg", photo), url="/files").status_code == 200
        assert_stripped(uploads(app, "own")["photo.jpg"], photo)


def test_a_chunked_photo_is_stripped_once_assembled(strip_app):
    app = strip_app(DROPZONE_STRIP_METADATA=True, DROPZONE_CHUNKING=True, DROPZONE_MAX_FILE_SIZE=8)
    client = app.test_client()
    for body in chunk_requests(LARGE, "photo.jpg", 1024 * 64):
        response = send(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = uploads(app)["photo.jpg"]
    assert_stripped(stored, LARGE)
    assert response.json["saved"] == [["photo.jpg", len(stored)]]


def test_a_damaged_chunked_photo_is_refused_for_good(strip_app):
    app = strip_app(DROPZONE_STRIP_METADATA=True, DROPZONE_CHUNKING=True, DROPZONE_MAX_FILE_SIZE=8)
    client = app.test_client()
    bodies = chunk_requests(LARGE[:-5000], "photo.jpg", 1024 * 64)
    for body in bodies:
        response = send(client, body)
    assert response.status_code == 415
    assert response.get_data(as_text=True).startswith("This image is damaged")
    assert send(client, bodies[-1]).status_code == 415  # sent again: refused again
    assert uploads(app) == {}


class StrippedForm(FlaskForm):
    title = StringField()
    photos = DropzoneField("Photos", allowed_file_type="image", strip_metadata=True)


def test_a_form_fields_photo_is_stored_stripped_once_claimed(form_app):
    app = form_app(form=StrippedForm, DROPZONE_MAX_FILE_SIZE=8)
    client = app.test_client()
    config = field_config(client)
    refs = [
        reference(client, config, "small.jpg", SMALL),
        reference(client, config, "l.jpg", LARGE),
    ]
    assert client.post("/post", data={"title": "x", "photos": refs}).status_code == 302
    saved = {each.stored_name: each for each in app.claimed[0]}
    stored = uploads(app)
    for name, photo in (("small.jpg", SMALL), ("l.jpg", LARGE)):
        assert_stripped(stored[name], photo)
        assert saved[name].size == len(stored[name])


class AnyFileStrippedForm(FlaskForm):
    title = StringField()
    photos = DropzoneField("Files", strip_metadata=True)  # every type: the content decides


def test_a_form_fields_unstrippable_file_is_refused(form_app):
    app = form_app(form=AnyFileStrippedForm)
    client = app.test_client()
    from support.forms import upload

    refused = upload(client, field_config(client), "scan.tif", TIFF)
    assert refused.status_code == 415
    assert refused.get_data(as_text=True) == metadata.UNSTRIPPABLE_MESSAGE


@pytest.mark.parametrize("group", ["image", "web_image"])
def test_an_image_group_leaves_out_in_the_browser_too_what_cannot_be_stripped(make_app, group):
    """One meaning on both sides: the zone's acceptedFiles and its rule in words drop the
    types the server would refuse, so the browser refuses an AVIF before it is sent."""
    import json
    import re

    from flask import render_template_string

    app = make_app(DROPZONE_ALLOWED_FILE_TYPE=group, DROPZONE_STRIP_METADATA=True)
    with app.test_request_context():
        page = render_template_string("{{ dropzone.config() }}")
    block = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    accepted = json.loads(block.group(1).replace("&lt;", "<"))["options"]["acceptedFiles"]
    rules = set(accepted.split(","))
    assert {"image/jpeg", "image/png", "image/webp"} <= rules
    assert not rules & (metadata.UNSTRIPPABLE | metadata.UNSTRIPPABLE_NAMES), rules
    assert "AVIF" not in page and "Images (" in page
    kept = make_app(DROPZONE_ALLOWED_FILE_TYPE=group)
    with kept.test_request_context():
        assert "image/avif" in render_template_string("{{ dropzone.config() }}")


def test_an_avif_sent_anyway_is_refused_by_its_type_as_the_browser_would(strip_app):
    app = strip_app(DROPZONE_ALLOWED_FILE_TYPE="web_image", DROPZONE_STRIP_METADATA=True)
    avif = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64
    response = post(app.test_client(), ("photo.avif", avif))
    assert response.status_code == 415
    assert response.get_data(as_text=True) == (
        "You can't upload files of this type. Allowed: .jpg, .png, .gif, .webp."
    )
    assert uploads(app) == {}
