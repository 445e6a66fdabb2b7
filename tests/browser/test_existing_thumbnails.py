"""Existing files shown again, in Chromium under a strict Content-Security-Policy (no inline
script; pictures from the app itself and, on S3, the bucket's origin only): a zone's
``existing=`` images and a form field's files from ``data=`` show their thumbnails, which the
extension sends to the client the page was made for, and to no other."""

from __future__ import annotations

import io

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm

from flask_dropzone.forms import DropzoneField

from support.apps import STORES
from support.browser import violations
from support.images import TURNED, jpeg, png

ZONE = """<!doctype html><html lang="en"><head><title>Album</title>{{ dropzone.load_css() }}</head>
<body><main>{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}
{{ dropzone.config(existing=existing) }}</main></body></html>"""
FORM = """<!doctype html><html lang="en"><head><title>Edit</title>{{ dropzone.load_css() }}</head>
<body><main><form method="post">{{ form.photos() }}</form>{{ dropzone.load_js() }}</main></body></html>"""
PICTURES = "#{} .dz-image img"


class EditForm(FlaskForm):
    photos = DropzoneField("Photos", allowed_file_type="web_image")


def album(app: Flask) -> Flask:
    """Two photos stored, a zone and a form field showing them again, under a strict policy."""
    dropzone = app.extensions["dropzone"]
    with app.app_context():
        origin = dropzone.storage_origin()
    policy = f"default-src 'self'; img-src 'self'{' ' + origin if origin else ''}"

    @app.post("/upload")
    def upload():
        return dropzone.answer(dropzone.save())

    @app.get("/album")
    def zone():
        return render_template_string(ZONE, existing=app.shown)  # type: ignore[attr-defined]

    @app.get("/edit")
    def edit():
        form = EditForm(data={"photos": app.shown})  # type: ignore[attr-defined]
        return render_template_string(FORM, form=form)

    @app.after_request
    def strict(response):
        response.headers["Content-Security-Policy"] = policy
        return response

    client = app.test_client()
    for name, data in (
        ("sea.jpg", jpeg((400, 200), orientation=TURNED)),
        ("logo.png", png((600, 300))),
    ):
        answer = client.post("/upload", data={"file": (io.BytesIO(data), name)})
        assert answer.status_code == 200, answer.get_data(as_text=True)
    with app.test_request_context():
        app.shown = dropzone.stored_files()  # type: ignore[attr-defined]
    return app


def drawn(page, zone: str) -> list[list]:
    selector = PICTURES.format(zone)
    page.wait_for_function(
        f"Array.from(document.querySelectorAll({selector!r})).length === 2 && "
        f"Array.from(document.querySelectorAll({selector!r})).every(i => i.complete)"
    )
    return page.evaluate(
        f"Array.from(document.querySelectorAll({selector!r}), "
        "i => [i.naturalWidth, i.naturalHeight, i.getAttribute('src')])"
    )


@pytest.mark.parametrize("storage", STORES)
@pytest.mark.parametrize(("path", "zone"), [("/album", "myDropzone"), ("/edit", "photos")])
def test_existing_images_show_their_thumbnails_to_their_client_only(
    page, browser, serve, make_app, storage, path, zone
):
    server = serve(album(make_app(storage, WTF_CSRF_ENABLED=False)))
    page.goto(server.url + path)
    pictures = drawn(page, zone)
    assert [(width, height) for width, height, _ in pictures] == [(240, 120), (120, 240)]
    assert all("/dropzone/thumbnail?t=" in src for _, _, src in pictures), pictures
    assert violations(page) == []
    other = browser.new_context().new_page()
    other.goto(server.url + path)  # a page, and a client, of its own
    status = other.evaluate("(url) => fetch(url).then(answer => answer.status)", pictures[0][2])
    assert status == 404
    other.context.close()
