"""Hostile messages and ids reach the page as text: shown literally, never run."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string

from support.browser import drop_files, error_messages, wait_settled

PAYLOAD = '"\'`${window.__pwned=1}</script><img src=x onerror="window.__pwned=1"><b>bold</b>'
ZONE_ID = "zone \"'<x>`${1}"

PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action='upload', id=zone_id) }}
{{ dropzone.load_js() }}
{{ dropzone.config(id=zone_id, default_message=payload, invalid_file_type=payload,
                   remove_file=payload, cancel_upload=payload, allowed_file_type='image',
                   redirect_url='javascript:window.__pwned=1', custom_options='addRemoveLinks: true,') }}
</body></html>"""


@pytest.fixture
def hostile_app(make_app):
    return lambda: with_hostile_page(make_app(SECRET_KEY=None))


def with_hostile_page(app: Flask) -> Flask:

    @app.route("/")
    def index():
        return render_template_string(PAGE, payload=PAYLOAD, zone_id=ZONE_ID)

    @app.route("/upload", methods=["POST"])
    def upload():
        return ""

    return app


def test_hostile_messages_and_ids_render_literally_and_run_nothing(page, serve, hostile_app):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    server = serve(hostile_app())
    page.goto(server.url + "/")
    zone = page.locator(".dropzone")
    assert zone.get_attribute("id") == ZONE_ID
    assert page.evaluate("id => !!document.getElementById(id).dropzone", ZONE_ID)
    assert zone.locator(".dz-message").text_content() == PAYLOAD
    drop_files(page, ZONE_ID, [("notes.txt", b"refused by type")])
    wait_settled(page, ZONE_ID, 1)
    assert error_messages(page, ZONE_ID) == [PAYLOAD]
    assert zone.locator(".dz-remove").text_content() == PAYLOAD
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x], b").count() == 0
    assert dialogs == []


def test_javascript_redirect_url_is_not_followed(page, serve, hostile_app):
    server = serve(hostile_app())
    page.goto(server.url + "/")
    from support.browser import png

    drop_files(page, ZONE_ID, [("ok.png", png())])
    wait_settled(page, ZONE_ID, 1)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert any("refusing to redirect" in message for message in page.console_errors)
