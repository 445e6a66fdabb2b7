"""send_stored() in Chromium: an uploaded SVG or HTML page never runs, however it is opened
or embedded; a raster image is shown."""

from __future__ import annotations

import pytest
from flask import Flask, request
from markupsafe import escape
from playwright.sync_api import Error as PlaywrightError

from support.browser import png

# Sets a flag on the page that embeds it and the title of any document it becomes.
PWN = "document.title='pwned'; try { top.__pwned = (top.__pwned || 0) + 1 } catch (e) {}"
EVIL_SVG = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50" onload="{PWN}">'
    f"<script>{PWN}</script><rect width='50' height='50'/></svg>"
).encode()
EVIL_HTML = (
    f'<!doctype html><title>page</title><body onload="{PWN}"><script>{PWN}</script>'.encode()
)

HOST = """<!doctype html><title>host</title>
<iframe src="/files/{name}"></iframe>
<img src="/files/{name}">
<object data="/files/{name}"></object>
<embed src="/files/{name}">
<iframe srcdoc="<script>parent.__srcdoc = 1</script>"></iframe>
"""


@pytest.fixture
def serving_app(make_app):
    return lambda folder: with_serving_views(make_app(DROPZONE_UPLOAD_FOLDER=str(folder)))


def with_serving_views(app: Flask) -> Flask:
    dropzone = app.extensions["dropzone"]

    @app.get("/files/<name>")
    def files(name):
        return dropzone.send_stored(name)

    @app.get("/host/<name>")
    def host(name):
        return HOST.format(name=name)

    @app.get("/picture")
    def picture():  # a page showing an image, from this origin or another
        return f'<!doctype html><title>picture</title><img id="picture" src="{escape(request.args["src"])}">'

    return app


@pytest.fixture
def stored(tmp_path, serve, serving_app):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "evil.svg").write_bytes(EVIL_SVG)
    (folder / "evil.html").write_bytes(EVIL_HTML)
    (folder / "svg-named.png").write_bytes(EVIL_SVG)  # what a name alone would call a picture
    (folder / "photo.png").write_bytes(png(16, 12))
    return serve(serving_app(folder))


@pytest.mark.parametrize("name", ["evil.svg", "evil.html", "svg-named.png"])
def test_opening_an_uploaded_document_downloads_it_and_runs_nothing(page, stored, name):
    page.goto(stored.url + "/host/x")  # a page of the app's origin, where the file would run
    with page.expect_download() as download:
        try:
            page.goto(stored.url + "/files/" + name)
        except PlaywrightError as error:  # a navigation that became a download
            assert "Download is starting" in error.message
    assert download.value.suggested_filename == name
    page.wait_for_timeout(300)
    assert page.title() != "pwned"
    assert page.evaluate("window.__pwned") is None


@pytest.mark.parametrize("name", ["evil.svg", "evil.html", "svg-named.png"])
def test_embedding_an_uploaded_document_runs_nothing(page, stored, name):
    page.goto(stored.url + f"/host/{name}")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__srcdoc") == 1  # the page's own frames do run
    assert page.evaluate("window.__pwned") is None
    assert page.title() == "host"
    for frame in page.frames:
        try:
            assert frame.evaluate("document.title") != "pwned"
        except PlaywrightError:
            pass  # a frame that became a download has no document left


def test_a_png_opened_directly_is_shown(page, stored):
    response = page.goto(stored.url + "/files/photo.png")
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == "inline; filename=photo.png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    page.wait_for_function("document.images.length === 1 && document.images[0].complete")
    assert page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]") == [
        16,
        12,
    ]
    assert not [
        message for message in page.console_errors if "style" in message
    ]  # the image page's own style


def test_a_png_shows_in_the_apps_pages_but_not_in_other_sites(page, stored):
    picture = "document.getElementById('picture')"
    page.goto(stored.url + "/picture?src=" + stored.url + "/files/photo.png")
    page.wait_for_function(f"{picture}.complete")
    assert page.evaluate(f"{picture}.naturalWidth") == 16
    other_site = stored.url.replace("127.0.0.1", "localhost")  # another origin and site
    page.goto(other_site + "/picture?src=" + stored.url + "/files/photo.png")
    page.wait_for_function(f"{picture}.complete")
    assert (
        page.evaluate(f"{picture}.naturalWidth") == 0
    )  # Cross-Origin-Resource-Policy: same-origin
