"""Variants of stored images (DROPZONE_VARIANTS): send_stored(..., variant=) makes one once,
keeps it beside its file and sends it as a stored file; deleting the file deletes them; no
listing or name reaches them; unknown variants, non-images and hostile images are a quick
plain-text 404; existing files a zone or form field shows get a thumbnail for their client."""

from __future__ import annotations

import io
import json
import logging
import os
import sys

import pytest
from flask import render_template_string

from flask_dropzone import SavedFile, SettingError
from flask_dropzone._rules import images

from support.forms import PAGE, PostForm
from support.html import zone_config
from support.images import (
    TURNED,
    jpeg,
    jpeg_declaring,
    opened,
    png,
    png_declaring,
    variants_app,
)

HOSTILE = {
    "png-bomb": png_declaring(60000, 60000),
    "jpeg-bomb": jpeg_declaring(60000, 60000),
    "54-megapixels": png_declaring(9000, 6000),
    "truncated": jpeg((400, 200))[:700],
}


@pytest.fixture
def app(make_app):
    app = variants_app(make_app)

    @app.get("/zone")
    def zone():
        shown = [{"name": name} for name in ("photo.jpg", "notes.txt", "own.png")]
        shown[2]["thumbnail"] = "/own-thumbnail.png"
        return render_template_string(
            "{{ dropzone.create() }}{{ dropzone.config(existing=shown) }}", shown=shown
        )

    return app


def store(app, name: str, data: bytes) -> str:
    answer = app.test_client().post("/upload", data={"file": (io.BytesIO(data), name)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["stored"][0]["stored_name"]


def uploads(app) -> str:
    return os.path.join(app.instance_path, "uploads")


def kept_variants(app, name: str) -> list[str]:
    folder = os.path.join(uploads(app), ".dropzone-variants", name)
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_a_thumbnail_fits_its_box_upright_and_is_sent_inline(app):
    store(app, "photo.jpg", jpeg((400, 200), orientation=TURNED))
    answer = app.test_client().get("/files/photo.jpg/thumbnail")
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert opened(answer.data).size == (120, 240)
    assert answer.headers["Content-Disposition"] == "inline; filename=photo-thumbnail.jpg"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer.headers["Content-Security-Policy"]


def test_a_variant_is_made_once_and_kept_beside_its_file(app, monkeypatch):
    store(app, "photo.jpg", jpeg())
    made = []
    real = images.make
    monkeypatch.setattr(images, "make", lambda *args: made.append(1) or real(*args))
    client = app.test_client()
    first = client.get("/files/photo.jpg/thumbnail")
    second = client.get("/files/photo.jpg/thumbnail")
    assert first.status_code == second.status_code == 200 and first.data == second.data
    assert len(made) == 1
    (kept,) = kept_variants(app, "photo.jpg")
    assert kept.startswith("thumbnail-")


def test_a_png_with_transparency_gives_a_png_variant(app):
    store(app, "logo.png", png((600, 300)))
    answer = app.test_client().get("/files/logo.png/thumbnail")
    assert answer.mimetype == "image/png" and opened(answer.data).size == (240, 120)
    assert answer.headers["Content-Disposition"] == "inline; filename=logo-thumbnail.png"


def test_the_variants_setting_names_the_sizes(make_app):
    app = make_app(DROPZONE_VARIANTS={"small": {"width": 32, "height": 32}})
    dropzone = app.extensions["dropzone"]

    @app.get("/files/<name>/<variant>")
    def variant(name, variant):
        return dropzone.send_stored(name, variant=variant)

    write(app, "photo.jpg", jpeg())
    client = app.test_client()
    assert opened(client.get("/files/photo.jpg/small").data).size == (32, 16)
    assert client.get("/files/photo.jpg/thumbnail").status_code == 404


def write(app, name: str, data: bytes) -> None:
    """A file stored by hand in the app's upload folder."""
    os.makedirs(uploads(app), exist_ok=True)
    with open(os.path.join(uploads(app), name), "wb") as file:
        file.write(data)


def test_a_bad_variants_setting_fails_at_start_up_naming_it(make_app):
    with pytest.raises(SettingError, match=r"DROPZONE_VARIANTS\['thumbnail'\]: width and height"):
        make_app(DROPZONE_VARIANTS={"thumbnail": {"width": -1, "height": 10}})


@pytest.mark.parametrize(
    "url",
    [
        "/files/photo.jpg/poster",  # no such variant
        "/files/notes.txt/thumbnail",  # no image
        "/files/missing.jpg/thumbnail",
        "/files/.dropzone-variants/thumbnail",
    ],
)
def test_an_unknown_variant_a_non_image_or_no_file_is_a_plain_404(app, url):
    store(app, "photo.jpg", jpeg())
    store(app, "notes.txt", b"hello\n")
    answer = app.test_client().get(url)
    assert answer.status_code == 404 and answer.mimetype == "text/plain"
    assert answer.get_data(as_text=True) == "There is no such file."


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_image_is_a_quick_404_and_keeps_nothing(app, kind):
    name = store(app, f"{kind}.png", HOSTILE[kind])
    answer = app.test_client().get(f"/files/{name}/thumbnail")
    assert answer.status_code == 404 and answer.mimetype == "text/plain"
    assert kept_variants(app, name) == []
    assert app.test_client().get(f"/files/{name}").status_code == 200  # the file stays


def test_a_cmyk_jpeg_gives_a_variant(app):
    store(app, "print.jpg", jpeg((300, 300), color=(0, 255, 255, 0), mode="CMYK"))
    answer = app.test_client().get("/files/print.jpg/thumbnail")
    assert answer.status_code == 200 and opened(answer.data).mode == "RGB"


def test_variants_are_never_listed_nor_reached_by_a_name(app):
    store(app, "photo.jpg", jpeg())
    client = app.test_client()
    assert client.get("/files/photo.jpg/thumbnail").status_code == 200
    (kept,) = kept_variants(app, "photo.jpg")
    with app.test_request_context():
        dropzone = app.extensions["dropzone"]
        assert [saved.stored_name for saved in dropzone.stored_files()] == ["photo.jpg"]
    assert client.get(f"/files/{kept}").status_code == 404
    store(app, kept, b"a person's file\n")  # a user's file of that name is its own
    assert client.get(f"/files/{kept}").data == b"a person's file\n"
    assert client.get("/files/photo.jpg/thumbnail").mimetype == "image/jpeg"


def test_deleting_a_file_deletes_its_variants(app):
    store(app, "photo.jpg", jpeg())
    client = app.test_client()
    assert client.get("/files/photo.jpg/thumbnail").status_code == 200
    assert kept_variants(app, "photo.jpg")
    with app.test_request_context():
        assert app.extensions["dropzone"].delete_stored("photo.jpg") is True
    assert kept_variants(app, "photo.jpg") == []
    assert not os.path.exists(os.path.join(uploads(app), ".dropzone-variants"))
    store(app, "photo.jpg", png((50, 50), "RGB", (0, 0, 255)))  # stored again: a new variant
    assert client.get("/files/photo.jpg/thumbnail").mimetype == "image/jpeg"
    assert opened(client.get("/files/photo.jpg/thumbnail").data).size == (50, 50)


def test_deleting_from_a_remove_link_deletes_the_variants(make_app):
    app = variants_app(make_app, DROPZONE_DELETE_ON_REMOVE=True)
    dropzone = app.extensions["dropzone"]
    client = app.test_client()
    client.get("/")  # a session
    answer = client.post("/upload", data={"file": (io.BytesIO(jpeg()), "photo.jpg")})
    (entry,) = json.loads(answer.headers["X-Dropzone-Delete"])
    with app.test_request_context():
        dropzone.send_stored("photo.jpg", variant="thumbnail").close()
    assert kept_variants(app, "photo.jpg")
    assert client.post("/dropzone/delete", data={"token": entry["token"]}).status_code == 200
    assert kept_variants(app, "photo.jpg") == []


def test_without_pillow_the_app_starts_with_a_hint_and_variants_are_404(
    make_app, monkeypatch, caplog
):
    photo = jpeg()
    monkeypatch.setitem(sys.modules, "PIL", None)
    with caplog.at_level(logging.WARNING, "flask_dropzone"):
        app = make_app()
    assert "pip install 'flask-dropzone[images]'" in caplog.text
    write(app, "photo.jpg", photo)
    client = app.test_client()

    @app.get("/t")
    def thumbnail():
        return app.extensions["dropzone"].send_stored("photo.jpg", variant="thumbnail")

    answer = client.get("/t")
    assert answer.status_code == 404 and answer.mimetype == "text/plain"


def test_no_hint_when_no_variants_are_set(make_app, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with caplog.at_level(logging.WARNING, "flask_dropzone"):
        make_app(DROPZONE_VARIANTS={})
    assert "Pillow" not in caplog.text


# Existing files' thumbnails ---------------------------------------------------------------


def test_an_existing_image_in_a_zone_gets_a_thumbnail_for_its_client_only(app):
    store(app, "photo.jpg", jpeg((400, 200)))
    store(app, "notes.txt", b"notes\n")
    client = app.test_client()
    config = zone_config(client.get("/zone").get_data(as_text=True))
    photo, notes, own = config["existing"]
    assert "thumbnail" not in notes and own["thumbnail"] == "/own-thumbnail.png"
    assert photo["thumbnail"].startswith("/dropzone/thumbnail?t=")
    answer = client.get(photo["thumbnail"])
    assert answer.status_code == 200 and opened(answer.data).size == (240, 120)
    other = app.test_client()
    other.get("/zone")  # a client of its own
    refused = other.get(photo["thumbnail"])
    assert refused.status_code == 404 and refused.mimetype == "text/plain"
    assert app.test_client().get(photo["thumbnail"]).status_code == 404  # no client at all


def test_an_existing_thumbnail_is_of_the_file_signed_not_one_stored_since(app):
    store(app, "photo.jpg", jpeg())
    client = app.test_client()
    (photo, *_) = zone_config(client.get("/zone").get_data(as_text=True))["existing"]
    with app.test_request_context():
        app.extensions["dropzone"].delete_stored("photo.jpg")
    store(app, "photo.jpg", jpeg((100, 100)))
    assert client.get(photo["thumbnail"]).status_code == 404


def test_an_existing_thumbnail_expires_with_the_pages_signed_values(app, monkeypatch):
    store(app, "photo.jpg", jpeg())
    client = app.test_client()
    (photo, *_) = zone_config(client.get("/zone").get_data(as_text=True))["existing"]
    app.config["DROPZONE_CHUNK_EXPIRES"] = 1
    import time

    later = time.time() + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(photo["thumbnail"]).status_code == 404


def test_no_default_thumbnail_without_a_thumbnail_variant(make_app):
    app = make_app(DROPZONE_VARIANTS={"small": {"width": 10, "height": 10}})
    with app.test_request_context():
        html = str(app.extensions["dropzone"].config(existing=[{"name": "photo.jpg"}]))
    assert "thumbnail" not in zone_config(html)["existing"][0]


def test_a_form_fields_existing_images_get_thumbnails(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    write(app, "sea.jpg", jpeg((300, 600)))
    location = os.path.join(uploads(app), "sea.jpg")
    photo = SavedFile("Sea.jpg", "sea.jpg", None, 3, "image/jpeg", location)

    @app.route("/edit")
    def edit():
        form = PostForm(data={"photos": [photo]})
        return render_template_string(PAGE, form=form)

    client = app.test_client()
    (entry,) = zone_config(client.get("/edit").get_data(as_text=True))["existing"]
    answer = client.get(entry["thumbnail"])
    assert answer.status_code == 200 and opened(answer.data).size == (120, 240)
    assert app.test_client().get(entry["thumbnail"]).status_code == 404


def test_clean_removes_the_variants_no_request_would_send(app):
    """A file removed outside the extension, one stored again, a box changed: their old
    variants go with ``flask dropzone clean``; the variants of today's files stay."""
    client = app.test_client()
    for name in ("kept.jpg", "gone.jpg", "again.jpg"):
        store(app, name, jpeg((400, 200)))
        assert client.get(f"/files/{name}/thumbnail").status_code == 200
    os.remove(os.path.join(uploads(app), "gone.jpg"))  # as a 2.0.0 view deletes
    os.remove(os.path.join(uploads(app), "again.jpg"))
    store(app, "again.jpg", jpeg((300, 300)))  # the same name, another file
    assert client.get("/files/again.jpg/thumbnail").status_code == 200
    kept = kept_variants(app, "kept.jpg")
    assert len(kept_variants(app, "again.jpg")) == 2

    result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert result.exit_code == 0, result.output
    assert "2 stale variants" in result.output
    assert kept_variants(app, "kept.jpg") == kept
    assert kept_variants(app, "gone.jpg") == []
    assert len(kept_variants(app, "again.jpg")) == 1
    assert client.get("/files/again.jpg/thumbnail").status_code == 200

    app.config["DROPZONE_VARIANTS"] = {"thumbnail": {"width": 100, "height": 100}}
    result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert "2 stale variants" in result.output  # made for a box the app no longer has
    assert kept_variants(app, "kept.jpg") == [] and sorted(os.listdir(uploads(app))) == [
        "again.jpg",
        "kept.jpg",
    ]
